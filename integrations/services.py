"""Writes of the CRM sync: the only code that writes Connection, FieldMapping, ExternalRef, SyncCursor, SyncRun and
SyncLog (the page-level writes are in integrations.sync, called from here).

Decisions:
- One run at a time per connection: ``_claim`` is a conditional UPDATE that sets ``running_until`` (a lease, renewed
  after each page) only when no lease is live, the connection is OK and its backoff is over. A worker that dies leaves
  a lease that expires after RUN_LEASE; the next beat tick takes over from the last committed cursor.
- Faults: a 401/403 (or refused credentials) marks the connection ``failing`` and notifies the managers and admins
  once per failure; nothing retries until someone saves the credentials again (no retry storm against a locked
  account). A 429, 5xx or network error backs off exponentially (1, 2, 4 … minutes, capped at BACKOFF_MAX, or the
  server's Retry-After), so a CRM down for an hour costs a handful of calls, and the run resumes from its cursor.
- Push: the outbox's "crm" consumer (``crm_push_pending``) claims events in a transaction and pushes their records
  inside it; a connection-level fault rolls the claim back, so the events wait for the next try, and is recorded after
  the rollback. Nothing is claimed while a connection is backing off.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from integrations import crypto
from integrations.connectors import AuthRefused, Connector, ConnectorError, RequestRejected, RetryLater, connector_for
from integrations.models import Connection, FieldMapping, SyncCursor, SyncLog, SyncRun
from integrations.selectors import mapping_is_default
from integrations.specs import SPECS
from integrations.sync import (
    DEFAULT_MAPPINGS,
    Context,
    Counts,
    decide,
    local_columns,
    local_value,
    mappable,
    profile_keys,
    pull_columns,
    pull_page_commit,
    push_batch,
    to_local,
    usable_mappings,
    value_hash,
    value_map_of,
)
from notifications.models import Notification
from notifications.services import NotificationItem, notifications_create
from outbox.services import events_claim
from partners.roles import MANAGER

RUN_LEASE = timedelta(minutes=10)
BACKOFF_MAX = timedelta(minutes=30)


# --- Connections and mappings -----------------------------------------------------------------------------------------


@transaction.atomic
def connection_create(*, name: str, instance_url: str, credentials: dict[str, str],
                      kind: str = Connection.Kind.SALESFORCE) -> Connection:
    """A connection with its credentials encrypted and the default mappings of the standard fields."""
    connection = Connection(name=name, instance_url=instance_url.rstrip("/"), kind=kind,
                            credentials_encrypted=crypto.encrypt(credentials))
    connection.full_clean()
    connection.save()
    mappings_install_defaults(connection=connection)
    return connection


@transaction.atomic
def connection_set_credentials(*, connection: Connection, credentials: dict[str, str]) -> Connection:
    """New credentials (never shown again): the connection is OK again and its backoff is cleared."""
    connection.credentials_encrypted = crypto.encrypt(credentials)
    connection.status, connection.status_message = Connection.Status.OK, ""
    connection.failures, connection.next_attempt_at = 0, None
    connection.save(update_fields=["credentials_encrypted", "status", "status_message", "failures", "next_attempt_at",
                                   "updated_at"])
    return connection


def mappings_install_defaults(*, connection: Connection) -> int:
    """Create the default mappings of the standard fields that the connection lacks (one INSERT)."""
    rows = [FieldMapping(connection=connection, object=obj, local_field=local, remote_field=remote, direction=direction,
                         apply_on=apply_on, conflict_rule=rule)
            for obj, local, remote, direction, apply_on, rule in DEFAULT_MAPPINGS]
    return len(FieldMapping.objects.bulk_create(rows, ignore_conflicts=True))


@transaction.atomic
def mapping_save(*, mapping: FieldMapping) -> FieldMapping:
    spec = SPECS.get(mapping.object)
    if spec is None or not mappable(spec, mapping.local_field, profile_keys(spec)):
        raise ValidationError({"local_field": f"{mapping.local_field!r} cannot be synced for {mapping.object}"})
    default = spec.value_maps.get(mapping.local_field)
    if default is None:
        mapping.value_map = {}
    else:
        values = value_map_of(spec, mapping)
        if set(mapping.value_map or {}) - set(default):
            raise ValidationError({"value_map": f"Only these PRM values can be mapped: {', '.join(default)}."})
        repeated = sorted({v for v in values.values() if list(values.values()).count(v) > 1})
        if repeated:
            raise ValidationError({"value_map": f"Each PRM value needs its own CRM value; {', '.join(repeated)} is "
                                                "used twice."})
    mapping.full_clean()
    mapping.save()
    return mapping


@transaction.atomic
def mapping_delete(*, mapping: FieldMapping) -> None:
    """Stop syncing an added field (a default mapping of a standard field is edited, not deleted: it comes back)."""
    if mapping_is_default(mapping):
        raise ValidationError("A standard field's mapping cannot be deleted; change its direction or rule instead.")
    mapping.delete()


# --- Runs --------------------------------------------------------------------------------------------------------------


def _claim(connection_id: int) -> bool:
    now = timezone.now()
    return bool(
        Connection.objects.filter(pk=connection_id, status=Connection.Status.OK)
        .filter(Q(running_until__isnull=True) | Q(running_until__lt=now))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(running_until=now + RUN_LEASE)
    )


def _release(connection_id: int) -> None:
    Connection.objects.filter(pk=connection_id).update(running_until=None)


@dataclass
class RunOutcome:
    run: SyncRun | None
    reason: str = ""


def connection_pull(*, connection_id: int, connector: Connector | None = None) -> RunOutcome:
    """Pull every object of the connection from its cursors, page by page; ``RunOutcome.run`` None when the run was
    not claimed (another is running, the connection is failing, or backing off)."""
    if not _claim(connection_id):
        return RunOutcome(run=None, reason="not claimed: running elsewhere, failing or backing off")
    connection = Connection.objects.get(pk=connection_id)
    mappings_install_defaults(connection=connection)  # objects added since the connection was made (one INSERT)
    run = SyncRun.objects.create(connection=connection, kind=SyncRun.Kind.PULL, started_at=timezone.now())
    counts = Counts()
    try:
        connector = connector or connector_for(connection, crypto.decrypt(connection.credentials_encrypted))
        for spec in SPECS.values():
            try:
                _pull_object(connection, run, spec, connector, counts)
            except RequestRejected as exc:
                if not spec.pull_only:
                    raise
                # A pull-only object the org refuses (no access to Product2…): logged, the other objects go on.
                counts.errors += 1
                SyncLog.objects.create(connection=connection, run=run, object=spec.object, record="", direction="in",
                                       error_code=exc.code[:60], message=f"{spec.remote} not synced: {exc.message}"[:500],
                                       at=timezone.now())
    except (ConnectorError, crypto.CredentialsUnreadable) as exc:
        _fail(connection, run, counts, exc)
    except Exception as exc:  # a bug or the database: the page in flight rolled back; the run says so, the worker logs it
        run.status, run.message = SyncRun.Status.FAILED, f"internal error: {exc!r}"[:500]
        raise
    else:
        run.status = SyncRun.Status.OK
        Connection.objects.filter(pk=connection.pk).update(last_success_at=timezone.now(), failures=0,
                                                           next_attempt_at=None, status_message="")
    finally:
        run.finished_at = timezone.now()
        _save_counts(run, counts)
        _release(connection.pk)
    return RunOutcome(run=run)


def _pull_object(connection: Connection, run: SyncRun, spec, connector: Connector, counts: Counts) -> None:
    """Pull one object of the connection from its cursor, page by page (each page and its cursor committed)."""
    mappings, fields, logs = pull_columns(connection=connection, spec=spec,
                                          remote_fields=connector.describe(spec.remote), run=run)
    counts.errors += len(logs)
    SyncLog.objects.bulk_create(logs)
    if fields is None:
        return
    cursor = SyncCursor.objects.filter(connection=connection, object=spec.object).first()
    since = (cursor.remote_modified_at, cursor.remote_id) if cursor else None
    ctx = Context(connection=connection, run=run, spec=spec, mappings=mappings)
    for page in connector.pull(spec.remote, fields, since):
        if not page:
            continue  # nothing changed since the cursor
        pull_page_commit(ctx, page, counts)
        run.pages += 1
        _save_counts(run, counts)
        Connection.objects.filter(pk=connection.pk).update(running_until=timezone.now() + RUN_LEASE)


def connection_push(*, connection_id: int, object: str, local_ids: list[int],
                    connector: Connector | None = None) -> SyncRun:
    """Push these local records to the CRM: the mapped fields changed since the last sync, upserted by external id in
    composite batches; record-level failures go to the sync log. A connection-level fault (ConnectorError) is raised
    for the caller to roll back its claim and record it (``connection_fault``)."""
    connection = Connection.objects.get(pk=connection_id)
    mappings_install_defaults(connection=connection)
    spec = SPECS[object]
    run = SyncRun.objects.create(connection=connection, kind=SyncRun.Kind.PUSH, started_at=timezone.now())
    counts = Counts()
    connector = connector or connector_for(connection, crypto.decrypt(connection.credentials_encrypted))
    mappings, logs = usable_mappings(connection=connection, spec=spec, remote_fields=connector.describe(spec.remote),
                                     run=run)
    counts.errors += len(logs)
    SyncLog.objects.bulk_create(logs)
    ctx = Context(connection=connection, run=run, spec=spec, mappings=mappings)
    (spec.push or push_batch)(ctx, local_ids, counts, lambda records, key_field: connector.push(
        spec.remote, key_field, records) if records else [])
    run.status, run.finished_at = SyncRun.Status.OK, timezone.now()
    _save_counts(run, counts)
    return run


PUSH_CLAIM = 1000  # outbox events per transaction


def crm_push_pending(*, limit: int = PUSH_CLAIM, connector_factory=None) -> int:
    """The outbox's "crm" consumer: claim pending events batch by batch and push their records to every OK
    connection, in the claiming transaction — a fault rolls the claim back (the events wait) and is recorded after
    the rollback (failing + notify, or backoff). While any connection is failing-free but backing off, nothing is
    claimed. Returns how many events were taken."""
    taken = 0
    while True:
        now = timezone.now()
        ready = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
        connections = list(Connection.objects.filter(status=Connection.Status.OK).filter(ready))
        if not connections and not Connection.objects.exclude(status=Connection.Status.DISABLED).exists():
            return taken + _drain(limit)  # no CRM to push to: let the outbox purge these events
        if not connections or Connection.objects.filter(status=Connection.Status.OK).exclude(ready).exists():
            return taken
        current = connections[0]
        try:
            with transaction.atomic():
                events = events_claim(consumer="crm", limit=limit)
                if not events:
                    return taken
                by_subject: dict[str, set[int]] = {}
                for event in events:
                    by_subject.setdefault(event.subject_type, set()).add(event.subject_id)
                # Each object pushes the records its subject's events name (partner events: accounts and contacts).
                by_object = {spec.object: by_subject[spec.push_subject] for spec in SPECS.values()
                             if spec.push_subject in by_subject}
                for current in connections:
                    connector = connector_factory(current) if connector_factory else None
                    for obj, ids in by_object.items():
                        connection_push(connection_id=current.pk, object=obj, local_ids=sorted(ids),
                                        connector=connector)
        except (ConnectorError, crypto.CredentialsUnreadable) as exc:
            connection_fault(connection=current, exc=exc, direction="out")
            return taken
        taken += len(events)
        if len(events) < limit:
            return taken


@transaction.atomic
def _drain(limit: int) -> int:
    taken = 0
    while batch := events_claim(consumer="crm", limit=limit):
        taken += len(batch)
    return taken


def _save_counts(run: SyncRun, counts: Counts) -> None:
    for name in ("received", "created", "updated", "skipped", "errors"):
        setattr(run, name, getattr(counts, name))
    run.save()


def _fail(connection: Connection, run: SyncRun, counts: Counts, exc: Exception) -> None:
    run.status, run.message = SyncRun.Status.FAILED, str(exc)[:500]
    counts.errors += 1
    connection_fault(connection=connection, exc=exc, run=run)


def connection_fault(*, connection: Connection, exc: Exception, run: SyncRun | None = None,
                     direction: str = "in") -> None:
    """Record a connection-level fault in the sync log and act on it: 401/403 → failing + managers and admins
    notified (once: only the OK → failing change notifies); 429/5xx/network → exponential backoff."""
    message = str(exc)[:500]
    now = timezone.now()
    code = getattr(exc, "code", "CREDENTIALS_UNREADABLE")
    SyncLog.objects.create(connection=connection, run=run, object="account", record="", direction=direction,
                           error_code=code[:60], message=message, at=now)
    if isinstance(exc, AuthRefused | crypto.CredentialsUnreadable):
        changed = Connection.objects.filter(pk=connection.pk, status=Connection.Status.OK).update(
            status=Connection.Status.FAILING, status_message=message)
        if changed:
            _notify_failing(connection, message, now)
    elif isinstance(exc, RetryLater):
        failures = connection.failures + 1
        delay = timedelta(seconds=exc.retry_after) if exc.retry_after else min(
            timedelta(minutes=2 ** min(failures - 1, 5)), BACKOFF_MAX)
        Connection.objects.filter(pk=connection.pk).update(failures=F("failures") + 1, next_attempt_at=now + delay,
                                                           status_message=message)
    elif isinstance(exc, RequestRejected):
        Connection.objects.filter(pk=connection.pk).update(status_message=message)


def _notify_failing(connection: Connection, message: str, now) -> None:
    users = get_user_model().objects.filter(is_active=True).filter(Q(is_superuser=True) | Q(groups__name=MANAGER))
    items = [
        NotificationItem(recipient_id=pk, event=Notification.Event.CRM_SYNC_FAILING,
                         title=f"CRM sync stopped: {connection.name}",
                         body=f"The CRM refused the connection's credentials ({message}). Nothing is synced until "
                              "new credentials are saved for this connection.",
                         link="/admin/integrations/connection/", source_key=f"crm:{connection.pk}:{int(now.timestamp())}")
        for pk in users.values_list("pk", flat=True).distinct()
    ]
    notifications_create(items=items)


def connections_due() -> list[int]:
    """Connections the beat should pull now (OK, not running, not backing off)."""
    now = timezone.now()
    return list(
        Connection.objects.filter(status=Connection.Status.OK)
        .filter(Q(running_until__isnull=True) | Q(running_until__lt=now))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .values_list("pk", flat=True)
    )


# --- Mapping changes: preview and resync -------------------------------------------------------------------------------

PREVIEW_RECORDS = 20


@dataclass(frozen=True)
class PreviewRow:
    remote_id: str
    local_id: int | None  # the linked local record (a partner, a lead, a deal registration)
    title: str
    local_value: object
    remote_value: object
    outcome: str


def mapping_preview(*, mapping: FieldMapping, connector: Connector | None = None) -> list[PreviewRow]:
    """What ``mapping`` (changed, not saved) would do to the 20 most recently changed remote records: reads the CRM
    (one query call) and our side (2 queries); writes nothing."""
    connection, spec = mapping.connection, SPECS[mapping.object]
    connector = connector or connector_for(connection, crypto.decrypt(connection.credentials_encrypted))
    records = connector.sample(spec.remote, [mapping.remote_field], PREVIEW_RECORDS)
    refs = {ref.remote_id: ref for ref in connection.refs.filter(object=spec.object,
                                                                 remote_id__in=[r.get("Id") for r in records])}
    local = {row["pk"]: row for row in spec.model.objects.filter(pk__in=[ref.local_id for ref in refs.values()])
             .values("pk", "updated_at", *local_columns([mapping.local_field, spec.title_field]))}
    rows = []
    for record in records:
        ref = refs.get(record.get("Id"))
        row = local.get(ref.local_id) if ref else None
        try:
            remote_value = to_local(spec, mapping.local_field, mapping.fixed_value if mapping.fixed_value is not None
                                    else record.get(mapping.remote_field), value_map_of(spec, mapping))
        except ValueError as exc:
            rows.append(PreviewRow(record.get("Id", ""), None, "", "", record.get(mapping.remote_field), str(exc)))
            continue
        current = local_value(row, mapping.local_field) if row else ""
        if row is None:
            outcome = ("not linked yet: a new record would get this value"
                       if mapping.direction != FieldMapping.Direction.OUT and spec.create_locally else "not linked yet")
        elif mapping.direction == FieldMapping.Direction.OUT:
            same = value_hash(current) == (ref.synced.get(mapping.local_field) if ref else None)
            outcome = "unchanged" if same else "PRM value sent to the CRM"
        elif mapping.apply_on != FieldMapping.ApplyOn.UPDATE:
            outcome = "unchanged (applies on create / first sync only)"
        elif decide(mapping, remote_value=remote_value, local_value=current,
                    last=ref.synced.get(mapping.local_field), remote_at=_modified(record),
                    local_at=row["updated_at"]):
            outcome = "PRM value replaced by the CRM's"
        else:
            outcome = "PRM value kept"
        rows.append(PreviewRow(record.get("Id", ""), row["pk"] if row else None,
                               str(row[spec.title_field]) if row else "", current, remote_value, outcome))
    return rows


@transaction.atomic
def connection_resync(*, connection: Connection) -> int:
    """Read everything again on the next pull (after a mapping change): the cursors are dropped; the per-field hashes
    keep unchanged values from being written again. Returns how many cursors were dropped."""
    deleted, _ = SyncCursor.objects.filter(connection=connection).delete()
    return deleted


def _modified(record: dict):
    from integrations.connectors import parse_datetime

    try:
        return parse_datetime(record["LastModifiedDate"])
    except (KeyError, TypeError, ValueError):
        return timezone.now()
