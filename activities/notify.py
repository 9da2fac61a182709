"""Activity services that notify: the beat's claim of what is due, and the morning digest (re-exported by
``activities.services``; only these functions set ``Activity.notified_at``, and
``activities.services.activity_reschedule`` clears it when ``start_at`` moves, so the new time notifies again).

Decisions:
- One claim per batch: a conditional ``UPDATE … SET notified_at = now … RETURNING`` of the planned, not yet notified
  activities that are due — a reminder whose time has come, or a call/meeting starting within its owner's lead time
  (``Preference.lead_minutes``, default 15) and not more than an hour ago. ``FOR UPDATE SKIP LOCKED`` in the selecting
  CTE: two ticks in parallel take disjoint rows; a row another tick has claimed and committed fails the re-checked
  ``notified_at IS NULL``. The claim and the notifications it creates are one transaction, so a crash between them
  claims nothing (the next tick sends it), and the email is enqueued only after the commit.
- Batches of ``NOTIFY_BATCH`` rows, in the same transaction: memory stays flat whatever the number due (100,000 due
  rows are ~20 batches; docs/benchmarks.md).
- Calls/meetings more than an hour past that were never notified (the beat was down, or one was entered late) are
  claimed without a notification: "starting soon" would be wrong, and claiming keeps the partial index
  ``activity_notify_due_idx`` (what every tick reads) small.
- Who is told: the activity's owner while they can still see its partner or customer (the partner is assigned to them;
  the customer is, or its partner is, as ``leads.customer_selectors.customers_visible_to``; or they see all:
  superuser or ``partners.view_all_partners`` directly or through a group, as
  ``partners.selectors.user_sees_all_partners``); otherwise the partner's (the customer's, else its partner's)
  current assignee; otherwise nobody. Inactive users are never told. The link goes to the partner's or customer's
  page.
- Times in titles are in the recipient's zone (``Preference.time_zone``; blank: the organisation's).
"""

import zoneinfo
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from activities.models import Activity
from leads.models import Customer
from notifications.models import Notification, Preference
from notifications.services import NotificationItem, notifications_create, preferences_claim_digests
from notifications.tasks import send_pending_emails
from partners.models import Partner
from partners.selectors import VIEW_ALL_PERMISSION
from prm.formats import DATE_STYLES
from prm.tasks import enqueue_on_commit

NOTIFY_BATCH = 5_000
STARTS_SOON_WINDOW_MINUTES = 60  # a call/meeting is "starting soon" news until an hour after its start
DIGEST_ITEMS = 20  # the digest lists this many of the day's calls, meetings and due reminders (then "and N more")


def _q(model_or_table) -> str:
    table = model_or_table if isinstance(model_or_table, str) else model_or_table._meta.db_table
    return connection.ops.quote_name(table)


def _sees_all_sql(user_alias: str) -> str:
    """SQL: the user row ``user_alias`` sees every partner (what partners.selectors.user_sees_all_partners answers)."""
    user_model = get_user_model()
    app_label, codename = VIEW_ALL_PERMISSION.split(".")
    permission = (
        f"(SELECT pm.id FROM {_q(Permission)} pm JOIN {_q(ContentType)} ct ON ct.id = pm.content_type_id"  # noqa: S608
        f" WHERE ct.app_label = '{app_label}' AND pm.codename = '{codename}')"
    )
    user_permissions = _q(user_model.user_permissions.through)
    user_groups = _q(user_model.groups.through)
    group_permissions = _q(Group.permissions.through)
    return (
        f"({user_alias}.is_active AND ({user_alias}.is_superuser"  # noqa: S608
        f" OR EXISTS (SELECT 1 FROM {user_permissions} up WHERE up.user_id = {user_alias}.id"  # noqa: S608
        f" AND up.permission_id = {permission})"
        f" OR EXISTS (SELECT 1 FROM {user_groups} ug JOIN {group_permissions} gp ON gp.group_id = ug.group_id"
        f" WHERE ug.user_id = {user_alias}.id AND gp.permission_id = {permission})))"
    )


def _claim_sql() -> str:
    """One batch: pick (activity rows only, locked, skipping rows another tick holds), claim, then
    read what the notifications need for the claimed rows only (partner or customer, recipient, recipient's zone).
    ``s.assignee_id``: the partner's assignee, or the customer's (else its partner's)."""
    users = _q(get_user_model())
    preferences = _q(Preference)
    return f"""
        WITH due AS (
            SELECT a.id FROM {_q(Activity)} a
            LEFT JOIN {preferences} op ON op.user_id = a.owner_id
            WHERE a.status = %(planned)s AND a.notified_at IS NULL
              -- the partial index's range: nothing can be due later than the longest lead time from now
              AND a.start_at <= %(now)s + (SELECT greatest(%(default_lead)s, max(lead_minutes))
                                           FROM {preferences}) * interval '1 minute'
              AND ((a.mode = %(reminder)s AND a.start_at <= %(now)s)
                   OR (a.mode = %(scheduled)s
                       AND a.start_at <= %(now)s + coalesce(op.lead_minutes, %(default_lead)s) * interval '1 minute'))
            LIMIT %(batch)s  -- no ORDER BY: a tick claims everything due, batch after batch (the scan stops early)
            FOR UPDATE OF a SKIP LOCKED
        ), claimed AS (
            UPDATE {_q(Activity)} a SET notified_at = %(now)s
            FROM due
            WHERE a.id = due.id AND a.notified_at IS NULL AND a.status = %(planned)s
            RETURNING a.id, a.mode, a.kind, a.subject, a.start_at, a.partner_id, a.customer_id, a.owner_id
        )
        SELECT c.id, c.mode, c.kind, c.subject, c.start_at, c.partner_id, c.customer_id, COALESCE(p.name, cu.name),
               r.recipient_id, CASE WHEN r.recipient_id = c.owner_id THEN op.time_zone ELSE ap.time_zone END,
               c.mode = %(scheduled)s AND c.start_at <= %(now)s - %(window)s * interval '1 minute' AS stale
        FROM claimed c
        LEFT JOIN {_q(Partner)} p ON p.id = c.partner_id
        LEFT JOIN {_q(Customer)} cu ON cu.id = c.customer_id
        LEFT JOIN {_q(Partner)} cp ON cp.id = cu.partner_id
        CROSS JOIN LATERAL (SELECT COALESCE(p.assigned_to_id, cu.assigned_to_id, cp.assigned_to_id) AS assignee_id) s
        LEFT JOIN {users} ow ON ow.id = c.owner_id
        LEFT JOIN {users} asg ON asg.id = s.assignee_id
        LEFT JOIN {preferences} op ON op.user_id = c.owner_id
        LEFT JOIN {preferences} ap ON ap.user_id = s.assignee_id
        CROSS JOIN LATERAL (SELECT CASE
            WHEN ow.is_active AND (p.assigned_to_id = ow.id OR cu.assigned_to_id = ow.id OR cp.assigned_to_id = ow.id
                                   OR {_sees_all_sql('ow')}) THEN ow.id
            WHEN asg.is_active THEN asg.id
        END AS recipient_id) r
    """  # noqa: S608 (names from the models; values are parameters)


_ZONES: dict[str, zoneinfo.ZoneInfo] = {}


def _zone(name: str | None) -> zoneinfo.ZoneInfo:
    name = name or settings.TIME_ZONE
    if name not in _ZONES:
        try:
            _ZONES[name] = zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            _ZONES[name] = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return _ZONES[name]


_SENTINEL = 987654321


class _Texts:
    """The translated texts and URL pattern of one tick, looked up once (not per row: 100,000 rows a tick)."""

    def __init__(self):
        self.reminder_title = _("Reminder: %(subject)s · %(partner)s")
        self.follow_up = _("follow up")
        self.due = _("Due %(when)s")
        self.starts_title = _("%(kind)s with %(partner)s at %(time)s")
        self.starts = _("Starts %(when)s")
        self.kinds = {value: str(label) for value, label in Activity.Kind.choices}
        self.link = reverse("partners:detail", args=[_SENTINEL]).replace(str(_SENTINEL), "{}") + "#activity-{}"
        self.customer_link = (
            reverse("customers:detail", args=[_SENTINEL]).replace(str(_SENTINEL), "{}") + "#activity-{}"
        )


_DATETIME, _TIME = DATE_STYLES["datetime"], DATE_STYLES["time"]


def _item(row: tuple, texts: _Texts) -> NotificationItem:
    activity_id, mode, kind, subject, start_at, partner_id, customer_id, partner_name, recipient_id, time_zone, _ = row
    local = start_at.astimezone(_zone(time_zone))
    when = _DATETIME(local)
    if mode == Activity.Mode.REMINDER:
        event = Notification.Event.REMINDER_DUE
        title = texts.reminder_title % {"subject": subject or texts.follow_up, "partner": partner_name}
        body = texts.due % {"when": when}
    else:
        event = Notification.Event.STARTS_SOON
        title = texts.starts_title % {"kind": texts.kinds.get(kind, kind), "partner": partner_name, "time": _TIME(local)}
        body = (f"{subject}\n" if subject else "") + texts.starts % {"when": when}
    return NotificationItem(
        recipient_id=recipient_id, event=event, title=title, body=body,
        link=texts.link.format(partner_id, activity_id) if partner_id is not None
        else texts.customer_link.format(customer_id, activity_id),
        # the start time is part of the key: a rescheduled activity notifies again at its new time
        source_key=f"activity:{activity_id}:{int(start_at.timestamp())}",
    )


@transaction.atomic
def activities_notify_due(*, now: datetime, batch: int = NOTIFY_BATCH) -> int:
    """Claim every activity due at ``now`` and notify its recipient (see the module's decisions), in one
    transaction; the emails are enqueued after the commit. Returns the number of notifications created. A second
    call (or a parallel one) finds nothing left to claim. Nothing due: one query."""
    sql = _claim_sql()
    params = {"now": now, "batch": batch, "planned": Activity.Status.PLANNED, "reminder": Activity.Mode.REMINDER,
              "scheduled": Activity.Mode.SCHEDULED, "window": STARTS_SOON_WINDOW_MINUTES,
              "default_lead": Preference.DEFAULT_LEAD_MINUTES}
    texts = _Texts()
    created = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        items = [_item(row, texts) for row in rows if row[8] is not None and not row[10]]
        created += notifications_create(items=items)
        if len(rows) < batch:
            break
    if created:
        enqueue_on_commit(send_pending_emails)
    return created


# --- Morning digest -----------------------------------------------------------------------------------------------


def _digest_sql() -> str:
    """Per claimed user: their calls/meetings of their local today and reminders due by its end, on partners and
    customers they still see (as the claim's recipient rule), and how many partners and customers of theirs are
    overdue."""
    agenda = f"""
        FROM {_q(Activity)} a
        LEFT JOIN {_q(Partner)} p ON p.id = a.partner_id
        LEFT JOIN {_q(Customer)} cu ON cu.id = a.customer_id
        LEFT JOIN {_q(Partner)} cp ON cp.id = cu.partner_id
        WHERE a.owner_id = u.user_id AND a.status = %(planned)s
          AND (p.assigned_to_id = u.user_id OR cu.assigned_to_id = u.user_id OR cp.assigned_to_id = u.user_id
               OR {_sees_all_sql('usr')})
          AND ((a.mode = %(scheduled)s AND a.start_at >= d.day_start AND a.start_at < d.day_end)
               OR (a.mode = %(reminder)s AND a.start_at < d.day_end))"""
    return f"""
        SELECT u.user_id, u.tz, d.day,
               (SELECT json_agg(x) FROM (
                    SELECT a.id, a.mode, a.kind, a.subject, a.start_at, a.partner_id, COALESCE(p.name, cu.name) AS name
                    {agenda}
                    ORDER BY a.start_at, a.id LIMIT %(items)s) x) AS items,
               (SELECT count(*) FILTER (WHERE a.mode = %(scheduled)s) {agenda}) AS meetings,
               (SELECT count(*) FILTER (WHERE a.mode = %(reminder)s) {agenda}) AS reminders,
               (SELECT count(*) FROM {_q(Partner)} op
                WHERE op.assigned_to_id = u.user_id AND op.engagement_due_at < %(now)s) AS overdue,
               (SELECT count(*) FROM {_q(Customer)} oc
                WHERE oc.assigned_to_id = u.user_id AND oc.engagement_due_at < %(now)s) AS overdue_customers
        FROM unnest(%(users)s::bigint[], %(zones)s::text[]) AS u(user_id, tz)
        JOIN {_q(get_user_model())} usr ON usr.id = u.user_id AND usr.is_active
        CROSS JOIN LATERAL (SELECT (%(now)s AT TIME ZONE u.tz)::date AS day) t
        CROSS JOIN LATERAL (SELECT t.day,
                                   t.day::timestamp AT TIME ZONE u.tz AS day_start,
                                   (t.day + 1)::timestamp AT TIME ZONE u.tz AS day_end) d
        ORDER BY u.user_id
    """  # noqa: S608 (names from the models; values are parameters)


def _digest_item(row: tuple, prefix: str) -> NotificationItem:
    user_id, tz, day, items, meetings, reminders, overdue, overdue_customers = row
    zone = _zone(tz)
    lines = []
    for item in items or []:
        start = datetime.fromisoformat(item["start_at"]).astimezone(zone)
        kind = _("Reminder") if item["mode"] == Activity.Mode.REMINDER else (
            Activity.Kind(item["kind"]).label if item["kind"] in Activity.Kind.values else item["kind"])
        when = DATE_STYLES["time"](start) if start.date() == day else DATE_STYLES["datetime"](start)
        lines.append(f"{when} · {kind} · {item['name']}" + (f" — {item['subject']}" if item["subject"] else ""))
    more = meetings + reminders - len(lines)
    if more > 0:
        lines.append(_("… and %(n)s more") % {"n": more})
    summary = _("%(meetings)s call(s)/meeting(s), %(reminders)s reminder(s) due, %(overdue)s overdue partner(s)") % {
        "meetings": meetings, "reminders": reminders, "overdue": overdue}
    if overdue_customers:
        summary += ", " + _("%(n)s overdue customer(s)") % {"n": overdue_customers}
    return NotificationItem(
        recipient_id=user_id, event=Notification.Event.DIGEST,
        title=_("Your day, %(day)s: %(summary)s") % {"day": DATE_STYLES["day"](day), "summary": summary},
        body="\n".join(lines) or _("Nothing planned today."),
        link=prefix, source_key=f"digest:{day.isoformat()}",
    )


@transaction.atomic
def activities_send_digests(*, now: datetime) -> int:
    """Claim the morning digests due at ``now`` (``preferences_claim_digests``) and create each claimed user's
    digest of their local today — calls/meetings, reminders due, overdue partners (and customers) — as one DIGEST notification
    (source_key ``digest:YYYY-MM-DD``: at most one per user and day), built for all users by one query. Emails are
    enqueued after the commit. Returns how many digests were created."""
    claimed = preferences_claim_digests(now=now)
    if not claimed:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(_digest_sql(), {
            "users": [user_id for user_id, _tz in claimed], "zones": [tz for _user, tz in claimed], "now": now,
            "planned": Activity.Status.PLANNED, "scheduled": Activity.Mode.SCHEDULED,
            "reminder": Activity.Mode.REMINDER, "items": DIGEST_ITEMS,
        })
        rows = cursor.fetchall()
    prefix = reverse("today")
    created = notifications_create(items=[_digest_item(row, prefix) for row in rows])
    if created:
        enqueue_on_commit(send_pending_emails)
    return created
