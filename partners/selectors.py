"""Reads of partners. Visibility is decided here and only here."""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone

from partners.models import ContactPoint, Location, Partner

VIEW_ALL_PERMISSION = "partners.view_all_partners"


def user_sees_all_partners(user):
    """Managers (and superusers) see every partner; a sales rep sees the partners assigned to them."""
    return user.is_active and user.has_perm(VIEW_ALL_PERMISSION)


def partner_visible_to(user):
    """All partners ``user`` may see, as a queryset to filter further. Anonymous/inactive users see none."""
    if not user.is_authenticated or not user.is_active:
        return Partner.objects.none()
    if user_sees_all_partners(user):
        return Partner.objects.all()
    return Partner.objects.filter(assigned_to=user)


def partner_get_for_user(user, pk, *, for_update=False):
    """The partner ``pk`` if ``user`` may see it, else Http404.

    Preloads tier and assigned_to. With ``for_update`` the row is locked (call inside a transaction).
    """
    queryset = partner_visible_to(user).select_related("tier", "assigned_to")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    return get_object_or_404(queryset, pk=pk)


# --- Partner list -----------------------------------------------------------------------------------------------------


def partner_list_filter(*, user, data=None):
    """The partner list's FilterSet, bound to ``data`` (e.g. ``request.GET``) and scoped to what ``user`` may see.

    Its ``.qs`` is filtered and sorted (always ending with ``id``), and preloads: tier and assigned_to
    (select_related), and the primary contact points and primary location, prefetched into
    ``partner.primary_contacts`` / ``partner.primary_locations`` (one query each, whatever the page size).
    """
    from partners.filters import PartnerFilter

    queryset = (
        partner_visible_to(user)
        .select_related("tier", "assigned_to")
        .prefetch_related(
            Prefetch(
                "contact_points",
                queryset=ContactPoint.objects.filter(is_primary=True).order_by("kind", "id"),
                to_attr="primary_contacts",
            ),
            Prefetch(
                "locations",
                queryset=Location.objects.filter(is_primary=True).order_by("id"),
                to_attr="primary_locations",
            ),
        )
    )
    return PartnerFilter(data if data is not None else {}, queryset=queryset, user=user)


def partner_list(*, user, data=None):
    """The partners ``user`` may see, filtered and sorted by ``data``; preloads as ``partner_list_filter``."""
    return partner_list_filter(user=user, data=data).qs


# --- Partner page -----------------------------------------------------------------------------------------------------

PAGE_LIST_LIMIT = 20


def _capped(queryset, limit):
    """At most ``limit`` rows in one query, and whether there were more (fetches ``limit + 1``)."""
    rows = list(queryset[: limit + 1])
    return rows[:limit], len(rows) > limit


def partner_page(*, partner, limit=PAGE_LIST_LIMIT):
    """Everything the partner page shows about ``partner`` besides the partner row, in a fixed number of queries.

    Nine queries whatever the number of rows: contact points (primary first), locations (primary first), planned
    engagements (with location; ``is_past_due`` set), planned reminders, past activities (done/cancelled, with
    location and owner), leads, customers, status history (with who changed it) and profile fields. Long lists are capped at ``limit`` rows;
    ``<name>_more`` says when there are more.
    """
    from activities.models import Activity
    from leads.models import Customer, Lead
    from partners.models import ProfileField, StatusChange

    contacts = list(partner.contact_points.order_by("-is_primary", "kind", "id"))
    locations = list(partner.locations.order_by("-is_primary", "id"))
    activities = Activity.objects.filter(partner=partner).select_related("location", "owner")
    planned = activities.filter(status=Activity.Status.PLANNED)
    upcoming, upcoming_more = _capped(
        planned.filter(mode__in=Activity.ENGAGEMENT_MODES).order_by("start_at", "id"), limit
    )
    reminders, reminders_more = _capped(planned.filter(mode=Activity.Mode.REMINDER).order_by("start_at", "id"), limit)
    now = timezone.now()
    for activity in upcoming + reminders:
        activity.is_past_due = activity.start_at < now
    past, past_more = _capped(
        activities.exclude(status=Activity.Status.PLANNED).order_by("-start_at", "-id"), limit
    )
    leads, leads_more = _capped(Lead.objects.filter(partner=partner).order_by("-created_at", "-id"), limit)
    customers, customers_more = _capped(
        Customer.objects.filter(partner=partner).order_by("-created_at", "-id"), limit
    )
    status_history, status_history_more = _capped(
        StatusChange.objects.filter(partner=partner).select_related("changed_by").order_by("-changed_at", "-id"),
        limit,
    )
    profile = partner.profile or {}
    profile_values = [(field, profile.get(field.key)) for field in ProfileField.objects.all()]
    return {
        "contacts": contacts,
        "locations": locations,
        "upcoming": upcoming,
        "upcoming_more": upcoming_more,
        "reminders": reminders,
        "reminders_more": reminders_more,
        "past": past,
        "past_more": past_more,
        "leads": leads,
        "leads_more": leads_more,
        "customers": customers,
        "customers_more": customers_more,
        "status_history": status_history,
        "status_history_more": status_history_more,
        "profile_values": profile_values,
    }


def assignable_users():
    """Users a manager may assign a partner to: active sales reps and managers, by username."""
    from django.contrib.auth import get_user_model

    from prm.roles import MANAGER, SALES_REP

    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=[SALES_REP, MANAGER])
        .distinct()
        .order_by("username")
    )
