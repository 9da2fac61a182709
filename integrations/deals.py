"""Deal registrations ↔ Salesforce Opportunity (issue 17): the CAM sees in Salesforce the deals partners register in the
portal, decides them there, and each deal has the same status in both systems.

Decisions:
- Push (PRM → CRM), from the outbox's deal events (subject "deal"): a registration once submitted — never a draft,
  which is private to its partner — is upserted as an Opportunity on PRM_Deal_Id__c = str(registration id) (then on
  its Id, once linked), through the generic ``push_batch``: the mapped fields (default FieldMapping rows, editable by
  an admin, who may add others) are sent only when changed since the last agreed value (hashes), plus fixed fields
  from ``_extras``: AccountId (the partner's Account, from its ExternalRef), Name "DR-000123 Company", and two
  overrides: StageName "Closed Won" (won) / "Closed Lost" (lost, rejected, expired — a registration the vendor
  refused or let lapse is no open pipeline in the CRM), and CloseDate, which Salesforce requires, = the submitted
  date + 90 days when the registration has no expected close (submitting requires one, so that is rare).
- A registration whose partner has no Account linked yet is skipped and logged (PARTNER_NOT_LINKED); it is pushed on
  its next deal event (the partner's own sync does not re-push its deals).
- Pull (CRM → PRM), ``pull_deals``: only Opportunities linked to a registration (an ExternalRef, or PRM_Deal_Id__c
  naming one) are read; the others are counted as skipped. What the CAM changed goes through ONE service,
  ``portal.deal_services.deals_sync_apply`` (PRM's rules, no PRM user: "Salesforce" is shown as who did it):
  PRM_Registration_Status__c → Approved / Rejected / Returned is a decision (reason: PRM_Decision_Reason__c when it
  is new, else "Decided in Salesforce"), Won / Lost a close; StageName "Closed Won" → won (lead converted), "Closed
  Lost" → lost (lead lost with the reason, default "Closed lost in Salesforce"), an open StageName → the stage;
  Amount / CloseDate (and any mapped field of SYNC_FIELDS) → the registration, per the mapping's conflict rule
  (``sync.decide`` against the per-field hashes).
- A change PRM does not allow (Approved on a rejected registration, anything on a draft, Closed Won on a submitted
  one, a stage on a closed one) is logged INVALID_VALUE naming the Opportunity, the registration and both statuses;
  nothing is written for that registration, the rest of the page is applied. The hashes of what it asked are dropped,
  so PRM's values are sent again with the registration's next deal event (not at once: no event is made up for a
  change that did not happen).
- No echo: a value equal to the last agreed hash is not applied on pull nor sent on push. StageName is compared with
  what PRM would send (``stage_name``): the closed values carry no hash of their own. A step pulled from the CRM whose
  StageName is not the one PRM shows for the new status (rejected while the Opportunity is still at "Qualification";
  closed won through StageName while the status still says Approved) makes the next push send PRM's StageName /
  status: a derived value, not an echo of what the CAM wrote.
- An Opportunity deleted in the CRM changes nothing in PRM (the registration is business history): its ExternalRef is
  marked deleted (a later push of it is refused by Salesforce, ENTITY_IS_DELETED, and logged).
"""

from dataclasses import replace
from datetime import datetime, timedelta

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from integrations.models import ExternalRef, FieldMapping, SyncLog, SyncObject
from integrations.sync import (
    Context,
    Counts,
    ObjectSpec,
    decide,
    parse_records,
    push_batch,
    refs_upsert,
    to_local,
    value_hash,
    value_map_of,
)
from portal.deal_services import DealSyncChange, crm_reason, deals_sync_apply
from portal.models import DealRegistration

Status, Stage = DealRegistration.Status, DealRegistration.Stage
VIA = "Salesforce"
DECIDED = f"Decided in {VIA}"
CLOSED_LOST_REASON = f"Closed lost in {VIA}"
CLOSE_AFTER = timedelta(days=90)  # CloseDate of a registration without an expected close: submitted + 90 days
STAGE_NAMES = {Stage.QUALIFYING: "Qualification", Stage.PROPOSAL: "Proposal/Price Quote",
               Stage.NEGOTIATION: "Negotiation/Review"}
CLOSED_WON, CLOSED_LOST = "Closed Won", "Closed Lost"
CLOSED_STAGES = {Status.WON: CLOSED_WON, Status.LOST: CLOSED_LOST, Status.REJECTED: CLOSED_LOST,
                 Status.EXPIRED: CLOSED_LOST}
# PRM_Registration_Status__c's picklist values.
STATUS_LABELS = {Status.DRAFT: "Draft", Status.SUBMITTED: "Submitted", Status.RETURNED: "Returned",
                 Status.APPROVED: "Approved", Status.REJECTED: "Rejected", Status.WON_PENDING: "Won pending",
                 Status.WON: "Won", Status.LOST: "Lost", Status.EXPIRED: "Expired"}
PLAIN_FIELDS = ("amount", "expected_close", "notes")  # mapped fields applied as they are (stage and status: steps)
D, A = FieldMapping.Direction, FieldMapping.ApplyOn


def stage_name(status: str, stage: str, names: dict[str, str] | None = None) -> str:
    """The StageName PRM shows for a registration (``names``: the connection's open stage names, default
    STAGE_NAMES)."""
    return CLOSED_STAGES.get(status) or (names or STAGE_NAMES)[stage]


# --- Push --------------------------------------------------------------------------------------------------------------


def push_deals(ctx: Context, deal_ids: list[int], counts: Counts, send) -> None:
    """Push these registrations (drafts left out) with ``push_batch``; the fixed fields come from ``_extras``, and a
    registration whose partner is not linked to an Account is logged, not sent. One query besides push_batch's."""
    account = ExternalRef.objects.filter(connection=ctx.connection, object=SyncObject.ACCOUNT,
                                         local_id=OuterRef("partner_id"), deleted_remotely=False).values("remote_id")[:1]
    rows = list(DealRegistration.objects.filter(pk__in=deal_ids).exclude(status=Status.DRAFT)
                .annotate(remote_account=Subquery(account))
                .values("pk", "partner_id", "company", "status", "submitted_at", "expected_close", "remote_account"))
    counts.skipped += len(set(deal_ids)) - len(rows)  # drafts (no event names one) or deleted
    extras: dict[int, dict] = {}
    for row in rows:
        if not row["remote_account"]:
            counts.fail(ctx, str(row["pk"]), "out", "PARTNER_NOT_LINKED",
                        f"DR-{row['pk']:06d}: partner {row['partner_id']} is not linked to a CRM Account yet; the "
                        "registration is pushed with its next change.")
            continue
        extras[row["pk"]] = _extras(row)
    if extras:
        spec = replace(ctx.spec, push_extra=lambda _ctx, _rows: extras)
        push_batch(replace(ctx, spec=spec), sorted(extras), counts, send)
    SyncLog.objects.bulk_create(counts.logs)  # push_batch writes them only when it sent something
    counts.logs.clear()


def _extras(row: dict) -> dict:
    extra = {"AccountId": row["remote_account"], "Name": f"DR-{row['pk']:06d} {row['company']}"[:120]}
    if row["status"] in CLOSED_STAGES:
        extra["StageName"] = CLOSED_STAGES[row["status"]]
    if row["expected_close"] is None:
        submitted = timezone.localdate(row["submitted_at"]) if row["submitted_at"] else timezone.localdate()
        extra["CloseDate"] = (submitted + CLOSE_AFTER).isoformat()
    return extra


# --- Pull --------------------------------------------------------------------------------------------------------------


def pull_deals(ctx: Context, records: list[dict], counts: Counts) -> tuple[datetime, str] | None:
    """Apply one page of Opportunities (see the module's decisions). Queries: refs, registrations named by
    PRM_Deal_Id__c already linked elsewhere (when any), the registrations, ``deals_sync_apply`` (when anything
    changed: 1 + 3 for any number of field changes, plus each status step's own), 1 refs upsert."""
    spec = ctx.spec
    inbound = {m.local_field: m for m in ctx.mappings if m.direction in (D.IN, D.BOTH)}
    parsed, last_cursor = parse_records(ctx, records, counts)
    refs = {ref.remote_id: ref for ref in ExternalRef.objects.filter(
        connection=ctx.connection, object=spec.object, remote_id__in=[p[0] for p in parsed])}
    keyed = {}
    for remote_id, _modified, record in parsed:
        key = str(record.get(spec.external_id_field) or "")
        if remote_id not in refs and key.isdigit() and len(key) < 19:
            keyed[remote_id] = int(key)
    taken = set(ExternalRef.objects.filter(connection=ctx.connection, object=spec.object,
                                           local_id__in=set(keyed.values())).values_list("local_id", flat=True)
                ) if keyed else set()
    fields = sorted(name for name in inbound if name in PLAIN_FIELDS)
    local = {row["pk"]: row for row in DealRegistration.objects.filter(
        pk__in={ref.local_id for ref in refs.values()} | set(keyed.values())
    ).values("pk", "status", "stage", "updated_at", *fields)}

    changes: list[DealSyncChange] = []
    asked: dict[int, tuple[str, set[str], dict]] = {}  # pk → (remote id, the fields it asks, synced before)
    out: dict[str, tuple[int, datetime, dict, bool]] = {}  # remote id → (pk, modified, synced, deleted)
    for remote_id, modified, record in parsed:
        ref = refs.get(remote_id)
        if record.get("IsDeleted"):
            counts.skipped += 1
            if ref is not None and not ref.deleted_remotely:
                out[remote_id] = (ref.local_id, modified, ref.synced, True)
            continue
        pk = ref.local_id if ref else keyed.get(remote_id)
        if ref is None and pk is not None and (pk in taken or pk in asked or any(v[0] == pk for v in out.values())):
            counts.fail(ctx, remote_id, "in", "DUPLICATE_VALUE",
                        f"{spec.external_id_field} {pk} names a registration already linked to another Opportunity")
            continue
        current = local.get(pk) if pk is not None else None
        if current is None:
            counts.skipped += 1  # not a registration of ours: not brought in
            continue
        synced = dict(ref.synced) if ref else {}
        try:
            change, agreed = _read(spec, inbound, record, current, synced, modified, first=ref is None)
        except ValueError as exc:
            counts.fail(ctx, remote_id, "in", "MALFORMED_RECORD", str(exc))
            continue
        if change is None:
            counts.skipped += 1
        else:
            changes.append(change)
            wanted = set(change.fields) | ({"status", "stage"} if change.steps else set())
            asked[pk] = (remote_id, wanted, synced)
        out[remote_id] = (pk, modified, agreed, False)

    if changes:
        result = deals_sync_apply(changes=changes, via=VIA)
        for pk, message in result.errors.items():
            remote_id, wanted, synced = asked[pk]
            counts.fail(ctx, remote_id, "in", "INVALID_VALUE", f"Opportunity {remote_id}: {message}")
            # Nothing written: forget the agreed values it asked about, so PRM's are sent with the next push.
            out[remote_id] = (pk, out[remote_id][1], {k: v for k, v in synced.items() if k not in wanted}, False)
        counts.updated += len(result.applied)
    now = timezone.now()
    refs_upsert(
        [ExternalRef(connection=ctx.connection, object=spec.object, local_id=pk, remote_id=remote_id,
                     remote_modified_at=modified, synced=synced, values_hash=value_hash(sorted(synced.items())),
                     deleted_remotely=deleted, updated_at=now)
         for remote_id, (pk, modified, synced, deleted) in out.items()],
        update=["local_id", "remote_modified_at", "synced", "values_hash", "deleted_remotely", "updated_at"],
    )
    return last_cursor


def _read(spec: ObjectSpec, inbound: dict[str, FieldMapping], record: dict, current: dict, synced: dict,
          modified: datetime, *, first: bool) -> tuple[DealSyncChange | None, dict]:
    """What ``record`` asks of the registration ``current`` (None: nothing), and the per-field hashes both sides
    will hold once it is applied. ValueError: a value with no PRM equivalent."""
    agreed = dict(synced)
    fields: dict[str, object] = {}
    steps: list[str] = []

    def raw(mapping: FieldMapping) -> object:
        return mapping.fixed_value if mapping.fixed_value is not None else record.get(mapping.remote_field)

    def changed(name: str, value: object) -> bool:
        if decide(inbound[name], remote_value=value, local_value=current[name], last=synced.get(name),
                  remote_at=modified, local_at=current["updated_at"]):
            agreed[name] = value_hash(value)
            return True
        if value_hash(value) == value_hash(current[name]):
            agreed[name] = value_hash(value)
        return False

    for name in PLAIN_FIELDS:
        mapping = inbound.get(name)
        if mapping is None or mapping.apply_on == A.CREATE or (mapping.apply_on == A.FIRST_SYNC and not first):
            continue
        value = to_local(spec, name, raw(mapping), value_map_of(spec, mapping))
        if changed(name, value):
            fields[name] = value
    if "status" in inbound and raw(inbound["status"]) not in (None, ""):
        status = to_local(spec, "status", raw(inbound["status"]), value_map_of(spec, inbound["status"]))
        if changed("status", status):
            steps.append(status)
    names = value_map_of(spec, inbound["stage"]) if "stage" in inbound else None
    if "stage" in inbound and raw(inbound["stage"]) not in (None, ""):
        name = raw(inbound["stage"])
        if name in (CLOSED_WON, CLOSED_LOST):
            close = Status.WON if name == CLOSED_WON else Status.LOST
            shown = stage_name(steps[-1] if steps else current["status"], current["stage"], names)
            if close not in steps and shown != name:
                steps.append(close)
        elif changed("stage", stage := to_local(spec, "stage", name, names)):
            fields["stage"] = stage
    if not steps and not fields:
        return None, agreed
    reason = ""
    if steps:
        if names is not None and stage_name(steps[-1], fields.get("stage", current["stage"]), names) != raw(
                inbound["stage"]):
            agreed.pop("stage", None)  # e.g. rejected with an open StageName: PRM's "Closed Lost" is sent next push
        text = record.get("PRM_Decision_Reason__c")
        if value_hash(crm_reason(text, default="")) == synced.get("decision_reason"):
            text = ""  # the reason PRM already holds (an earlier decision's): not this step's
        decision = any(step in (Status.APPROVED, Status.REJECTED, Status.RETURNED) for step in steps)
        reason = crm_reason(text, default=DECIDED if decision else CLOSED_LOST_REASON)
        if decision:
            agreed["decision_reason"] = value_hash(reason)
    return DealSyncChange(registration_id=current["pk"], steps=tuple(steps), reason=reason, fields=fields), agreed


DEAL = ObjectSpec(
    object=SyncObject.DEAL, remote="Opportunity", external_id_field="PRM_Deal_Id__c", local_key="id", code_prefix="",
    local_fields=("status", "stage", "amount", "expected_close", "notes", "decision_reason"),
    decimal_fields=("amount",), date_fields=("expected_close",), model=DealRegistration, push_subject="deal",
    value_maps={"stage": {str(k): v for k, v in STAGE_NAMES.items()},
                "status": {str(k): v for k, v in STATUS_LABELS.items()}},
    remote_fields=("PRM_Decision_Reason__c",), apply=pull_deals, push=push_deals, create_locally=False,
    title_field="company", detail_url="deals:detail",
)
