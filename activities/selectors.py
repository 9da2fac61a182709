"""Reads of activities. Callers pass a partner or customer they already scoped (``partner_get_for_user`` /
``customer_get_for_user``, or an ``activities.subjects.Subject`` made from one)."""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Count, F, IntegerField, QuerySet, Subquery, Window
from django.db.models.expressions import RawSQL
from django.shortcuts import get_object_or_404
from django.utils import timezone

from activities.models import Activity
from activities.subjects import Subject
from leads.models import Customer
from partners.models import Partner
from partners.selectors import COUNT_CAP, PAGE_LIST_LIMIT, capped
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

    Two queries, each with its count (capped at ``COUNT_CAP``) and the location (JOIN); ``is_past_due`` set. Only
    ``TODAY_FIELDS`` are read; the partners' rows come from ``partners.selectors.partner_list_rows``."""
    planned = Activity.objects.filter(status=Activity.Status.PLANNED)
    everyone = not partners.query.has_filters() and customer_ids is None
    now = timezone.now()
    sections = {}
    for name, conditions in (
        ("scheduled", {"mode": Activity.Mode.SCHEDULED, "start_at__gte": start, "start_at__lt": until}),
        ("reminders", {"mode": Activity.Mode.REMINDER, "start_at__lt": reminders_until}),
    ):
        queryset = planned.filter(**conditions)
        if not everyone:
            # The partners' and the customers' activities as a UNION of two indexed lookups, not an OR (which
            # PostgreSQL could only test row by row over every planned activity: 0.1-0.6 s at 100k partners).
            of_partners = queryset.filter(partner__in=partners.values("pk")).order_by().values("pk")
            of_customers = queryset.filter(
                pg.AnyOf(F("customer_id"), Subquery(customer_ids))
            ) if customer_ids is not None else queryset.filter(customer__isnull=False)
            queryset = Activity.objects.filter(pk__in=of_partners.union(of_customers.order_by().values("pk")))
        if everyone:
            # The count rides along as an uncorrelated scalar subquery (computed once), capped like the partner
            # list's: counting a whole team's week of meetings costs more than the page.
            count_sql, count_params = queryset.order_by().values("pk")[: COUNT_CAP + 1].query.sql_with_params()
            total = RawSQL(  # noqa: S611 (Django's SQL, no user input)
                f"SELECT COUNT(*) FROM ({count_sql}) capped", count_params, output_field=IntegerField()  # noqa: S608
            )
        else:
            # One person's (or one rep's) scope: a window count over the rows the UNION found, before the LIMIT —
            # the UNION runs once, not again in a subquery (7.8 → 5.0 ms for a rep with 500 partners).
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
