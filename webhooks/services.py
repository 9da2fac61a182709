"""Writes of webhooks: the only code that writes ``Endpoint`` and ``Delivery``.

Decisions:
- Endpoints belong to the manager (or admin) who made them; only they and admins (superusers) change them
  (webhooks.selectors scopes every page). The secret is made here, returned once (creation, rotation) and stored
  encrypted (webhooks.crypto). The URL passes the SSRF guard (webhooks.targets) when saved; the sender checks it
  again at every delivery.
- Fan-out (``deliveries_fan_out``): batches of up to FAN_OUT_BATCH events are claimed from the outbox for the
  consumer "webhooks" and, in the same transaction, one ``INSERT … SELECT … FROM unnest(events) JOIN endpoints …
  ON CONFLICT DO NOTHING`` makes a delivery for every (event, active endpoint subscribed to its topic, owner active):
  two statements per batch, whatever the number of events and endpoints. A crash rolls the claim back with the
  inserts; a repeated event is a no-op (unique (endpoint, event)).
- Sending (``deliveries_send_due``): a conditional UPDATE claims up to SEND_BATCH due rows (``FOR UPDATE SKIP
  LOCKED``: two workers take disjoint rows), moves their ``next_attempt_at`` to the end of a lease (LEASE), counts
  the attempt and stamps a claim token, and commits. The batch then goes out concurrently (webhooks.sender), and one
  UPDATE … FROM unnest(outcomes) writes every outcome — only where the token is still the claim's, so a worker whose
  lease ran out cannot overwrite a newer claim. A worker that dies after claiming leaves rows that come due again
  when the lease ends: delivery is at least once, and receivers drop duplicates by ``webhook-id``.
- Retries: a failed attempt n waits RETRY_DELAYS[n-1] (5 s, 5 min, 30 min, 2 h, 5 h, 8 h, 8 h: about 24 h in all),
  each multiplied by a random factor in [0.5, 1.5) so the retries of many deliveries that failed together (a
  receiver's outage) spread out instead of arriving as a herd; the expected total stays the schedule's ~24 h (full
  jitter, a factor in [0, 1), would halve the window and let a retry follow a failure at once). After MAX_ATTEMPTS
  failed attempts the delivery is dead-lettered (state failed); "send again" revives it.
- Auto-disable: ``failing_since`` is set by the first failure after a success and cleared by any success; an active
  endpoint whose failing_since is WEBHOOK_DISABLE_AFTER_DAYS old at a failure is disabled (a conditional UPDATE …
  RETURNING, so it happens once), its pending deliveries are dead-lettered and its owner and the admins are notified.
"""

import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from notifications.services import NotificationItem, notifications_create
from notifications.tasks import send_pending_emails
from outbox.services import events_claim
from prm.tasks import enqueue_on_commit
from webhooks import crypto, sender, targets
from webhooks.models import TEST_TOPIC, TOPIC_NAMES, Delivery, Endpoint
from webhooks.selectors import may_manage

CONSUMER = "webhooks"
FAN_OUT_BATCH = 1000
SEND_BATCH = 500
LEASE = timedelta(minutes=5)
RETRY_DELAYS = (
    timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=5),
    timedelta(hours=8), timedelta(hours=8),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
DISABLED_BY_FAILURES = "Every delivery failed for {days} days (since {since})."
DISABLED_BY_HAND = "Switched off by {name}."

User = AbstractBaseUser


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _enqueue_delivery() -> None:
    from webhooks import tasks  # the task module imports this one

    enqueue_on_commit(tasks.webhooks_deliver)


# --- Endpoints ------------------------------------------------------------------------------------------------------


def _check_can_change(endpoint: Endpoint, by: User) -> None:
    if not may_manage(by) or (endpoint.owner_id != by.pk and not by.is_superuser):
        raise PermissionDenied("Only the endpoint's owner or an admin may change it.")


def _clean_fields(*, url: str, description: str, events: list[str]) -> tuple[str, str, list[str]]:
    errors = {}
    try:
        url = targets.validate_url(url)
        targets.check(url, allow_private=settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS)
    except targets.UnsafeTarget as refused:
        errors["url"] = str(refused)
    description = " ".join((description or "").split())
    limit = Endpoint._meta.get_field("description").max_length
    if len(description) > limit:
        errors["description"] = f"Keep it to {limit} characters (it has {len(description)})."
    unknown = sorted(set(events) - set(TOPIC_NAMES))
    if unknown:
        errors["events"] = f"Unknown events: {', '.join(unknown)}."
    if errors:
        raise ValidationError(errors)
    return url, description, [topic for topic in TOPIC_NAMES if topic in set(events)]


@transaction.atomic
def endpoint_create(*, owner: User, url: str, description: str = "", events: list[str]) -> tuple[Endpoint, str]:
    """A new active endpoint of ``owner`` (a manager or admin); returns it and its secret (shown once)."""
    if not may_manage(owner):
        raise PermissionDenied("Only managers and admins register webhooks.")
    url, description, events = _clean_fields(url=url, description=description, events=events)
    secret = crypto.new_secret()
    endpoint = Endpoint(owner=owner, url=url, description=description, events=events,
                        secret_encrypted=crypto.encrypt(secret))
    endpoint.full_clean()
    endpoint.save()
    return endpoint, secret


@transaction.atomic
def endpoint_update(*, endpoint: Endpoint, by: User, url: str, description: str, events: list[str],
                    is_active: bool) -> Endpoint:
    """Change the URL, description, events and on/off switch. Switching off dead-letters what is pending (it can be
    sent again by hand later); switching on clears the failure record."""
    _check_can_change(endpoint, by)
    url, description, events = _clean_fields(url=url, description=description, events=events)
    locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    now = timezone.now()
    fields = ["url", "description", "events", "is_active", "updated_at"]
    locked.url, locked.description, locked.events = url, description, events
    if locked.is_active and not is_active:
        locked.is_active = False
        locked.disabled_at = now
        locked.disabled_reason = DISABLED_BY_HAND.format(name=by.get_full_name() or by.get_username())
        fields += ["disabled_at", "disabled_reason"]
        _dead_letter_pending(endpoint_ids=[locked.pk], reason="Endpoint switched off before this was sent.")
    elif not locked.is_active and is_active:
        locked.is_active = True
        locked.disabled_at, locked.disabled_reason, locked.failing_since = None, "", None
        fields += ["disabled_at", "disabled_reason", "failing_since"]
    locked.full_clean()
    locked.save(update_fields=fields)
    return locked


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: Endpoint, by: User) -> tuple[Endpoint, str]:
    """A new secret (returned once); the old one stops signing at once."""
    _check_can_change(endpoint, by)
    secret = crypto.new_secret()
    now = timezone.now()
    Endpoint.objects.filter(pk=endpoint.pk).update(secret_encrypted=crypto.encrypt(secret), secret_rotated_at=now,
                                                   updated_at=now)
    endpoint.refresh_from_db()
    return endpoint, secret


@transaction.atomic
def endpoint_delete(*, endpoint: Endpoint, by: User) -> None:
    """Delete the endpoint and its delivery log."""
    _check_can_change(endpoint, by)
    Delivery.objects.filter(endpoint_id=endpoint.pk).delete()
    Endpoint.objects.filter(pk=endpoint.pk).delete()


@transaction.atomic
def endpoint_send_test(*, endpoint: Endpoint, by: User) -> Delivery:
    """Queue a "webhook.test" event to the endpoint (sent right after commit)."""
    _check_can_change(endpoint, by)
    if not endpoint.is_active:
        raise ValidationError("Switch the endpoint on first: a switched-off endpoint is sent nothing.")
    now = timezone.now()
    delivery = Delivery(
        endpoint=endpoint, event_id=None, topic=TEST_TOPIC, message_id=_message_id(),
        payload={"message": "A test event from PRM: if you can read this, the endpoint works.",
                 "endpoint_id": endpoint.pk, "sent_by": by.get_username()},
        occurred_at=now, next_attempt_at=now, created_at=now,
    )
    delivery.full_clean()
    delivery.save()
    _enqueue_delivery()
    return delivery


@transaction.atomic
def delivery_resend(*, delivery: Delivery, by: User, now: datetime | None = None) -> bool:
    """Queue ``delivery`` again now, with a fresh retry schedule — a delivered, pending or dead one — under the same
    message id. Not while a worker is sending it (a conditional UPDATE); not to a switched-off endpoint.
    Returns whether it was queued."""
    endpoint = delivery.endpoint
    _check_can_change(endpoint, by)
    if not endpoint.is_active:
        raise ValidationError("Switch the endpoint on first: a switched-off endpoint is sent nothing.")
    now = now or timezone.now()
    in_flight = Delivery.objects.filter(pk=delivery.pk, claim_token__isnull=False, next_attempt_at__gt=now)
    changed = (Delivery.objects.filter(pk=delivery.pk, endpoint_id=endpoint.pk)
               .exclude(pk__in=in_flight.values("pk"))
               .update(state=Delivery.State.PENDING, attempts=0, next_attempt_at=now, claim_token=None))
    if changed:
        _enqueue_delivery()
    return bool(changed)


# --- Fan-out --------------------------------------------------------------------------------------------------------


@dataclass
class FanOut:
    events: int = 0
    deliveries: int = 0
    batches: int = 0


def _message_id() -> str:
    return "msg_" + uuid.uuid4().hex


def deliveries_fan_out(*, batch: int = FAN_OUT_BATCH, max_batches: int = 1000) -> FanOut:
    """Turn the outbox's unclaimed events into deliveries, batch after batch until none is left (or ``max_batches``):
    per batch, the claim and one INSERT in one transaction. Enqueues the sending after commit when rows were made."""
    run = FanOut()
    user_model = get_user_model()
    sql = f"""
        INSERT INTO {_table(Delivery)} (endpoint_id, event_id, topic, message_id, payload, occurred_at, state,
            attempts, next_attempt_at, last_error, created_at)
        SELECT ep.id, e.id, e.topic, 'msg_' || replace(gen_random_uuid()::text, '-', ''), e.payload, e.occurred_at,
               %(pending)s, 0, %(now)s, '', %(now)s
        FROM unnest(%(ids)s::bigint[], %(topics)s::text[], %(payloads)s::jsonb[], %(occurred)s::timestamptz[])
             AS e(id, topic, payload, occurred_at)
        JOIN {_table(Endpoint)} ep ON ep.is_active AND (ep.events = '{{}}' OR e.topic = ANY(ep.events))
        JOIN {_table(user_model)} u ON u.id = ep.owner_id AND u.is_active
        ORDER BY e.id, ep.id
        ON CONFLICT (endpoint_id, event_id) DO NOTHING
    """  # noqa: S608 (table names from the models; values are parameters)
    for _ in range(max_batches):
        with transaction.atomic():
            events = events_claim(consumer=CONSUMER, limit=batch)
            if not events:
                break
            with connection.cursor() as cursor:
                cursor.execute(sql, {
                    "pending": Delivery.State.PENDING,
                    "now": timezone.now(),
                    "ids": [event.id for event in events],
                    "topics": [event.topic for event in events],
                    "payloads": [json.dumps(event.payload, cls=DjangoJSONEncoder) for event in events],
                    "occurred": [event.occurred_at for event in events],
                })
                made = cursor.rowcount
            if made:
                _enqueue_delivery()
        run.events += len(events)
        run.deliveries += made
        run.batches += 1
        if len(events) < batch:
            break
    return run


# --- Sending --------------------------------------------------------------------------------------------------------


@dataclass
class SendRun:
    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    disabled: int = 0


def retry_delay(attempt: int, *, rng: random.Random | None = None) -> timedelta | None:
    """How long to wait after failed attempt number ``attempt`` (1 = the first); None when it was the last."""
    if attempt >= MAX_ATTEMPTS:
        return None
    base = RETRY_DELAYS[max(attempt, 1) - 1]
    return base * (0.5 + (rng or random).random())


def _claim(*, now: datetime, batch: int, token: uuid.UUID) -> list[tuple]:
    """Claim up to ``batch`` due deliveries of active endpoints (committed when the caller is in autocommit):
    (id, message id, topic, payload as JSON text, occurred at, attempt number, endpoint id, url, encrypted secret)."""
    sql = f"""
        WITH due AS (
            SELECT d.id FROM {_table(Delivery)} d
            JOIN {_table(Endpoint)} ep ON ep.id = d.endpoint_id AND ep.is_active
            WHERE d.state = %(pending)s AND d.next_attempt_at <= %(now)s
            ORDER BY d.next_attempt_at, d.id
            LIMIT %(batch)s
            FOR UPDATE OF d SKIP LOCKED
        )
        UPDATE {_table(Delivery)} d
        SET next_attempt_at = %(lease_end)s, claim_token = %(token)s, attempts = d.attempts + 1
        FROM due, {_table(Endpoint)} ep
        WHERE d.id = due.id AND ep.id = d.endpoint_id
        RETURNING d.id, d.message_id, d.topic, d.payload::text, d.occurred_at, d.attempts, ep.id, ep.url,
                  ep.secret_encrypted
    """  # noqa: S608 (table names from the models; values are parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"pending": Delivery.State.PENDING, "now": now, "batch": batch, "lease_end": now + LEASE,
                             "token": token})
        return cursor.fetchall()


def body_of(*, topic: str, occurred_at: datetime, payload_json: str) -> str:
    """The request body: {"type", "timestamp" (ISO 8601, UTC), "data"}; ``payload_json`` is inserted as it is."""
    stamp = occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return f'{{"type":{json.dumps(topic)},"timestamp":"{stamp}","data":{payload_json}}}'


def deliveries_send_due(*, now: datetime | None = None, batch: int = SEND_BATCH,
                        using: sender.Sender | None = None) -> SendRun:
    """Claim one batch of due deliveries, send it, record the outcomes; returns what happened. Call it outside a
    transaction (a worker's autocommit) so the claim is committed before anything is sent."""
    now = now or timezone.now()
    token = uuid.uuid4()
    rows = _claim(now=now, batch=batch, token=token)
    run = SendRun(claimed=len(rows))
    if not rows:
        return run
    secrets: dict[int, str | crypto.SecretUnreadable] = {}
    messages, unreadable = [], []
    for delivery_id, message_id, topic, payload_json, occurred_at, _attempt, endpoint_id, url, encrypted in rows:
        if endpoint_id not in secrets:
            try:
                secrets[endpoint_id] = crypto.decrypt(encrypted)
            except crypto.SecretUnreadable as error:
                secrets[endpoint_id] = error
        secret = secrets[endpoint_id]
        if isinstance(secret, crypto.SecretUnreadable):
            unreadable.append(sender.Outcome(delivery_id, None, str(secret)[:sender.ERROR_MAX], 0, timezone.now()))
            continue
        messages.append(sender.Message(key=delivery_id, url=url, message_id=message_id, secret=secret,
                                       body=body_of(topic=topic, occurred_at=occurred_at, payload_json=payload_json)))
    outcomes = (using or sender.process_sender()).send(messages) + unreadable
    attempts = {row[0]: row[5] for row in rows}
    endpoint_of = {row[0]: row[6] for row in rows}
    ids, states, next_at, at, statuses, errors, durations = [], [], [], [], [], [], []
    ok_endpoints, failed_endpoints = set(), {}
    for outcome in outcomes:
        ids.append(outcome.key)
        at.append(outcome.attempted_at)
        statuses.append(outcome.status)
        errors.append(outcome.error)
        durations.append(outcome.duration_ms)
        if outcome.ok:
            states.append(Delivery.State.DELIVERED)
            next_at.append(None)
            ok_endpoints.add(endpoint_of[outcome.key])
            run.delivered += 1
            continue
        failed_endpoints.setdefault(endpoint_of[outcome.key], outcome.attempted_at)
        delay = retry_delay(attempts[outcome.key])
        if delay is None:
            states.append(Delivery.State.FAILED)
            next_at.append(None)
            run.dead += 1
        else:
            states.append(Delivery.State.PENDING)
            next_at.append(outcome.attempted_at + delay)
            run.retrying += 1
    with transaction.atomic():
        _record(token=token, ids=ids, states=states, next_at=next_at, at=at, statuses=statuses, errors=errors,
                durations=durations)
        _mark_failing(ok=sorted(ok_endpoints),
                      failed={pk: when for pk, when in failed_endpoints.items() if pk not in ok_endpoints})
        if failed_endpoints:
            run.disabled = endpoints_disable_failing(now=max(failed_endpoints.values()))
    return run


def _record(*, token, ids, states, next_at, at, statuses, errors, durations) -> int:
    sql = f"""
        UPDATE {_table(Delivery)} d
        SET state = r.state, next_attempt_at = r.next_at, claim_token = NULL, last_attempt_at = r.at,
            last_status = r.status, last_error = r.error, last_duration_ms = r.ms,
            delivered_at = CASE WHEN r.state = %(delivered)s THEN r.at ELSE d.delivered_at END
        FROM unnest(%(ids)s::bigint[], %(states)s::text[], %(next_at)s::timestamptz[], %(at)s::timestamptz[],
                    %(statuses)s::int[], %(errors)s::text[], %(durations)s::int[])
             AS r(id, state, next_at, at, status, error, ms)
        WHERE d.id = r.id AND d.claim_token = %(token)s
    """  # noqa: S608 (table name from the model; values are parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"delivered": Delivery.State.DELIVERED, "ids": ids, "states": states, "next_at": next_at,
                             "at": at, "statuses": statuses, "errors": errors, "durations": durations,
                             "token": token})
        return cursor.rowcount


def _mark_failing(*, ok: list[int], failed: dict[int, datetime]) -> None:
    """A success clears an endpoint's failure record; a failure starts one where none is running."""
    if ok:
        Endpoint.objects.filter(pk__in=ok, failing_since__isnull=False).update(failing_since=None)
    if failed:
        sql = f"""
            UPDATE {_table(Endpoint)} ep SET failing_since = f.at
            FROM unnest(%(ids)s::bigint[], %(at)s::timestamptz[]) AS f(id, at)
            WHERE ep.id = f.id AND ep.failing_since IS NULL
        """  # noqa: S608 (table name from the model; values are parameters)
        with connection.cursor() as cursor:
            cursor.execute(sql, {"ids": list(failed), "at": list(failed.values())})


def _dead_letter_pending(*, endpoint_ids: list[int], reason: str) -> int:
    return (Delivery.objects.filter(endpoint_id__in=endpoint_ids, state=Delivery.State.PENDING)
            .update(state=Delivery.State.FAILED, next_attempt_at=None, claim_token=None, last_error=reason))


def _admin_ids() -> list[int]:
    return list(get_user_model().objects.filter(is_active=True, is_superuser=True).values_list("pk", flat=True))


@transaction.atomic
def endpoints_disable_failing(*, now: datetime | None = None) -> int:
    """Disable every active endpoint failing for WEBHOOK_DISABLE_AFTER_DAYS (one conditional UPDATE … RETURNING),
    dead-letter their pending deliveries and notify each one's owner and the admins. Returns how many."""
    now = now or timezone.now()
    days = settings.WEBHOOK_DISABLE_AFTER_DAYS
    rows = list(
        Endpoint.objects.filter(is_active=True, failing_since__lte=now - timedelta(days=days))
        .values_list("pk", "owner_id", "url", "failing_since")
    )
    if not rows:
        return 0
    reason_of = {pk: DISABLED_BY_FAILURES.format(days=days, since=timezone.localtime(since).strftime("%Y-%m-%d %H:%M"))
                 for pk, _owner, _url, since in rows}
    sql = f"""
        UPDATE {_table(Endpoint)} ep SET is_active = false, disabled_at = %(now)s, disabled_reason = r.reason,
            updated_at = %(now)s
        FROM unnest(%(ids)s::bigint[], %(reasons)s::text[]) AS r(id, reason)
        WHERE ep.id = r.id AND ep.is_active AND ep.failing_since <= %(cutoff)s
        RETURNING ep.id
    """  # noqa: S608 (table name from the model; values are parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"now": now, "ids": list(reason_of), "reasons": list(reason_of.values()),
                             "cutoff": now - timedelta(days=days)})
        disabled = {row[0] for row in cursor.fetchall()}
    if not disabled:
        return 0
    _dead_letter_pending(endpoint_ids=sorted(disabled), reason="Endpoint disabled after failing for days: not sent.")
    admins = _admin_ids()
    items = []
    for pk, owner_id, url, _since in rows:
        if pk not in disabled:
            continue
        for recipient in dict.fromkeys([owner_id, *admins]):
            items.append(NotificationItem(
                recipient_id=recipient, event=Notification.Event.WEBHOOK_DISABLED,
                title=f"Webhook endpoint disabled: {url}",
                body=f"{reason_of[pk]} It receives nothing until it is switched on again on its page; what was "
                     "waiting is in its delivery log, to send again once the receiver works.",
                link=reverse("webhooks:detail", args=[pk]),
                source_key=f"endpoint:{pk}:{int(now.timestamp())}",
            ))
    if notifications_create(items=items):
        enqueue_on_commit(send_pending_emails)
    return len(disabled)


def deliveries_purge(*, now: datetime | None = None) -> int:
    """Delete delivered and dead deliveries older than WEBHOOK_LOG_RETENTION_DAYS (one DELETE). Returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.WEBHOOK_LOG_RETENTION_DAYS)
    gone, _ = Delivery.objects.filter(created_at__lt=cutoff).exclude(state=Delivery.State.PENDING).delete()
    return gone


def endpoints_reencrypt() -> int:
    """Re-encrypt every endpoint's secret under the first WEBHOOK_SECRET_KEYS key (after adding a key): one UPDATE.
    Returns how many were rewritten; an unreadable one raises crypto.SecretUnreadable and nothing is written."""
    with transaction.atomic():
        rows = list(Endpoint.objects.select_for_update().values_list("pk", "secret_encrypted"))
        if not rows:
            return 0
        tokens = [crypto.reencrypt(token) for _pk, token in rows]
        sql = f"""
            UPDATE {_table(Endpoint)} ep SET secret_encrypted = r.token
            FROM unnest(%(ids)s::bigint[], %(tokens)s::text[]) AS r(id, token) WHERE ep.id = r.id
        """  # noqa: S608 (table name from the model; values are parameters)
        with connection.cursor() as cursor:
            cursor.execute(sql, {"ids": [pk for pk, _token in rows], "tokens": tokens})
    return len(rows)
