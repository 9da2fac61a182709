"""Writes of notifications: the only code that writes ``Notification``, and ``Preference.digest_next_at`` through
the digest claim (the settings page's ``notifications.preferences`` writes the rest of ``Preference``).

Decisions:
- Creation is set-based and idempotent: one ``INSERT … SELECT FROM unnest(arrays) … ON CONFLICT DO NOTHING`` per
  call, keyed by (recipient, event, source_key), so a task that runs twice, or two beats, create each notification
  once. Whether it will be emailed is decided in the same statement: the recipient is active, has an address, and
  has not switched email off (no Preference row = on).
- Email is sent by a separate claim: a conditional UPDATE moves a batch pending → sending (``FOR UPDATE SKIP
  LOCKED``: parallel senders take disjoint batches) and commits, then the messages go out through one SMTP
  connection, then sent rows are marked ``sent`` and failed ones go back to ``pending`` (``failed`` after
  ``EMAIL_MAX_ATTEMPTS``). A sender that dies after claiming leaves rows in ``sending``; they are claimed again after
  ``EMAIL_RECLAIM_AFTER``. So delivery is at-least-once if a worker dies between the SMTP server accepting a message
  and the row being marked sent, and exactly once otherwise.
- A failed row waits ``email_attempts`` minutes before its next try (a down SMTP server is not hammered every tick).
- The digest claim moves each due ``Preference.digest_next_at`` to the next 08:00 in the user's zone, computed by
  PostgreSQL for all rows in one UPDATE … RETURNING (a second run finds nothing due).
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from notifications.models import Notification, Preference

logger = logging.getLogger(__name__)
User = AbstractBaseUser

EMAIL_BATCH = 200  # messages per sender run (one SMTP connection)
EMAIL_MAX_ATTEMPTS = 5  # after this many failed tries a row is marked failed
EMAIL_RECLAIM_AFTER = timedelta(minutes=5)  # a 'sending' row older than this belongs to a sender that died


@dataclass(frozen=True, slots=True)
class NotificationItem:
    """What to tell whom: one notification to create (``source_key`` makes it unique per recipient and event)."""

    recipient_id: int
    event: str
    title: str
    source_key: str
    body: str = ""
    link: str = ""


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def notifications_create(*, items: list[NotificationItem]) -> int:
    """Create the notifications of ``items`` that do not exist yet, in one statement; returns how many were created.

    Titles are cut to the column's length. The email state is ``pending`` for an active recipient with an email
    address whose ``Preference.email_notifications`` is on (or who has no Preference row), else ``none``.
    """
    if not items:
        return 0
    user_model = get_user_model()
    email_column = user_model._meta.get_field(user_model.get_email_field_name()).column
    title_max = Notification._meta.get_field("title").max_length
    link_max = Notification._meta.get_field("link").max_length
    sql = f"""
        INSERT INTO {_table(Notification)} (recipient_id, event, title, body, link, source_key, created_at,
            email_state, email_attempts, email_error)
        SELECT i.recipient_id, i.event, i.title, i.body, i.link, i.source_key, %(now)s,
               CASE WHEN u.is_active AND coalesce(u.{connection.ops.quote_name(email_column)}, '') <> ''
                         AND coalesce(p.email_notifications, true)
                    THEN %(pending)s ELSE %(none)s END,
               0, ''
        FROM unnest(%(recipients)s::bigint[], %(events)s::text[], %(titles)s::text[], %(bodies)s::text[],
                    %(links)s::text[], %(keys)s::text[]) AS i(recipient_id, event, title, body, link, source_key)
        JOIN {_table(user_model)} u ON u.id = i.recipient_id
        LEFT JOIN {_table(Preference)} p ON p.user_id = i.recipient_id
        ON CONFLICT (recipient_id, event, source_key) DO NOTHING
    """  # noqa: S608 (table and column names from the models; values are parameters)
    params = {
        "now": timezone.now(),
        "pending": Notification.Email.PENDING,
        "none": Notification.Email.NONE,
        "recipients": [item.recipient_id for item in items],
        "events": [item.event for item in items],
        "titles": [item.title[:title_max] for item in items],
        "bodies": [item.body for item in items],
        "links": [item.link[:link_max] for item in items],
        "keys": [item.source_key for item in items],
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def notification_mark_read(*, notification: Notification, user: User) -> bool:
    """Mark ``user``'s ``notification`` read (a conditional UPDATE: someone else's, or an already read one, is left
    alone). Returns whether it changed."""
    now = timezone.now()
    changed = Notification.objects.filter(pk=notification.pk, recipient_id=user.pk, read_at__isnull=True).update(
        read_at=now
    )
    if changed:
        notification.read_at = now
    return bool(changed)


def notifications_mark_all_read(*, user: User) -> int:
    """Mark all of ``user``'s unread notifications read (one UPDATE). Returns how many."""
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).update(read_at=timezone.now())


# --- Email --------------------------------------------------------------------------------------------------------


@dataclass
class EmailRun:
    """What one sender run did."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0  # went back to pending (or to failed after the last attempt)


def _claim_emails(*, now: datetime, batch: int) -> list[tuple]:
    """Move up to ``batch`` due rows to 'sending' (committed at once, so a crash leaves them reclaimable), with what
    the message needs: (id, email, first name, username, event, title, body, link)."""
    user_model = get_user_model()
    email_column = connection.ops.quote_name(user_model._meta.get_field(user_model.get_email_field_name()).column)
    sql = f"""
        WITH due AS (
            SELECT n.id FROM {_table(Notification)} n
            WHERE (n.email_state = %(pending)s
                   AND (n.email_claimed_at IS NULL
                        OR n.email_claimed_at <= %(now)s - n.email_attempts * interval '1 minute'))
               OR (n.email_state = %(sending)s AND n.email_claimed_at <= %(stale)s)
            ORDER BY n.id
            LIMIT %(batch)s
            FOR UPDATE OF n SKIP LOCKED
        )
        UPDATE {_table(Notification)} n
        SET email_state = %(sending)s, email_claimed_at = %(now)s, email_attempts = n.email_attempts + 1
        FROM due, {_table(user_model)} u
        WHERE n.id = due.id AND u.id = n.recipient_id
        RETURNING n.id, u.{email_column}, u.first_name, u.username, n.event, n.title, n.body, n.link
    """  # noqa: S608 (names from the models; values are parameters)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, {"pending": Notification.Email.PENDING, "sending": Notification.Email.SENDING,
                             "now": now, "stale": now - EMAIL_RECLAIM_AFTER, "batch": batch})
        return sorted(cursor.fetchall())


def site_url(path: str) -> str:
    """An absolute URL for a path of this site (``settings.SITE_URL``), for emails and calendar feeds."""
    return settings.SITE_URL.rstrip("/") + "/" + path.lstrip("/")


def _message(row: tuple, *, from_email: str | None) -> EmailMultiAlternatives:
    _id, email, first_name, username, event, title, body, link = row
    context = {
        "name": first_name or username,
        "event": Notification.Event(event).label if event in Notification.Event.values else "",
        "title": title,
        "body": body,
        "url": site_url(link) if link.startswith("/") and not link.startswith("//") else "",
        # A notification for a partner user links into the portal (/portal/…), the only part of the site they reach:
        # its footer points there too, and offers no link to the staff's settings page.
        "list_url": site_url("/portal/" if link.startswith("/portal/") else "/notifications/"),
        "settings_url": "" if link.startswith("/portal/") else site_url("/settings/"),
    }
    text = render_to_string("notifications/email.txt", context)
    html = render_to_string("notifications/email.html", context)
    message = EmailMultiAlternatives(subject=title, body=text, from_email=from_email, to=[email])
    message.attach_alternative(html, "text/html")
    return message


def notifications_send_pending_emails(*, batch: int = EMAIL_BATCH, now: datetime | None = None) -> EmailRun:
    """Send one batch of pending notification emails through one connection (``get_connection()``: the
    EMAIL_BACKEND of the settings). Safe to run in parallel and twice (see the module's decisions)."""
    now = now or timezone.now()
    rows = _claim_emails(now=now, batch=batch)
    run = EmailRun(claimed=len(rows))
    if not rows:
        return run
    sent, errors = [], {}
    try:
        with get_connection(fail_silently=False) as mail:
            for row in rows:
                try:
                    if mail.send_messages([_message(row, from_email=None)]):
                        sent.append(row[0])
                    else:
                        errors[row[0]] = "the mail backend did not accept the message"
                except Exception as error:  # one bad message (refused recipient, template) must not stop the rest
                    logger.warning("notification %s: email failed: %s", row[0], error)
                    errors[row[0]] = f"{type(error).__name__}: {error}"
    except Exception as error:  # the connection itself (refused, TLS, login): every message not sent waits
        logger.warning("notification emails: connection failed: %s", error)
        for row in rows:
            if row[0] not in sent:
                errors.setdefault(row[0], f"{type(error).__name__}: {error}")
    _mark_emails(now=now, sent=sent, errors=errors)
    run.sent, run.failed = len(sent), len(errors)
    return run


def _mark_emails(*, now: datetime, sent: list[int], errors: dict[int, str]) -> None:
    """Record the outcome of our claim (rows still 'sending' with our claim time: a row another sender reclaimed
    meanwhile is its business now)."""
    table = _table(Notification)
    with transaction.atomic(), connection.cursor() as cursor:
        if sent:
            cursor.execute(
                f"UPDATE {table} SET email_state = %s, emailed_at = %s, email_error = ''"  # noqa: S608
                " WHERE id = ANY(%s) AND email_state = %s AND email_claimed_at = %s",
                [Notification.Email.SENT, timezone.now(), sent, Notification.Email.SENDING, now],
            )
        if errors:
            cursor.execute(
                f"""UPDATE {table} n
                SET email_state = CASE WHEN n.email_attempts >= %(max)s THEN %(failed)s ELSE %(pending)s END,
                    email_error = left(e.error, 500)
                FROM unnest(%(ids)s::bigint[], %(errors)s::text[]) AS e(id, error)
                WHERE n.id = e.id AND n.email_state = %(sending)s AND n.email_claimed_at = %(now)s""",  # noqa: S608
                {"max": EMAIL_MAX_ATTEMPTS, "failed": Notification.Email.FAILED,
                 "pending": Notification.Email.PENDING, "sending": Notification.Email.SENDING, "now": now,
                 "ids": list(errors), "errors": list(errors.values())},
            )


# --- Digest claim -------------------------------------------------------------------------------------------------


def preferences_claim_digests(*, now: datetime) -> list[tuple[int, str]]:
    """Claim the morning digests due at ``now``: one conditional UPDATE of the Preference rows with the digest on
    and ``digest_next_at <= now``, moving ``digest_next_at`` to the next 08:00 after ``now`` in the user's zone
    (blank: ``settings.TIME_ZONE``; a name PostgreSQL does not know: that too). Returns [(user_id, zone name)] of
    the claimed users, whose digest the caller now builds; a second call finds nothing.

    A row with the digest on but no ``digest_next_at`` (set outside the settings page) is scheduled, not claimed.
    Queries: one when nothing is due; three otherwise (the zones in use, checked against PostgreSQL's list, then the
    UPDATE).
    """
    table = _table(Preference)
    default = settings.TIME_ZONE
    zone = "coalesce(nullif(p.time_zone, ''), %(default)s)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT {zone} FROM {table} p WHERE p.digest_enabled"  # noqa: S608
            " AND (p.digest_next_at IS NULL OR p.digest_next_at <= %(now)s)",
            {"default": default, "now": now},
        )
        zones = [row[0] for row in cursor.fetchall()]
        if not zones:
            return []
        cursor.execute("SELECT name FROM pg_timezone_names WHERE name = ANY(%s)", [zones])
        known = [row[0] for row in cursor.fetchall()] + [default]
        # The next 08:00 local after now: today's 08:00 local, or tomorrow's when it has passed (local arithmetic,
        # then back to an instant: right across daylight-saving changes, which happen at night).
        cursor.execute(
            f"""
            WITH due AS (
                SELECT p.user_id, p.digest_next_at IS NOT NULL AS was_due,
                       CASE WHEN {zone} = ANY(%(known)s) THEN {zone} ELSE %(default)s END AS tz
                FROM {table} p
                WHERE p.digest_enabled AND (p.digest_next_at IS NULL OR p.digest_next_at <= %(now)s)
                FOR UPDATE OF p SKIP LOCKED
            )
            UPDATE {table} p
            SET digest_next_at = (
                date_trunc('day', %(now)s AT TIME ZONE due.tz) + interval '8 hours'
                + CASE WHEN date_trunc('day', %(now)s AT TIME ZONE due.tz) + interval '8 hours'
                            <= (%(now)s AT TIME ZONE due.tz)
                       THEN interval '1 day' ELSE interval '0' END
            ) AT TIME ZONE due.tz
            FROM due
            WHERE p.user_id = due.user_id AND p.digest_enabled
              AND (p.digest_next_at IS NULL OR p.digest_next_at <= %(now)s)
            RETURNING p.user_id, due.tz, due.was_due
            """,  # noqa: S608 (names from the models; values are parameters)
            {"default": default, "now": now, "known": known},
        )
        return sorted((user_id, tz) for user_id, tz, was_due in cursor.fetchall() if was_due)
