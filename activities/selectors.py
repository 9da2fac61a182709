"""Reads of activities. Callers pass a partner or customer they already scoped (``partner_get_for_user`` /
``customer_get_for_user``, or an ``activities.subjects.Subject`` made from one)."""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, F, QuerySet, Subquery, Window
from django.shortcuts import get_object_or_404
from django.utils import timezone

from activities.models import Activity
from activities.subjects import Subject
from leads.customer_selectors import customers_visible_to
from leads.models import Customer
from partners.models import Location, Partner
from partners.selectors import COUNT_CAP, PAGE_LIST_LIMIT, capped, partner_visible_to, user_sees_all_partners
from prm import pg

# The columns the partner page shows (the rest of the rows, and the owners' password hashes and flags, are not read).
PAGE_FIELDS = (
    "partner_id", "customer_id", "kind", "mode", "status", "subject", "start_at", "duration_minutes", "place", "outcome",
    "location__label", "location__address", "location__latitude", "location__longitude", "location__partner_id",
    "owner__username", "owner__first_name", "owner__last_name", "closed_by_id",
    "closed_by__username", "closed_by__first_name", "closed_by__last_name",
)


def partner_activities(*, partner: Partner, limit: int = PAGE_LIST_LIMIT, history_page: int = 1) -> dict:
    """The partner page's activity lists (see ``subject_activities``)."""
    return subject_activities(subject=Subject(partner=partner), limit=limit, history_page=history_page)


def customer_activities(*, customer: Customer, limit: int = PAGE_LIST_LIMIT, history_page: int = 1) -> dict:
    """The customer page's activity lists (see ``subject_activities``)."""
    return subject_activities(subject=Subject(customer=customer), limit=limit, history_page=history_page)


def subject_activities(*, subject: Subject, limit: int = PAGE_LIST_LIMIT, history_page: int = 1) -> dict:
    """A partner's or customer's page's activity lists in three queries: planned engagements (with location; ``is_past_due``
    set), planned reminders, and past activities (done/cancelled, with location, owner and who closed it: the
    names are joined in, so showing who did each costs no query). Each is capped at ``limit`` rows;
    ``<name>_more`` says when there are more.

    The history pages: ``history_page`` n shows the past activities n·limit-limit+1 … n·limit, newest first (one
    OFFSET query whatever the page; ``history_page`` and ``history_start`` are in the result for the page's links).
    """
    history_page = max(1, history_page)
    activities = (
        Activity.objects.filter(**subject.service_kwargs()).select_related("location", "owner", "closed_by")
        .only(*PAGE_FIELDS)
    )
    planned = activities.filter(status=Activity.Status.PLANNED)
    upcoming, upcoming_more = capped(
        planned.filter(mode__in=Activity.ENGAGEMENT_MODES).order_by("start_at", "id"), limit
    )
    reminders, reminders_more = capped(planned.filter(mode=Activity.Mode.REMINDER).order_by("start_at", "id"), limit)
    now = timezone.now()
    for activity in upcoming + reminders:
        activity.is_past_due = activity.start_at < now
    offset = (history_page - 1) * limit
    past, past_more = capped(
        activities.exclude(status=Activity.Status.PLANNED).order_by("-start_at", "-id")[offset:], limit
    )
    return {
        "upcoming": upcoming,
        "upcoming_more": upcoming_more,
        "reminders": reminders,
        "reminders_more": reminders_more,
        "past": past,
        "past_more": past_more,
        "history_page": history_page,
        "history_start": offset + 1,
    }


def activity_get_for_partner(*, partner: Partner, pk: int) -> Activity:
    """The activity ``pk`` of ``partner`` (with location), or Http404 — also when it belongs to another partner."""
    return activity_get_for_subject(subject=Subject(partner=partner), pk=pk)


def activity_get_for_subject(*, subject: Subject, pk: int) -> Activity:
    """The activity ``pk`` of ``subject``'s partner or customer (with location), or Http404 — also when it is
    another partner's or customer's."""
    return get_object_or_404(Activity.objects.select_related("location"), pk=pk, **subject.service_kwargs())


# --- Today ------------------------------------------------------------------------------------------------------------

TODAY_FIELDS = (
    "partner_id", "customer_id", "kind", "mode", "status", "subject", "start_at", "duration_minutes", "place", "channel",
    "location__label", "location__address", "location__latitude", "location__longitude", "location__partner_id",
)


@dataclass
class ActivitySection:
    """Activities of one Today section, in order, capped; ``count`` is how many match in all."""

    rows: list[Activity]
    count: int
    capped: bool = False  # more than ``count``

    @property
    def more(self) -> int:
        return max(0, self.count - len(self.rows))


def activities_today(
    *,
    partners: QuerySet[Partner],
    customer_ids: QuerySet | None = None,
    start: datetime,
    until: datetime,
    reminders_until: datetime,
    limit: int = 20,
) -> dict[str, ActivitySection]:
    """Today's activity sections over the partners of ``partners`` (a scope from ``partners.selectors``) and the
    customers ``customer_ids`` (a ``values("pk")`` queryset from ``leads.customer_selectors.customer_today_ids``;
    None: every customer's — with an unfiltered ``partners``, a manager's whole team, no condition at all). Whose
    activity it is does not matter, whose partner or customer it is does: one reassigned away leaves the rep's Today.

    - ``scheduled``: planned calls and meetings from ``start`` (today's start) to ``until`` (the week ahead), by time;
    - ``reminders``: planned reminders due before ``reminders_until`` (today's end), overdue ones first.

    One query for a person's scope (``_today_scoped``: both sections, each with its exact count), one with no scope
    (a manager's whole team, ``_today_everyone``: each section's count capped at ``COUNT_CAP``); two for every
    customer's activities and a scope of partners (not a Today case). The location comes in the same query;
    ``is_past_due`` is set. Only ``TODAY_FIELDS`` are read; the partners' rows come from
    ``partners.selectors.partner_list_rows``."""
    planned = Activity.objects.filter(status=Activity.Status.PLANNED)
    everyone = not partners.query.has_filters() and customer_ids is None
    now = timezone.now()
    if not everyone and customer_ids is not None:
        return _today_scoped(partners=partners, customer_ids=customer_ids, start=start, until=until,
                             reminders_until=reminders_until, limit=limit, now=now)
    if everyone:
        return _today_everyone(start=start, until=until, reminders_until=reminders_until, limit=limit, now=now)
    sections = {}
    for name, conditions in (
        ("scheduled", {"mode": Activity.Mode.SCHEDULED, "start_at__gte": start, "start_at__lt": until}),
        ("reminders", {"mode": Activity.Mode.REMINDER, "start_at__lt": reminders_until}),
    ):
        queryset = planned.filter(**conditions)
        # The partners' and the customers' activities as a UNION of two indexed lookups, not an OR (which PostgreSQL
        # could only test row by row over every planned activity: 0.1-0.6 s at 100k partners).
        of_partners = queryset.filter(partner__in=partners.values("pk")).order_by().values("pk")
        of_customers = queryset.filter(
            pg.AnyOf(F("customer_id"), Subquery(customer_ids))
        ) if customer_ids is not None else queryset.filter(customer__isnull=False)
        queryset = Activity.objects.filter(pk__in=of_partners.union(of_customers.order_by().values("pk")))
        # A window count over the rows the UNION found, before the LIMIT: the UNION runs once, not again in a
        # subquery (7.8 → 5.0 ms for a rep with 500 partners).
        total = Window(Count("pk"))
        rows = list(
            queryset.select_related("location").only(*TODAY_FIELDS).annotate(total=total).order_by("start_at", "id")[
                :limit
            ]
        )
        for activity in rows:
            activity.is_past_due = activity.start_at < now
        count = rows[0].total if rows else 0
        sections[name] = ActivitySection(rows, min(count, COUNT_CAP), count > COUNT_CAP)
    return sections


# One person's Today (a rep, or a manager filtered to a rep): both sections in one statement. The partners' and the
# customers' planned activities of either window are found once (a UNION of two indexed lookups), numbered and counted
# per section by window functions, and the first ``limit`` of each read with their location. Raw SQL: the ORM would
# compile the same UNION twice more per request (~7 ms of Python for the two sections it replaces).
_TODAY_COLUMNS = ("id", "partner_id", "customer_id", "kind", "mode", "status", "subject", "start_at",
                  "duration_minutes", "location_id", "place", "channel")
_LOCATION_COLUMNS = ("id", "partner_id", "label", "address", "latitude", "longitude")
_TODAY_SQL = """
    WITH found AS (
        SELECT a.id, a.mode, a.start_at FROM activities_activity a
        WHERE a.status = 'planned' AND a.partner_id IN ({partners}) AND {window}
        UNION
        SELECT a.id, a.mode, a.start_at FROM activities_activity a
        WHERE a.status = 'planned' AND a.customer_id = ANY(ARRAY({customers})) AND {window}
    ), ranked AS (
        SELECT id, mode, COUNT(*) OVER (PARTITION BY mode) AS total,
               ROW_NUMBER() OVER (PARTITION BY mode ORDER BY start_at, id) AS n
        FROM found
    )
    SELECT r.total, {activity}, {location}
    FROM ranked r JOIN activities_activity a ON a.id = r.id LEFT JOIN partners_location l ON l.id = a.location_id
    WHERE r.n <= %s ORDER BY a.start_at, a.id
"""
_TODAY_WINDOW = "((a.mode = 'scheduled' AND a.start_at >= %s AND a.start_at < %s) OR (a.mode = 'reminder' AND a.start_at < %s))"


def _today_scoped(*, partners, customer_ids, start, until, reminders_until, limit, now) -> dict[str, ActivitySection]:
    try:
        partners_sql, partners_params = partners.values("pk").query.sql_with_params()
        customers_sql, customers_params = customer_ids.query.sql_with_params()
    except EmptyResultSet:  # nobody's partners or customers
        return {"scheduled": ActivitySection([], 0), "reminders": ActivitySection([], 0)}
    sql = _TODAY_SQL.format(  # noqa: S608 (Django's SQL for the scopes; values are parameters)
        partners=partners_sql, customers=customers_sql, window=_TODAY_WINDOW,
        activity=", ".join(f"a.{column}" for column in _TODAY_COLUMNS),
        location=", ".join(f"l.{column}" for column in _LOCATION_COLUMNS),
    )
    window = [start, until, reminders_until]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*partners_params, *window, *customers_params, *window, limit])
        rows = cursor.fetchall()
    return _today_sections(rows, now)


def _today_sections(rows: list[tuple], now) -> dict[str, ActivitySection]:
    """Today's two sections from rows of (count, ``_TODAY_COLUMNS``, ``_LOCATION_COLUMNS``), in the rows' order."""
    sections = {"scheduled": ActivitySection([], 0), "reminders": ActivitySection([], 0)}
    width = len(_TODAY_COLUMNS)
    for row in rows:
        total, values, place = row[0], row[1 : 1 + width], row[1 + width :]
        activity = Activity.from_db(connection.alias, _TODAY_COLUMNS, values)
        location = Location.from_db(connection.alias, _LOCATION_COLUMNS, place) if place[0] is not None else None
        Activity.location.field.set_cached_value(activity, location)
        activity.is_past_due = activity.start_at < now
        section = sections["scheduled" if activity.mode == Activity.Mode.SCHEDULED else "reminders"]
        section.rows.append(activity)
        section.count = total
    return sections


# A manager's whole team (no scope): both sections in one statement, each the first ``limit`` planned activities of
# its window by time (an index walk on (status, mode, start_at) that stops after them) with its count capped at
# ``COUNT_CAP`` (an uncorrelated scalar subquery, computed once): counting a whole team's week of meetings costs more
# than the page. Raw SQL, as ``_TODAY_SQL``: the ORM compiled the two statements anew on every request.
_EVERYONE_SECTION = """
    (SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM activities_activity c WHERE c.status = 'planned' AND {window_c}
             LIMIT %s) capped), {activity}, {location}
     FROM activities_activity a LEFT JOIN partners_location l ON l.id = a.location_id
     WHERE a.status = 'planned' AND {window_a} ORDER BY a.start_at, a.id LIMIT %s)
"""
_EVERYONE_SCHEDULED = "{t}.mode = 'scheduled' AND {t}.start_at >= %s AND {t}.start_at < %s"
_EVERYONE_REMINDERS = "{t}.mode = 'reminder' AND {t}.start_at < %s"
_EVERYONE_SQL = " UNION ALL ".join(
    _EVERYONE_SECTION.format(
        window_c=window.format(t="c"), window_a=window.format(t="a"),
        activity=", ".join(f"a.{column}" for column in _TODAY_COLUMNS),
        location=", ".join(f"l.{column}" for column in _LOCATION_COLUMNS),
    )
    for window in (_EVERYONE_SCHEDULED, _EVERYONE_REMINDERS)
)


def _today_everyone(*, start, until, reminders_until, limit, now) -> dict[str, ActivitySection]:
    with connection.cursor() as cursor:
        cursor.execute(_EVERYONE_SQL, [
            start, until, COUNT_CAP + 1, start, until, limit,
            reminders_until, COUNT_CAP + 1, reminders_until, limit,
        ])
        rows = cursor.fetchall()
    sections = _today_sections(rows, now)
    for section in sections.values():
        section.rows.sort(key=lambda activity: (activity.start_at, activity.pk))
        section.count, section.capped = min(section.count, COUNT_CAP), section.count > COUNT_CAP
    return sections


# The channel an activity happened on: the one recorded, else what its kind says (a call is a call, an email an email;
# a message or a visit says nothing about the messenger).
_CHANNEL_SQL = (
    "COALESCE(NULLIF(a.channel, ''), CASE a.kind WHEN 'call' THEN 'call' WHEN 'email' THEN 'email' END)"
)


def channels_detected(*, partner_ids: list[int], recent: int = 10) -> dict[int, str]:
    """``{partner id: channel}``: how engagements with each partner actually happen — the most used channel over its
    last ``recent`` done activities (ties: the most recently used), for the partners that have any. One query for
    all the rows of a page (a LATERAL subquery per partner on the (partner, status, start_at) index), never one per
    row. Raw SQL: the ORM has no LATERAL join."""
    if not partner_ids:
        return {}
    sql = f"""
        SELECT DISTINCT ON (p.id) p.id, used.channel
        FROM unnest(%s::bigint[]) AS p(id)
        CROSS JOIN LATERAL (
            SELECT recent.channel, COUNT(*) AS uses, MAX(recent.start_at) AS last_used
            FROM (SELECT {_CHANNEL_SQL} AS channel, a.start_at FROM activities_activity a
                  WHERE a.partner_id = p.id AND a.status = 'done' ORDER BY a.start_at DESC LIMIT %s) recent
            WHERE recent.channel IS NOT NULL
            GROUP BY recent.channel
        ) used
        ORDER BY p.id, used.uses DESC, used.last_used DESC
    """  # noqa: S608 (no user input in the f-string: a constant expression)
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(partner_ids), recent])
        return dict(cursor.fetchall())


# --- Lead page (issue 13, leads for reps) -----------------------------------------------------------------------------


def lead_activities(*, lead_id: int, limit: int = PAGE_LIST_LIMIT) -> dict:
    """The activities about one lead (``Activity.lead``), newest first, with location, owner and who closed it (the
    partner page's columns): one query on the lead foreign key's index, capped at ``limit`` rows
    (``lead_activities_more`` says there are more). The caller scoped the lead (``leads.selectors.lead_get_for_user``).
    """
    rows, more = capped(
        Activity.objects.filter(lead_id=lead_id).select_related("location", "owner", "closed_by").only(*PAGE_FIELDS)
        .order_by("-start_at", "-id"),
        limit,
    )
    now = timezone.now()
    for activity in rows:
        activity.is_past_due = activity.status == Activity.Status.PLANNED and activity.start_at < now
    return {"lead_activities": rows, "lead_activities_more": more}


# --- Who may see an activity (the API's activity resource) ------------------------------------------------------------


def activities_visible_to(user, queryset: QuerySet[Activity] | None = None) -> QuerySet[Activity]:
    """The activities of ``queryset`` (default: all) that ``user`` may see: those with a partner they see
    (``partners.selectors.partner_visible_to``) or a customer they see (``leads.customer_selectors.
    customers_visible_to``) — the pages' rule, where an activity is reached through its partner's or customer's page,
    whoever owns it. No query of its own besides the cached visibility check. A rep's is written as ``id IN
    (partner branch UNION customer branch)`` (``activities_visible_parts``), each served by its foreign key's index
    (an OR across the two columns could not use either); pass the *filtered* queryset so the filters reach both
    branches."""
    queryset = Activity.objects.all() if queryset is None else queryset
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    parts = activities_visible_parts(user, queryset)
    if parts is None:
        return queryset
    first, *rest = [part.order_by().values("pk") for part in parts]
    return queryset.filter(pk__in=first.union(*rest))


def activities_visible_parts(user, queryset: QuerySet[Activity]) -> list[QuerySet[Activity]] | None:
    """``activities_visible_to`` as the querysets whose union it is (the activities of ``queryset`` with a partner
    ``user`` sees; with a customer they see), or None when ``user`` sees every activity of ``queryset``. For a caller
    that orders and limits each part before the union (the API's pages: a rep's page of 100 reads each part's
    (partner|customer, updated_at, id) index, not the heap rows of all their activities)."""
    if not user.is_authenticated or not user.is_active:
        return [queryset.none()]
    if user_sees_all_partners(user):
        return None
    return [
        queryset.filter(partner__in=partner_visible_to(user).values("pk")),
        queryset.filter(customer__in=customers_visible_to(user).values("pk")),
    ]


def activity_get_for_user(user, pk: int) -> Activity:
    """The activity ``pk`` if ``user`` may see it (``activities_visible_to``), else Http404. Preloads owner and
    who closed it: one query after the visibility check."""
    return get_object_or_404(activities_visible_to(user).select_related("owner", "closed_by"), pk=pk)
