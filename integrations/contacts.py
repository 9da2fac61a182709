"""Contact points ↔ Salesforce Contact (issue 17): the ``apply`` page function and the ``push`` of the CONTACT spec.

Decisions:
- A Contact is a person with up to three channels; our ContactPoint is one channel. One Contact ↔ up to three contact
  points of the partner linked to its AccountId: Email → email, Phone → phone, MobilePhone → mobile (``FIELDS``).
  WhatsApp and WeChat points are not synced (no standard Contact field). Each point has its own ExternalRef: object
  "contact", local_id = the point, remote_id = "<Contact Id>.<field>", parent_id = the partner (the push finds there
  the refs of points deleted here), synced = hashes of the value and of the label last agreed.
- A point's label is the Contact's name ("First Last", trimmed to the label's 50 characters; a point without a label
  stands for the partner's name). The push sends a changed label back as the Contact's name (LastName = label,
  FirstName cleared), so a Contact's points carry one label.
- Pull: fixed columns (AccountId, FirstName, LastName, Email, Phone, MobilePhone; no FieldMapping). The AccountId is
  resolved through the account refs; a Contact whose account is not linked is logged UNKNOWN_REFERENCE and left (it
  is retried when the Contact changes again, or on a resync). A Contact without an AccountId (private) has no
  partner: its points, if any, are deleted like those of a deleted Contact. Per channel: created when absent, value
  and label written when the CRM's differ from the hash last agreed (the CRM wins a field changed on both sides; a
  field changed only here is kept and pushed), not written at all when unchanged (no echo of our push). A channel
  emptied in the CRM, or the Contact deleted (IsDeleted, read with queryAll) → the point is deleted here (contact
  points are not business history) and its ref kept with deleted_remotely. A Contact moved to another account → its
  points move (deleted from the old partner, created on the new one). A point deleted here whose deletion is not
  pushed yet, or whose kind was changed here, is left alone (the push clears the CRM field). A value invalid here
  (the partner form's rules: an email address, a phone number, 254 characters) → INVALID_VALUE naming the field; the
  rest of the page goes on. All writes: one ``partners.services.contact_points_sync_apply`` per page.
- Push: receives partner ids (partner.updated events name partners whose contacts changed). A linked point whose
  value or label changed → that Contact field (and name) updated on its Id; a point without a ref → the first
  Contact of the same partner and label (linked already, or created in this batch) whose field is free gets it,
  else a new Contact upserted on PRM_Contact_Id__c = the point id, with AccountId = the partner's Account (a partner
  whose account is not linked yet is skipped and logged: the account push runs first in the same batch, so this only
  happens when that failed; its points go at the partner's next change); a point deleted here (or moved to another
  kind) → its Contact field set to null and the ref removed. One record per Contact per batch; record failures are
  logged (direction out) and never stop the batch.
- Queries per page, however many records: pull 3 reads + the service's (≤ 9) + 1 refs upsert; push 3 reads +
  2 ref writes (+ the logs).
"""

from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from integrations.models import ExternalRef, SyncLog, SyncObject
from integrations.sync import Context, Counts, ObjectSpec, parse_records, refs_upsert, value_hash
from partners.models import ContactPoint
from partners.services import ContactPointChange, ContactPointNew, contact_points_sync_apply

K = ContactPoint.Kind
FIELDS = {"Email": K.EMAIL, "Phone": K.PHONE, "MobilePhone": K.MOBILE}  # Contact field → contact kind
KIND_FIELDS = {kind: name for name, kind in FIELDS.items()}
LABEL_MAX = ContactPoint._meta.get_field("label").max_length
EXTERNAL_ID = "PRM_Contact_Id__c"


def contact_name(first: object, last: object) -> str:
    """The label of a Contact's points: "First Last" (just LastName without a first name), trimmed to the label."""
    name = " ".join(part for part in (str(first or "").strip(), str(last or "").strip()) if part)
    return name[:LABEL_MAX].strip()


def _ref_key(contact_id: str, field: str) -> str:
    return f"{contact_id}.{field}"


def _split(remote_id: str) -> tuple[str, str]:
    contact_id, _, field = remote_id.rpartition(".")
    return contact_id, field


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


# --- Pull ------------------------------------------------------------------------------------------------------------


def pull_contacts(ctx: Context, records: list[dict], counts: Counts) -> tuple[datetime, str] | None:
    """One page of Contacts → contact points (see the module's decisions). Queries: the refs of the page's fields, the
    account refs of its AccountIds, the linked points, then one contact_points_sync_apply and one refs upsert."""
    parsed, last_cursor = parse_records(ctx, records, counts)
    connection = ctx.connection
    refs = {ref.remote_id: ref for ref in ExternalRef.objects.filter(
        connection=connection, object=SyncObject.CONTACT,
        remote_id__in=[_ref_key(rid, name) for rid, _m, _r in parsed for name in FIELDS])}
    account_ids = {_text(r.get("AccountId")) for _rid, _m, r in parsed if not r.get("IsDeleted")} - {""}
    accounts = dict(ExternalRef.objects.filter(connection=connection, object=SyncObject.ACCOUNT,
                                               remote_id__in=list(account_ids)).values_list("remote_id", "local_id")
                    ) if account_ids else {}
    points = {row["pk"]: row for row in ContactPoint.objects.filter(pk__in=[ref.local_id for ref in refs.values()])
              .values("pk", "partner_id", "kind", "value", "label")} if refs else {}

    creates: list[ContactPointNew] = []
    updates: list[ContactPointChange] = []
    deletes: list[int] = []
    # ref key → (Contact Id, partner id, LastModifiedDate, synced) of the refs to write once the points are.
    pending: dict[str, tuple[str, int | None, datetime, dict]] = {}
    gone: dict[str, tuple[int, int | None, datetime]] = {}  # ref key → (old local id, parent) now deleted remotely
    outcome: dict[str, str] = {}  # Contact Id → "created" / "updated" (the others are skipped)
    for remote_id, modified, record in parsed:
        partner_id = None
        if not record.get("IsDeleted"):
            account = _text(record.get("AccountId"))
            partner_id = accounts.get(account) if account else None
            if account and partner_id is None:
                counts.fail(ctx, remote_id, "in", "UNKNOWN_REFERENCE",
                            f"AccountId {account!r} is not a synced account: the Contact is tried again when it "
                            "changes, or on a resync")
                continue
        name = contact_name(record.get("FirstName"), record.get("LastName"))
        for field, kind in FIELDS.items():
            key = _ref_key(remote_id, field)
            ref = refs.get(key)
            point = points.get(ref.local_id) if ref else None
            value = _text(record.get(field)) if partner_id is not None else ""
            if point is not None and point["kind"] != kind:
                continue  # its kind was changed here: the push clears this field and places the point
            if point is None and ref is not None and not ref.deleted_remotely:
                if not value:  # gone on both sides
                    gone[key] = (ref.local_id, ref.parent_id, modified)
                continue  # deleted here, not pushed yet: the push clears the field
            if point is not None and (not value or point["partner_id"] != partner_id):
                deletes.append(point["pk"])  # emptied, Contact deleted or private, or moved to another account
                outcome.setdefault(remote_id, "updated")
                gone[key] = (point["pk"], point["partner_id"], modified)
                point = None
            if not value:
                continue
            synced = {"value": value_hash(value), "label": value_hash(name)}
            if point is None:
                creates.append(ContactPointNew(key=key, partner_id=partner_id, kind=kind, value=value, label=name))
                pending[key] = (remote_id, partner_id, modified, synced)
                continue
            last = ref.synced
            new_value = value if synced["value"] != last.get("value") else point["value"]
            new_label = name if synced["label"] != last.get("label") else point["label"]
            if (new_value, new_label) != (point["value"], point["label"]):
                updates.append(ContactPointChange(key=key, point_id=point["pk"], value=new_value, label=new_label))
                pending[key] = (remote_id, partner_id, modified, synced)
            elif synced != last:
                pending[key] = (remote_id, partner_id, modified, synced)  # both sides agree on new values
    matched = _match_existing(ctx, creates, deletes)
    for new in creates:
        if new.key in matched and matched[new.key][1] != new.label:
            updates.append(ContactPointChange(key=new.key, point_id=matched[new.key][0], value=new.value,
                                              label=new.label))
    creates = [new for new in creates if new.key not in matched]
    written = contact_points_sync_apply(creates=creates, updates=updates, deletes=deletes)
    failed = {log.record for log in counts.logs}
    for key, message in written.errors.items():
        contact_id, field = _split(key)
        what, _, text = message.partition(": ")
        where = {"value": field, "label": "FirstName/LastName"}.get(what, what)
        counts.fail(ctx, contact_id, "in", "INVALID_VALUE", f"{where}: {text or message}")
        failed.add(contact_id)
    now = timezone.now()
    refs_out = [
        ExternalRef(connection=connection, object=SyncObject.CONTACT, local_id=local_id, remote_id=key,
                    parent_id=parent_id, remote_modified_at=modified, synced={}, values_hash="",
                    deleted_remotely=True, updated_at=now)
        for key, (local_id, parent_id, modified) in gone.items()
        if key not in pending or key in written.errors  # moved: the new point's ref replaces it
    ]
    created, changed = {new.key for new in creates}, {change.key for change in updates}
    for key, (contact_id, partner_id, modified, synced) in pending.items():
        if key in created:
            local_id = written.ids.get(key)
            if local_id is None:
                continue  # invalid here: logged, no ref
            outcome[contact_id] = "created"
        elif key in matched:
            local_id = matched[key][0]
            if key in changed and key not in written.ids:
                continue  # its label was refused here (logged), or it was deleted meanwhile
            outcome.setdefault(contact_id, "updated")
        else:
            local_id = refs[key].local_id
            if key in changed:
                if key not in written.ids:
                    continue  # invalid here (logged), or deleted here meanwhile
                outcome.setdefault(contact_id, "updated")
        refs_out.append(ExternalRef(connection=connection, object=SyncObject.CONTACT, local_id=local_id,
                                    remote_id=key, parent_id=partner_id, remote_modified_at=modified, synced=synced,
                                    values_hash=value_hash(sorted(synced.items())), deleted_remotely=False,
                                    updated_at=now))
    refs_upsert(refs_out, update=["local_id", "parent_id", "remote_modified_at", "synced", "values_hash",
                                  "deleted_remotely", "updated_at"])
    states = list(outcome.values())
    counts.created += states.count("created")
    counts.updated += states.count("updated")
    counts.skipped += sum(1 for remote_id, _m, _r in parsed if remote_id not in outcome and remote_id not in failed)
    return last_cursor


def _match_existing(ctx: Context, creates: list[ContactPointNew], deletes: list[int]) -> dict[str, tuple[int, str]]:
    """Points of these partners with the same kind and value as a Contact field about to create one, and not linked
    to any Contact field: {ref key: (point id, its label)} — linked instead of duplicated (a partner whose email was
    in PRM before the Contact was synced; a Contact our push created in a transaction that then rolled back).
    Two queries, none when nothing is to be created."""
    if not creates:
        return {}
    wanted = {(new.partner_id, new.kind, new.value.lower()): new.key for new in creates}
    rows = ContactPoint.objects.filter(partner_id__in={new.partner_id for new in creates},
                                       kind__in={new.kind for new in creates}).exclude(pk__in=deletes)
    candidates = {(row["partner_id"], row["kind"], row["value"].lower()): (row["pk"], row["label"])
                  for row in rows.order_by("-id").values("pk", "partner_id", "kind", "value", "label")
                  if (row["partner_id"], row["kind"], row["value"].lower()) in wanted}
    linked = set(ExternalRef.objects.filter(connection=ctx.connection, object=SyncObject.CONTACT,
                                            local_id__in=[pk for pk, _label in candidates.values()])
                 .values_list("local_id", flat=True)) if candidates else set()
    return {wanted[found]: point for found, point in candidates.items() if point[0] not in linked}


# --- Push ------------------------------------------------------------------------------------------------------------


def _effective_name(point: dict) -> str:
    """The name a point stands for: its label, or its partner's name (trimmed as a pulled label is)."""
    return (point["label"] or point["partner__name"] or "")[:LABEL_MAX].strip()


def push_contacts(ctx: Context, partner_ids: list[int], counts: Counts, send: Callable) -> None:
    """Push the email/phone/mobile points of these partners that changed since the last sync (see the module's
    decisions). Queries: the points (with their partner's name), the contact refs of these partners, their account
    refs; then, after the two composite sends, one DELETE and one upsert of refs (and the logs)."""
    connection = ctx.connection
    points = list(ContactPoint.objects.filter(partner_id__in=partner_ids, kind__in=list(KIND_FIELDS))
                  .order_by("partner_id", "id").values("pk", "partner_id", "kind", "value", "label", "partner__name"))
    refs = list(ExternalRef.objects.filter(connection=connection, object=SyncObject.CONTACT,
                                           parent_id__in=partner_ids))
    accounts = dict(ExternalRef.objects.filter(connection=connection, object=SyncObject.ACCOUNT,
                                               local_id__in=partner_ids, deleted_remotely=False)
                    .values_list("local_id", "remote_id"))
    by_point = {ref.local_id: ref for ref in refs}
    live = {point["pk"]: point for point in points}
    by_id: dict[str, dict] = {}  # Contact Id → the fields to set
    new: dict[str, dict] = {}  # our key (the first point's id) → a Contact to create
    # What each record's success means: ("link", point, remote id, synced) or ("unlink", ref).
    effects: dict[tuple[str, str], list[tuple]] = {}
    occupied = {_split(ref.remote_id) for ref in refs if not ref.deleted_remotely and ref.local_id in live}
    unlinked: list[dict] = []
    for ref in refs:
        point = live.get(ref.local_id)
        contact_id, field = _split(ref.remote_id)
        if ref.deleted_remotely or (point is not None and FIELDS.get(field) == point["kind"]):
            continue
        # Deleted here (or now of another kind): clear the field on the Contact, then forget the ref.
        by_id.setdefault(contact_id, {"Id": contact_id})[field] = None
        effects.setdefault(("Id", contact_id), []).append(("unlink", ref))
        occupied.discard((contact_id, field))
    # Same partner and name → same person: the Contacts already linked to points of that name, in point order.
    people: dict[tuple[int, str], list[tuple[str, str]]] = {}
    for point in points:
        ref = by_point.get(point["pk"])
        name = _effective_name(point)
        if ref is not None and not ref.deleted_remotely:
            person = people.setdefault((point["partner_id"], name), [])
            if ("Id", _split(ref.remote_id)[0]) not in person:
                person.append(("Id", _split(ref.remote_id)[0]))
        field = KIND_FIELDS[point["kind"]]
        if ref is None or ref.deleted_remotely or _split(ref.remote_id)[1] != field:
            unlinked.append(point)
            continue
        synced = {"value": value_hash(point["value"]), "label": value_hash(name)}
        if synced == {"value": ref.synced.get("value"), "label": ref.synced.get("label")}:
            counts.skipped += 1
            continue
        contact_id = _split(ref.remote_id)[0]
        record = by_id.setdefault(contact_id, {"Id": contact_id})
        if synced["value"] != ref.synced.get("value"):
            record[field] = point["value"]
        if synced["label"] != ref.synced.get("label"):
            record.update(FirstName=None, LastName=name)
        effects.setdefault(("Id", contact_id), []).append(("link", point, field, synced, ref))
    not_synced: set[int] = set()
    for point in unlinked:
        field, name = KIND_FIELDS[point["kind"]], _effective_name(point)
        synced = {"value": value_hash(point["value"]), "label": value_hash(name)}
        candidates = people.setdefault((point["partner_id"], name), [])
        target = next((c for c in candidates if (c[1], field) not in occupied), None)
        if target is None:
            account = accounts.get(point["partner_id"])
            if account is None:
                not_synced.add(point["partner_id"])
                continue
            target = (EXTERNAL_ID, str(point["pk"]))
            new[target[1]] = {EXTERNAL_ID: target[1], "AccountId": account, "LastName": name}
            candidates.append(target)
        record = new[target[1]] if target[0] == EXTERNAL_ID else by_id.setdefault(target[1], {"Id": target[1]})
        record[field] = point["value"]
        occupied.add((target[1], field))
        effects.setdefault(target, []).append(("link", point, field, synced, by_point.get(point["pk"])))
    for partner_id in sorted(not_synced):
        counts.fail(ctx, str(partner_id), "out", "PARTNER_NOT_SYNCED",
                    "partner not synced yet: its contact points are pushed after its account, at its next change")
    if not by_id and not new:
        _logs_save(counts)
        return
    results = [(EXTERNAL_ID, r) for r in send(list(new.values()), EXTERNAL_ID)]
    results += [("Id", r) for r in send(list(by_id.values()), "Id")]
    now = timezone.now()
    unlink: list[int] = []
    links: list[ExternalRef] = []
    for key_field, result in results:
        items = effects.get((key_field, result.key), [])
        if result.error_code:
            for item in items:
                record = str(item[1]["pk"]) if item[0] == "link" else item[1].remote_id
                counts.fail(ctx, record, "out", result.error_code, result.message)
            continue
        contact_id = result.remote_id or result.key
        if key_field == EXTERNAL_ID:
            counts.created += 1
        else:
            counts.updated += 1
        for item in items:
            if item[0] == "unlink":
                unlink.append(item[1].pk)
                continue
            _link, point, field, synced, old = item
            remote_id = _ref_key(contact_id, field)
            if old is not None and old.remote_id != remote_id:
                unlink.append(old.pk)  # the point moved to another field (its kind changed here)
            links.append(ExternalRef(connection=connection, object=SyncObject.CONTACT, local_id=point["pk"],
                                     remote_id=remote_id, parent_id=point["partner_id"], synced=synced,
                                     values_hash=value_hash(sorted(synced.items())), deleted_remotely=False,
                                     updated_at=now))
    with transaction.atomic():
        if unlink:
            ExternalRef.objects.filter(pk__in=unlink).delete()
        refs_upsert(links, update=["local_id", "parent_id", "synced", "values_hash", "deleted_remotely", "updated_at"])
        _logs_save(counts)


def _logs_save(counts: Counts) -> None:
    SyncLog.objects.bulk_create(counts.logs)
    counts.logs.clear()


CONTACT = ObjectSpec(
    object=SyncObject.CONTACT, remote="Contact", external_id_field=EXTERNAL_ID,
    remote_fields=("AccountId", "FirstName", "LastName", "Email", "Phone", "MobilePhone"),
    apply=pull_contacts, push=push_contacts, push_subject="partner",
)
