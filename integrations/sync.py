"""The sync engine: what a page pulled from the CRM does to PRM, and what PRM pushes back.

Decisions:
- Objects are described by an ``ObjectSpec`` (remote sObject, the external-id field on the remote that holds our key,
  the local fields a mapping may name, the local model and the owner's writes). Mapped, both ways: partner ↔ Account
  and lead ↔ Lead (stage ↔ Status through ``value_maps``). The local rows are written only through the owning app's
  services (``partners.services.partners_sync_upsert`` / ``partners_sync_deactivate``, ``leads.services.
  leads_sync_upsert`` / ``leads_sync_lose``), set-based per page.
- A page is one transaction: the records it creates/changes, their ExternalRefs, the SyncLog rows of its failed
  records and the cursor (LastModifiedDate, Id) of its last record. A crash loses at most the page in flight, and the
  next run starts after the last committed page: nothing lost, nothing applied twice.
- Per field, ExternalRef.synced holds a hash of the value last agreed by both sides. On pull, a remote value equal to it
  is unchanged (or the echo of our own push) and is not written; on push, a local value equal to it is not sent. When
  both sides changed a field since, the mapping's conflict rule decides: PRM wins (kept, pushed next), CRM wins, CRM
  unless blank, latest change wins (remote LastModifiedDate against the partner's updated_at).
- ``apply_on``: "create" — only when the record is being created on the receiving side; "first_sync" — only when the
  two records are first linked; "update" — always. A fixed value replaces the sender's value.
- A record deleted in the CRM (``IsDeleted``, read with queryAll) marks the partner inactive with a reason: business
  history is never deleted.
- A mapping whose remote field the describe call does not list is dropped from the run and logged (INVALID_FIELD);
  the rest of the sync goes on.
- Pull-only objects (Update G2): products ← Product2, price books ← Pricebook2, price entries ← PricebookEntry. Their
  spec names fixed remote columns (``remote_fields``, no FieldMapping) and its own page function (``apply``), which
  writes through ``pricing.services`` (set-based per page: one ``products_upsert`` / one ``price_entries_upsert`` per
  book per page; books one by one, they are few). Same page transaction, cursor, ExternalRef and SyncLog as
  partners; a record deleted in the CRM deactivates the product / book / entry (nothing deleted). Pulled in the
  order of SPECS (products and books before the entries that name them).
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from integrations.connectors import PushResult, RemoteField, parse_datetime
from integrations.models import Connection, ExternalRef, FieldMapping, SyncCursor, SyncLog, SyncObject, SyncRun
from leads.models import Lead
from leads.services import leads_sync_lose, leads_sync_upsert
from partners.models import Partner, ProfileField
from partners.services import partners_sync_deactivate, partners_sync_upsert
from pricing.models import PriceBook, PriceEntry, Product, Source
from pricing.services import (
    price_book_upsert,
    price_entries_deactivate,
    price_entries_upsert,
    products_deactivate,
    products_upsert,
)
from prm import pg

DELETED_REASON = "Deleted in the CRM"


@dataclass(frozen=True)
class ObjectSpec:
    object: str
    remote: str
    external_id_field: str = ""
    local_key: str = ""
    local_fields: tuple[str, ...] = ()  # the fields a FieldMapping may name (none for pull-only objects)
    decimal_fields: tuple[str, ...] = ()
    code_prefix: str = "SF-"
    # Mapped (two-way) objects: the local model read, and the owner's set-based writes: ``upsert(rows, existing)`` →
    # an object with ``ids``, ``created``, ``errors`` (partners_sync_upsert's shape); ``deactivate(ids, reason)``.
    model: Any = None
    upsert: Callable[[dict, dict], Any] | None = None
    deactivate: Callable[[list[int], str], int] | None = None
    # local field → {local value: remote value} for a field whose values differ (a lead's stage ↔ Status).
    value_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    # Objects with their own page function (``apply``, instead of pull_page): the fixed remote columns they read
    # besides the mapped ones; pull-only objects (no ``push_subject``) read only these.
    remote_fields: tuple[str, ...] = ()
    apply: Callable[["Context", list[dict], "Counts"], tuple[datetime, str] | None] | None = None
    # Push: the outbox subject_type whose events name the records to push ("" = pull only); ``push`` replaces
    # push_batch(ctx, local ids, counts, send) for an object of another shape (contacts take partner ids);
    # ``push_extra(ctx, rows)`` → {local pk: remote fields} added to what push_batch sends (e.g. an AccountId).
    push_subject: str = ""
    push: Callable[["Context", list[int], "Counts", Callable], None] | None = None
    push_extra: Callable[["Context", list[dict]], dict[int, dict]] | None = None
    # False: a remote record that no local record is linked to (nor carries our key) is skipped, not created here
    # (an Opportunity that was never a deal registration).
    create_locally: bool = True
    date_fields: tuple[str, ...] = ()
    # True: a mapping may also name a configurable profile field of the partner, as "profile.<key>" (a CRM custom
    # field ↔ a PRM profile field, mapped in one step on the connection's page).
    profile_fields: bool = False
    # The local record as a mapping's preview shows it: its title column and the URL name of its page.
    title_field: str = "name"
    detail_url: str = ""

    @property
    def pull_only(self) -> bool:
        return not self.push_subject


ACCOUNT = ObjectSpec(
    object=SyncObject.ACCOUNT, remote="Account", external_id_field="PRM_Code__c", local_key="code",
    local_fields=("code", "name", "website", "notes", "business_potential"), decimal_fields=("business_potential",),
    model=Partner, upsert=lambda rows, existing: partners_sync_upsert(rows=rows, existing=existing), push_subject="partner",
    profile_fields=True, detail_url="partners:detail",
    deactivate=lambda ids, reason: partners_sync_deactivate(partner_ids=ids, reason=reason),
)
# Leads ↔ Lead: our lead id in the Lead's external-id field PRM_Lead_Id__c (a custom text field marked External ID);
# no key of ours is made up for a lead created in the CRM (its id is written back by the push). Stage ↔ Status by the
# Lead's standard picklist values, plus "Working - Qualified" (add it to the org's picklist). A Lead deleted in the
# CRM closes an open lead as lost.
LEAD_STATUSES = {
    Lead.Stage.NEW: "Open - Not Contacted", Lead.Stage.CONTACTED: "Working - Contacted",
    Lead.Stage.QUALIFIED: "Working - Qualified", Lead.Stage.WON: "Closed - Converted",
    Lead.Stage.LOST: "Closed - Not Converted",
}
LEAD = ObjectSpec(
    object=SyncObject.LEAD, remote="Lead", external_id_field="PRM_Lead_Id__c", local_key="id",
    local_fields=("name", "company", "email", "phone", "stage"), code_prefix="", model=Lead, push_subject="lead",
    detail_url="leads:detail",
    upsert=lambda rows, existing: leads_sync_upsert(rows=rows, existing=existing, reason="Closed in the CRM"),
    deactivate=lambda ids, reason: leads_sync_lose(lead_ids=ids, reason=reason),
    value_maps={"stage": {str(k): v for k, v in LEAD_STATUSES.items()}},
)

D, A, C = FieldMapping.Direction, FieldMapping.ApplyOn, FieldMapping.Conflict
# (object, local field, remote field, direction, apply on, conflict rule)
DEFAULT_MAPPINGS = [
    (SyncObject.ACCOUNT, "code", "PRM_Code__c", D.BOTH, A.CREATE, C.PRM_WINS),
    (SyncObject.ACCOUNT, "name", "Name", D.BOTH, A.UPDATE, C.LATEST_WINS),
    (SyncObject.ACCOUNT, "website", "Website", D.BOTH, A.UPDATE, C.CRM_UNLESS_BLANK),
    (SyncObject.ACCOUNT, "notes", "Description", D.IN, A.UPDATE, C.CRM_WINS),
    (SyncObject.LEAD, "name", "LastName", D.BOTH, A.UPDATE, C.LATEST_WINS),
    (SyncObject.LEAD, "company", "Company", D.BOTH, A.UPDATE, C.LATEST_WINS),
    (SyncObject.LEAD, "email", "Email", D.BOTH, A.UPDATE, C.LATEST_WINS),
    (SyncObject.LEAD, "phone", "Phone", D.BOTH, A.UPDATE, C.LATEST_WINS),
    (SyncObject.LEAD, "stage", "Status", D.BOTH, A.UPDATE, C.LATEST_WINS),
    # --- deals: deal registration ↔ Opportunity (integrations/deals.py). Status: the CRM's step is applied when PRM's
    # rules allow it (deals_sync_apply); the reason is PRM's, read from the CRM with a decision made there. ---
    (SyncObject.DEAL, "status", "PRM_Registration_Status__c", D.BOTH, A.UPDATE, C.CRM_WINS),
    (SyncObject.DEAL, "stage", "StageName", D.BOTH, A.UPDATE, C.LATEST_WINS),
    (SyncObject.DEAL, "amount", "Amount", D.BOTH, A.UPDATE, C.LATEST_WINS),
    (SyncObject.DEAL, "expected_close", "CloseDate", D.BOTH, A.UPDATE, C.LATEST_WINS),
    (SyncObject.DEAL, "decision_reason", "PRM_Decision_Reason__c", D.OUT, A.UPDATE, C.PRM_WINS),
    # --- end deals ---
]


PROFILE = "profile."


def profile_keys(spec: ObjectSpec) -> set[str]:
    """The keys of the partner's configurable profile fields a mapping of ``spec`` may name (one query; none when
    the object has no profile)."""
    return set(ProfileField.objects.values_list("key", flat=True)) if spec.profile_fields else set()


def mappable(spec: ObjectSpec, local_field: str, keys: set[str]) -> bool:
    """Whether a mapping of ``spec`` may name ``local_field`` (``keys``: profile_keys(spec))."""
    return local_field in spec.local_fields or (
        spec.profile_fields and local_field.startswith(PROFILE) and local_field[len(PROFILE):] in keys)


def local_columns(names) -> list[str]:
    """The columns to read for these local fields (a profile field is read from the ``profile`` JSON column)."""
    return sorted({"profile" if name.startswith(PROFILE) else name for name in names})


def local_value(row: dict, name: str) -> object:
    """A local field's value from a row read with local_columns (a profile value as text, "" when unset)."""
    if name.startswith(PROFILE):
        value = (row.get("profile") or {}).get(name[len(PROFILE):])
        return "" if value is None else str(value)
    return row[name]


def nest_profile(fields: dict[str, object]) -> dict[str, object]:
    """{"profile.a": 1, "name": …} → {"profile": {"a": 1}, "name": …}: what partners_sync_upsert takes."""
    if not any(name.startswith(PROFILE) for name in fields):
        return fields
    nested: dict[str, object] = {name: value for name, value in fields.items() if not name.startswith(PROFILE)}
    nested["profile"] = {name[len(PROFILE):]: value for name, value in fields.items() if name.startswith(PROFILE)}
    return nested


def value_hash(value: object) -> str:
    return hashlib.blake2b(json.dumps(_plain(value)).encode(), digest_size=8).hexdigest()


def _plain(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return str(value.normalize())
    return str(value) if not isinstance(value, str) else value


_REF_FIELDS = [f for f in ExternalRef._meta.concrete_fields if not f.primary_key]
REMOTE_KEY, LOCAL_KEY = ("connection_id", "object", "remote_id"), ("connection_id", "object", "local_id")


def refs_upsert(refs: list[ExternalRef], *, on: tuple[str, ...] = REMOTE_KEY, update: list[str]) -> None:
    """Insert these refs, or where one of the same ``on`` key exists, set its ``update`` columns (one statement per
    1,000; every pull page and push batch ends with it). Through ``prm.pg.insert_values``, not ``bulk_create``, whose
    per-value preparation cost more than the write itself."""
    rows = [[getattr(ref, f.attname) for f in _REF_FIELDS] for ref in refs]
    pg.insert_values(ExternalRef, [f.column for f in _REF_FIELDS], rows, conflict=on, update=update)


def value_map_of(spec: ObjectSpec, mapping: FieldMapping) -> dict[str, str] | None:
    """The PRM value → CRM value map of a mapped field: the spec's default (lead stage ↔ Status) with the
    connection's own values over it (FieldMapping.value_map, edited on the mapping's page); None for a plain field."""
    default = spec.value_maps.get(mapping.local_field)
    if default is None:
        return None
    return {**default, **{k: v for k, v in (mapping.value_map or {}).items() if k in default and v}}


def to_local(spec: ObjectSpec, name: str, value: object, value_map: dict[str, str] | None = None) -> object:
    value_map = value_map if value_map is not None else spec.value_maps.get(name)
    if value_map is not None:
        local = next((k for k, v in value_map.items() if v == value), None)
        if local is None:
            raise ValueError(f"{name}: {value!r} has no PRM equivalent (expected one of "
                             f"{', '.join(value_map.values())})")
        return local
    if name in spec.decimal_fields:
        if value in (None, ""):
            return None
        try:
            return Decimal(str(value))
        except InvalidOperation:
            raise ValueError(f"{name}: {value!r} is not a number") from None
    if name in spec.date_fields:
        if value in (None, ""):
            return None
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            raise ValueError(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from None
    if value is None:
        return ""
    if isinstance(value, dict | list):
        raise ValueError(f"{name}: a structured value where text was expected")
    return str(value)


def to_remote(value: object, value_map: dict[str, str] | None = None) -> object:
    if value_map is not None and value in value_map:
        return value_map[value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value if value != "" else None


@dataclass
class Counts:
    received: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: int = 0
    logs: list[SyncLog] = field(default_factory=list)

    def fail(self, ctx: "Context", record: str, direction: str, code: str, message: str) -> None:
        self.errors += 1
        self.logs.append(SyncLog(connection=ctx.connection, run=ctx.run, object=ctx.spec.object, record=record[:40],
                                 direction=direction, error_code=code[:60], message=message, at=timezone.now()))


@dataclass
class Context:
    connection: Connection
    run: SyncRun | None
    spec: ObjectSpec
    mappings: list[FieldMapping]


def usable_mappings(
    *, connection: Connection, spec: ObjectSpec, remote_fields: dict[str, RemoteField], run: SyncRun | None
) -> tuple[list[FieldMapping], list[SyncLog]]:
    """The connection's mappings of ``spec`` whose remote field exists (the others logged as INVALID_FIELD)."""
    usable, logs = [], []
    keys = profile_keys(spec)
    for mapping in connection.mappings.filter(object=spec.object):
        if mapping.remote_field in remote_fields and mappable(spec, mapping.local_field, keys):
            usable.append(mapping)
        else:
            where = "remote" if mapping.remote_field not in remote_fields else "local"
            logs.append(SyncLog(connection=connection, run=run, object=spec.object, record="", direction="in",
                                error_code="INVALID_FIELD", at=timezone.now(),
                                message=f"Mapping {mapping.local_field} ↔ {mapping.remote_field}: no {where} field "
                                        f"{mapping.remote_field if where == 'remote' else mapping.local_field}; "
                                        "skipped until the mapping is fixed."))
    return usable, logs


# --- Pull --------------------------------------------------------------------------------------------------------------


def decide(
    mapping: FieldMapping, *, remote_value: object, local_value: object, last: str | None, remote_at: datetime,
    local_at: datetime | None,
) -> bool:
    """Whether the remote value replaces the local one for an existing, linked record."""
    h_remote, h_local = value_hash(remote_value), value_hash(local_value)
    if h_remote == last or h_remote == h_local:
        return False  # unchanged remotely, an echo of our push, or already equal
    if last is None and h_local == value_hash(""):
        return True  # never synced and empty here (a field mapped since): filled from the CRM, nothing is lost
    local_changed = last is None or h_local != last
    if not local_changed:
        return True
    rule = mapping.conflict_rule
    if rule == C.PRM_WINS:
        return False
    if rule == C.CRM_WINS:
        return True
    if rule == C.CRM_UNLESS_BLANK:
        return value_hash(remote_value) not in (value_hash(""), value_hash(None))
    return local_at is None or remote_at >= local_at  # latest change wins


def parse_records(
    ctx: Context, records: list[dict], counts: Counts
) -> tuple[list[tuple[str, datetime, dict]], tuple[datetime, str] | None]:
    """(remote id, LastModifiedDate, record) of the well-formed records (the others logged), and the page's cursor."""
    parsed: list[tuple[str, datetime, dict]] = []
    last_cursor = None
    for record in records:
        counts.received += 1
        try:
            remote_id, modified = str(record["Id"]), parse_datetime(record["LastModifiedDate"])
            if not remote_id or len(remote_id) > 18:
                raise ValueError("bad Id")
        except (KeyError, TypeError, ValueError) as exc:
            counts.fail(ctx, str(record.get("Id", "") if isinstance(record, dict) else ""), "in", "MALFORMED_RECORD",
                        f"record without a valid Id/LastModifiedDate ({exc})")
            continue
        parsed.append((remote_id, modified, record))
        last_cursor = (modified, remote_id)
    return parsed, last_cursor


def pull_page(ctx: Context, records: list[dict], counts: Counts) -> tuple[datetime, str] | None:
    """Apply one page of remote records (in one transaction, with the cursor). Returns the page's last
    (LastModifiedDate, Id), to store as the cursor."""
    spec, connection = ctx.spec, ctx.connection
    inbound = [m for m in ctx.mappings if m.direction in (D.IN, D.BOTH)]
    parsed, last_cursor = parse_records(ctx, records, counts)
    refs = {ref.remote_id: ref for ref in ExternalRef.objects.filter(
        connection=connection, object=spec.object, remote_id__in=[p[0] for p in parsed])}
    # First sync of a record that carries our key: link it to that partner rather than create a second one.
    keys = {str(r.get(spec.external_id_field)) for rid, _m, r in parsed if rid not in refs and r.get(spec.external_id_field)}
    if spec.local_key == "id":
        keys = {key for key in keys if key.isdigit() and len(key) < 19}
    by_key = {str(key): pk for key, pk in spec.model.objects.filter(**{f"{spec.local_key}__in": keys})
              .values_list(spec.local_key, "pk")} if keys else {}
    linked_elsewhere = set(ExternalRef.objects.filter(connection=connection, object=spec.object,
                                                      local_id__in=list(by_key.values())).values_list("local_id", flat=True))
    local_ids = [ref.local_id for ref in refs.values()] + list(by_key.values())
    local = {row["pk"]: row for row in spec.model.objects.filter(pk__in=local_ids)
             .values("pk", "updated_at", *local_columns(m.local_field for m in inbound))}

    rows: dict[str, dict] = {}
    existing: dict[str, int] = {}
    pending: dict[str, tuple[datetime, dict, bool]] = {}
    deleted: list[int] = []
    deleted_refs: list[tuple[str, int, datetime, dict]] = []
    for remote_id, modified, record in parsed:
        ref = refs.get(remote_id)
        if record.get("IsDeleted"):
            if ref is not None and not ref.deleted_remotely:
                deleted.append(ref.local_id)
                deleted_refs.append((remote_id, ref.local_id, modified, ref.synced))
            else:
                counts.skipped += 1
            continue
        pk = ref.local_id if ref else by_key.get(str(record.get(spec.external_id_field) or ""))
        if ref is None and pk in linked_elsewhere:
            counts.fail(ctx, remote_id, "in", "DUPLICATE_VALUE",
                        f"{spec.external_id_field} {record.get(spec.external_id_field)!r} names a record already "
                        "linked to another one")
            continue
        current = local.get(pk) if pk is not None else None
        if current is None and not spec.create_locally:
            counts.skipped += 1  # not ours (never created in PRM): not brought in
            continue
        creating, first = current is None, ref is None
        synced = dict(ref.synced) if ref else {}
        fields: dict[str, object] = {}
        try:
            for mapping in inbound:
                if (mapping.apply_on == A.CREATE and not creating) or (mapping.apply_on == A.FIRST_SYNC and not first):
                    continue
                raw = mapping.fixed_value if mapping.fixed_value is not None else record.get(mapping.remote_field)
                value = to_local(spec, mapping.local_field, raw, value_map_of(spec, mapping))
                if creating:
                    fields[mapping.local_field] = value
                elif decide(mapping, remote_value=value, local_value=local_value(current, mapping.local_field),
                            last=synced.get(mapping.local_field), remote_at=modified, local_at=current["updated_at"]):
                    fields[mapping.local_field] = value
                elif value_hash(value) == value_hash(local_value(current, mapping.local_field)):
                    synced[mapping.local_field] = value_hash(value)
                    continue
                else:
                    continue
                synced[mapping.local_field] = value_hash(value)
        except ValueError as exc:
            counts.fail(ctx, remote_id, "in", "MALFORMED_RECORD", str(exc))
            continue
        if creating and spec.code_prefix and not fields.get(spec.local_key):
            fields[spec.local_key] = f"{spec.code_prefix}{remote_id}"
            synced.pop(spec.local_key, None)  # ours, not the CRM's: the push sends it back
        if not fields and ref is not None:
            counts.skipped += 1
            ref.remote_modified_at = modified
            pending[remote_id] = (modified, synced, False)
            existing[remote_id] = pk
            continue
        rows[remote_id] = fields
        if pk is not None:
            existing[remote_id] = pk
        pending[remote_id] = (modified, synced, bool(fields))
    written = spec.upsert({k: nest_profile(v) for k, v in rows.items() if v or k not in existing}, existing)
    for remote_id, message in written.errors.items():
        counts.fail(ctx, remote_id, "in", "INVALID_VALUE", message)
    ids = {**{k: v for k, v in existing.items() if k not in written.errors}, **written.ids}
    counts.created += len(written.created)
    counts.updated += sum(1 for k in written.ids if k not in written.created and pending[k][2])
    now = timezone.now()
    refs_out = [
        ExternalRef(connection=connection, object=spec.object, local_id=ids[remote_id], remote_id=remote_id,
                    remote_modified_at=modified, synced=synced, values_hash=value_hash(sorted(synced.items())),
                    deleted_remotely=False, updated_at=now)
        for remote_id, (modified, synced, _changed) in pending.items() if remote_id in ids
    ] + [
        ExternalRef(connection=connection, object=spec.object, local_id=local_id, remote_id=remote_id,
                    remote_modified_at=modified, synced=synced, values_hash=value_hash(sorted(synced.items())),
                    deleted_remotely=True, updated_at=now)
        for remote_id, local_id, modified, synced in deleted_refs
    ]
    refs_upsert(refs_out, update=["local_id", "remote_modified_at", "synced", "values_hash", "deleted_remotely",
                                  "updated_at"])
    if deleted:
        spec.deactivate(deleted, DELETED_REASON)
        counts.updated += len(deleted)
    return last_cursor


def cursor_save(*, connection: Connection, spec: ObjectSpec, cursor: tuple[datetime, str]) -> None:
    SyncCursor.objects.update_or_create(connection=connection, object=spec.object,
                                        defaults={"remote_modified_at": cursor[0], "remote_id": cursor[1]})


@transaction.atomic
def pull_page_commit(ctx: Context, records: list[dict], counts: Counts) -> None:
    """One page and its cursor in one transaction."""
    cursor = (ctx.spec.apply or pull_page)(ctx, records, counts)
    if cursor is not None:
        cursor_save(connection=ctx.connection, spec=ctx.spec, cursor=cursor)
    SyncLog.objects.bulk_create(counts.logs)
    counts.logs.clear()


# --- Push --------------------------------------------------------------------------------------------------------------


def push_batch(ctx: Context, partner_ids: list[int], counts: Counts, send) -> None:
    """Send the mapped fields of these partners that changed since the last sync, in composite batches through
    ``send(records, key_field) -> [PushResult]``: upserted on the remote Id when linked, else on the external id (our
    code), and record what was agreed. Unchanged partners (an echo of a pull) send nothing."""
    spec, connection = ctx.spec, ctx.connection
    outbound = [m for m in ctx.mappings if m.direction in (D.OUT, D.BOTH) and m.local_field != spec.local_key]
    fields = sorted({m.local_field for m in outbound} | {spec.local_key})
    partners = list(spec.model.objects.filter(pk__in=partner_ids).values("pk", *local_columns(fields)))
    refs = {ref.local_id: ref for ref in ExternalRef.objects.filter(
        connection=connection, object=spec.object, local_id__in=[p["pk"] for p in partners])}
    extra = spec.push_extra(ctx, partners) if spec.push_extra else {}
    records: list[dict] = []
    by_id: list[dict] = []
    agreed: dict[tuple[str, str], tuple] = {}
    for partner in partners:
        ref = refs.get(partner["pk"])
        synced = dict(ref.synced) if ref else {}
        data: dict[str, object] = {}
        for mapping in outbound:
            if mapping.apply_on in (A.CREATE, A.FIRST_SYNC) and ref is not None:
                continue
            value = mapping.fixed_value if mapping.fixed_value is not None else local_value(partner, mapping.local_field)
            digest = value_hash(local_value(partner, mapping.local_field))
            if synced.get(mapping.local_field) == digest:
                continue
            data[mapping.remote_field] = to_remote(value, value_map_of(spec, mapping))
            synced[mapping.local_field] = digest
        key = str(partner[spec.local_key])
        if not data and ref is not None and synced.get(spec.local_key) == value_hash(key):
            counts.skipped += 1
            continue
        synced[spec.local_key] = value_hash(key)
        record = {spec.external_id_field: key, **data, **extra.get(partner["pk"], {})}
        if ref is not None and ref.remote_id:
            # Linked already: upsert on the remote Id (the record may not carry our key yet, or our key changed).
            by_id.append({"Id": ref.remote_id, **record})
            agreed[("Id", ref.remote_id)] = (partner["pk"], synced, ref)
        else:
            records.append(record)
            agreed[(spec.external_id_field, str(key))] = (partner["pk"], synced, ref)
    if not records and not by_id:
        return
    results: list[tuple[str, PushResult]] = [(spec.external_id_field, r) for r in send(records, spec.external_id_field)]
    results += [("Id", r) for r in send(by_id, "Id")]
    now = timezone.now()
    refs_out = []
    for key_field, result in results:
        pk, synced, ref = agreed[(key_field, result.key)]
        if result.error_code:
            counts.fail(ctx, str(pk), "out", result.error_code, result.message)
            continue
        if ref is None:
            counts.created += 1
        else:
            counts.updated += 1
        refs_out.append(ExternalRef(connection=connection, object=spec.object, local_id=pk,
                                    remote_id=result.remote_id or (ref.remote_id if ref else ""),
                                    synced=synced, values_hash=value_hash(sorted(synced.items())), updated_at=now))
    with transaction.atomic():
        refs_upsert(refs_out, on=LOCAL_KEY, update=["remote_id", "synced", "values_hash", "updated_at"])
        SyncLog.objects.bulk_create(counts.logs)
        counts.logs.clear()


# --- Pull-only objects: products, price books, price entries (→ pricing.services) -----------------------------------


def pull_columns(
    *, connection: Connection, spec: ObjectSpec, remote_fields: dict[str, RemoteField], run: SyncRun | None
) -> tuple[list[FieldMapping], list[str] | None, list[SyncLog]]:
    """The mappings and the remote columns to read for ``spec`` (None: skip the object this run, logged)."""
    mappings: list[FieldMapping] = []
    logs: list[SyncLog] = []
    columns = set(spec.remote_fields)
    if spec.local_fields:
        mappings, logs = usable_mappings(connection=connection, spec=spec, remote_fields=remote_fields, run=run)
        columns |= {m.remote_field for m in mappings} | {spec.external_id_field}
    if not spec.remote_fields:
        return mappings, sorted(columns), logs
    missing = [name for name in spec.remote_fields if name not in remote_fields]
    if missing:
        return [], None, logs + [SyncLog(connection=connection, run=run, object=spec.object, record="", direction="in",
                                  error_code="INVALID_FIELD", at=timezone.now(),
                                  message=f"{spec.remote} has no field {', '.join(missing)} (or the CRM user may not "
                                          f"read it): {spec.remote} not synced this run.")]
    return mappings, sorted(columns), logs


def _refs(ctx: Context, remote_ids: list[str]) -> dict[str, ExternalRef]:
    return {ref.remote_id: ref for ref in ExternalRef.objects.filter(
        connection=ctx.connection, object=ctx.spec.object, remote_id__in=remote_ids)}


def _local_ids(ctx: Context, obj: str, remote_ids: set[str]) -> tuple[dict[str, int], set[str]]:
    """remote id → local id of another object's linked records (a PricebookEntry's Product2Id / Pricebook2Id), and
    which of them were deleted in the CRM."""
    if not remote_ids:
        return {}, set()
    rows = ExternalRef.objects.filter(connection=ctx.connection, object=obj, remote_id__in=list(remote_ids)
                                      ).values_list("remote_id", "local_id", "deleted_remotely")
    ids, deleted = {}, set()
    for remote_id, local_id, gone in rows:
        ids[remote_id] = local_id
        if gone:
            deleted.add(remote_id)
    return ids, deleted


def _refs_write(ctx: Context, linked: dict[str, tuple[int, datetime, bool]]) -> None:
    """Upsert the ExternalRefs {remote id: (local id, remote LastModifiedDate, deleted remotely)} (one query)."""
    now = timezone.now()
    refs_upsert(
        [ExternalRef(connection=ctx.connection, object=ctx.spec.object, local_id=local_id, remote_id=remote_id,
                     remote_modified_at=modified, synced={}, values_hash="", deleted_remotely=deleted, updated_at=now)
         for remote_id, (local_id, modified, deleted) in linked.items()],
        update=["local_id", "remote_modified_at", "deleted_remotely", "updated_at"],
    )


def _linked_elsewhere(ctx: Context, local_ids: set[int]) -> set[int]:
    if not local_ids:
        return set()
    return set(ExternalRef.objects.filter(connection=ctx.connection, object=ctx.spec.object,
                                          local_id__in=list(local_ids)).values_list("local_id", flat=True))


def pull_products(ctx: Context, records: list[dict], counts: Counts) -> tuple[datetime, str] | None:
    """Product2 → Product: SKU = ProductCode when the product is first linked (a product of that SKU already in PRM is
    linked, not duplicated; no ProductCode: ``SF-<Id>``), then kept (our natural key); Name, Description, IsActive
    follow the CRM. Deleted → inactive. Queries: refs, linked SKUs, SKUs already in PRM, their refs, 1 upsert, 1 refs
    upsert, 1 deactivation (when any)."""
    parsed, last_cursor = parse_records(ctx, records, counts)
    refs = _refs(ctx, [p[0] for p in parsed])
    skus = dict(Product.objects.filter(pk__in=[r.local_id for r in refs.values()]).values_list("pk", "sku"))
    wanted = {str(r.get("ProductCode") or "").strip() or f"{ctx.spec.code_prefix}{rid}"
              for rid, _m, r in parsed if rid not in refs}
    by_sku = dict(Product.objects.filter(sku__in=wanted).values_list("sku", "pk")) if wanted else {}
    taken = _linked_elsewhere(ctx, set(by_sku.values()))
    rows: list[dict] = []
    row_remote: list[tuple[str, datetime]] = []
    deleted: dict[str, tuple[int, datetime, bool]] = {}
    for remote_id, modified, record in parsed:
        ref = refs.get(remote_id)
        sku = skus.get(ref.local_id) if ref else None
        if record.get("IsDeleted"):
            if sku is not None and not ref.deleted_remotely:
                deleted[remote_id] = (ref.local_id, modified, True)
            else:
                counts.skipped += 1
            continue
        if sku is None:
            sku = str(record.get("ProductCode") or "").strip() or f"{ctx.spec.code_prefix}{remote_id}"
            if by_sku.get(sku) in taken:
                counts.fail(ctx, remote_id, "in", "DUPLICATE_VALUE",
                            f"ProductCode {sku!r} names a product already linked to another Product2")
                continue
        description = record.get("Description")
        rows.append({"sku": sku, "name": record.get("Name"),
                     "description": "" if description is None else description, "active": record.get("IsActive")})
        row_remote.append((remote_id, modified))
    result = products_upsert(rows=rows, source=Source.CRM) if rows else None
    linked = dict(deleted)
    if result is not None:
        for index, message in result.errors.items():
            counts.fail(ctx, row_remote[index][0], "in", "INVALID_VALUE", message)
        for index, (remote_id, modified) in enumerate(row_remote):
            if index not in result.errors and rows[index]["sku"] in result.ids:
                linked[remote_id] = (result.ids[rows[index]["sku"]], modified, False)
        counts.created += result.created
        counts.updated += result.updated
        counts.skipped += result.unchanged
    _refs_write(ctx, linked)
    if deleted:
        counts.updated += products_deactivate(skus=[skus[local_id] for local_id, _m, _d in deleted.values()],
                                              source=Source.CRM)
    return last_cursor


def pull_price_books(ctx: Context, records: list[dict], counts: Counts) -> tuple[datetime, str] | None:
    """Pricebook2 → PriceBook ``SF-<Id>``: Name and IsActive follow the CRM; currency, validity, scope, priority and
    "default" are PRM's (a new book: the default currency, and the standard price book is the default book). Deleted →
    inactive. Books are few: one ``price_book_upsert`` per changed book, an unchanged one is not written."""
    parsed, last_cursor = parse_records(ctx, records, counts)
    refs = _refs(ctx, [p[0] for p in parsed])
    by_pk = {book.pk: book for book in PriceBook.objects.filter(pk__in=[r.local_id for r in refs.values()])}
    fresh = {f"{ctx.spec.code_prefix}{rid}" for rid, _m, _r in parsed if rid not in refs}
    by_code = {book.code: book for book in PriceBook.objects.filter(code__in=fresh)} if fresh else {}
    currency = PriceBook._meta.get_field("currency").default
    linked: dict[str, tuple[int, datetime, bool]] = {}
    for remote_id, modified, record in parsed:
        ref = refs.get(remote_id)
        book = by_pk.get(ref.local_id) if ref else by_code.get(f"{ctx.spec.code_prefix}{remote_id}")
        gone = bool(record.get("IsDeleted"))
        if gone and (book is None or (ref is not None and ref.deleted_remotely)):
            counts.skipped += 1
            continue
        name = book.name if gone else record.get("Name")
        active = False if gone else record.get("IsActive")
        if not isinstance(name, str) or not isinstance(active, bool):
            counts.fail(ctx, remote_id, "in", "MALFORMED_RECORD", "Name must be text and IsActive true or false")
            continue
        if book is not None and (book.name, book.active) == (name.strip(), active) and ref is not None:
            counts.skipped += 1
            linked[remote_id] = (book.pk, modified, gone)
            continue
        try:
            saved, created = price_book_upsert(
                code=book.code if book else f"{ctx.spec.code_prefix}{remote_id}", name=name.strip(),
                currency=book.currency if book else currency, source=Source.CRM, active=active,
                valid_from=book.valid_from if book else None, valid_to=book.valid_to if book else None,
                is_default=book.is_default if book else bool(record.get("IsStandard")),
                priority=book.priority if book else 0)
        except ValidationError as exc:
            counts.fail(ctx, remote_id, "in", "INVALID_VALUE", "; ".join(
                f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items()))
            continue
        counts.created += created
        counts.updated += not created
        linked[remote_id] = (saved.pk, modified, gone)
    _refs_write(ctx, linked)
    return last_cursor


def pull_price_entries(ctx: Context, records: list[dict], counts: Counts) -> tuple[datetime, str] | None:
    """PricebookEntry → PriceEntry (min quantity 1) of the book linked to Pricebook2Id, for the product linked to
    Product2Id: UnitPrice and IsActive follow the CRM. Deleted → inactive; an entry of a book or product deleted in the
    CRM is skipped (they are inactive here, so it prices nothing). One ``price_entries_upsert`` per book per
    page; an entry whose product or book is not synced (yet) is logged and skipped."""
    parsed, last_cursor = parse_records(ctx, records, counts)
    refs = _refs(ctx, [p[0] for p in parsed])
    book_ids, books_gone = _local_ids(ctx, SyncObject.PRICE_BOOK, {str(r.get("Pricebook2Id") or "") for *_x, r in parsed})
    product_ids, products_gone = _local_ids(ctx, SyncObject.PRODUCT, {str(r.get("Product2Id") or "") for *_x, r in parsed})
    entries = {row["pk"]: row for row in PriceEntry.objects.filter(pk__in=[r.local_id for r in refs.values()])
               .values("pk", "book_id", "product__sku", "min_quantity")}
    skus = dict(Product.objects.filter(pk__in=set(product_ids.values())).values_list("pk", "sku"))
    books = PriceBook.objects.in_bulk(set(book_ids.values()) | {e["book_id"] for e in entries.values()})
    by_book: dict[int, list[tuple[str, datetime, dict]]] = {}
    gone: dict[int, list[tuple[str, datetime, dict]]] = {}
    for remote_id, modified, record in parsed:
        ref = refs.get(remote_id)
        entry = entries.get(ref.local_id) if ref else None
        if record.get("IsDeleted"):
            if entry is not None and not ref.deleted_remotely:
                gone.setdefault(entry["book_id"], []).append(
                    (remote_id, modified, {"sku": entry["product__sku"], "pk": entry["pk"], "q": entry["min_quantity"]}))
            else:
                counts.skipped += 1
            continue
        if str(record.get("Pricebook2Id") or "") in books_gone or str(record.get("Product2Id") or "") in products_gone:
            counts.skipped += 1  # its book or product was deleted in the CRM (and is inactive here): prices no more
            continue
        book_id = book_ids.get(str(record.get("Pricebook2Id") or ""))
        sku = skus.get(product_ids.get(str(record.get("Product2Id") or "")))
        if book_id is None or sku is None:
            missing = "Pricebook2Id" if book_id is None else "Product2Id"
            counts.fail(ctx, remote_id, "in", "UNKNOWN_REFERENCE",
                        f"{missing} {record.get(missing)!r} is not a synced {'price book' if book_id is None else 'product'}")
            continue
        by_book.setdefault(book_id, []).append(
            (remote_id, modified, {"sku": sku, "unit_price": record.get("UnitPrice"), "min_quantity": 1,
                                   "active": record.get("IsActive")}))
    linked: dict[str, tuple[int, datetime, bool]] = {}
    for book_id, items in by_book.items():
        result = price_entries_upsert(book=books[book_id], rows=[row for _i, _m, row in items], source=Source.CRM)
        for index, (remote_id, modified, row) in enumerate(items):
            if index in result.errors:
                counts.fail(ctx, remote_id, "in", "INVALID_VALUE", result.errors[index])
            elif (row["sku"], 1) in result.ids:
                linked[remote_id] = (result.ids[row["sku"], 1], modified, False)
        counts.created += result.created
        counts.updated += result.updated
        counts.skipped += result.unchanged
    for book_id, items in gone.items():
        counts.updated += price_entries_deactivate(book=books[book_id], keys=[(row["sku"], row["q"]) for *_x, row in items],
                                                   source=Source.CRM)
        linked.update({remote_id: (row["pk"], modified, True) for remote_id, modified, row in items})
    _refs_write(ctx, linked)
    return last_cursor


PRODUCT = ObjectSpec(object=SyncObject.PRODUCT, remote="Product2", external_id_field="ProductCode",
                     remote_fields=("Name", "ProductCode", "Description", "IsActive"), apply=pull_products)
PRICE_BOOK = ObjectSpec(object=SyncObject.PRICE_BOOK, remote="Pricebook2",
                        remote_fields=("Name", "IsActive", "IsStandard"), apply=pull_price_books)
PRICE_ENTRY = ObjectSpec(object=SyncObject.PRICE_ENTRY, remote="PricebookEntry",
                         remote_fields=("Pricebook2Id", "Product2Id", "UnitPrice", "IsActive"),
                         apply=pull_price_entries)
