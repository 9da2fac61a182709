"""Reads of partners. Visibility is decided here and only here.

Query budgets are part of each function's contract (its docstring) and asserted in tests/partners.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Permission
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from partners.contacts import QUICK_ACTION_KINDS
from partners.filters import PartnerFilter
from partners.models import ContactPoint, Location, Partner, ProfileField, StatusChange
from partners.roles import MANAGER, SALES_REP

VIEW_ALL_PERMISSION = "partners.view_all_partners"


def user_sees_all_partners(user: AbstractBaseUser) -> bool:
    """Managers (and superusers) see every partner; a sales rep sees the partners assigned to them.

    "Managers" are the users holding the ``partners.view_all_partners`` permission, directly or through one of their
    groups (what ``user.has_perm`` answers with Django's ModelBackend, the only backend of this project). It is read
    in one query instead of has_perm's two (all the user's permissions, then all their groups' permissions), and the
    answer is kept on the user object: one query per request, however many times a request asks.
    """
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_prm_sees_all_partners", None)
    if cached is None:
        app_label, codename = VIEW_ALL_PERMISSION.split(".")
        cached = (
            Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            .filter(Q(user=user) | Q(group__user=user))
            .exists()
        )
        user._prm_sees_all_partners = cached
    return cached


def partner_visible_to(user: AbstractBaseUser) -> QuerySet[Partner]:
    """All partners ``user`` may see, as a queryset to filter further. Anonymous/inactive users see none."""
    if not user.is_authenticated or not user.is_active:
        return Partner.objects.none()
    if user_sees_all_partners(user):
        return Partner.objects.all()
    return Partner.objects.filter(assigned_to=user)


def partner_get_for_user(user: AbstractBaseUser, pk: int, *, for_update: bool = False) -> Partner:
    """The partner ``pk`` if ``user`` may see it, else Http404.

    Preloads tier and assigned_to. With ``for_update`` the row is locked (call inside a transaction).
    """
    queryset = partner_visible_to(user).select_related("tier", "assigned_to")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    return get_object_or_404(queryset, pk=pk)


# --- Partner list -----------------------------------------------------------------------------------------------------


def partner_list_filter(*, user: AbstractBaseUser, data: dict | None = None) -> PartnerFilter:
    """The partner list's FilterSet, bound to ``data`` (e.g. ``request.GET``) and scoped to what ``user`` may see.

    Its ``.qs`` is filtered and sorted (always ending with ``id``) and selects tier and assigned_to. It is what to
    count and slice for a page; ``partner_list_rows`` then reads the page's rows with their quick-action data.
    Queries to build it: the visibility check (once per request, see ``user_sees_all_partners``), the tiers, and for
    managers the assignee suggestions.
    """
    queryset = partner_visible_to(user).select_related("tier", "assigned_to")
    sees_all = user_sees_all_partners(user)
    return PartnerFilter(
        data if data is not None else {},
        queryset=queryset,
        assignee_options=assignee_options() if sees_all else None,
    )


def partner_list(*, user: AbstractBaseUser, data: dict | None = None) -> QuerySet[Partner]:
    """The partners ``user`` may see, filtered and sorted by ``data`` (tier and assigned_to selected)."""
    return partner_list_filter(user=user, data=data).qs


LIST_LOCATION_FIELDS = ("label", "address", "latitude", "longitude")


def partner_list_rows(page_queryset: QuerySet[Partner]) -> list[Partner]:
    """The rows of one page of the partner list, in one query, in the page's order.

    ``page_queryset`` is a slice of ``partner_list_filter(...).qs`` (e.g. a Paginator page's ``object_list``). Each
    partner comes with its tier and assigned_to (JOINs), ``primary_contacts`` (``{kind: value}`` of its primary
    contact points of the kinds the quick actions use, ``partners.contacts.QUICK_ACTION_KINDS``) and
    ``primary_location`` (an unsaved Location with the primary location's fields, or None), read with one-row
    subqueries on the one-primary-per-(partner, kind) unique indexes. The rows are read by id (``id IN (the page's
    ids)``), so the subqueries run for the page's rows only, not for every row an OFFSET skips.
    """
    contacts = ContactPoint.objects.filter(partner=OuterRef("pk"), is_primary=True).order_by()
    location = Location.objects.filter(partner=OuterRef("pk"), is_primary=True).order_by()
    columns = {f"primary_{kind}": Subquery(contacts.filter(kind=kind).values("value")[:1]) for kind in QUICK_ACTION_KINDS}
    columns.update({f"location_{name}": Subquery(location.values(name)[:1]) for name in LIST_LOCATION_FIELDS})
    rows = list(
        Partner.objects.filter(pk__in=page_queryset.values("pk"))
        .select_related("tier", "assigned_to")
        .annotate(**columns)
        .order_by(*(page_queryset.query.order_by or Partner._meta.ordering))
    )
    for partner in rows:
        values = {kind: getattr(partner, f"primary_{kind}") for kind in QUICK_ACTION_KINDS}
        partner.primary_contacts = {kind: value for kind, value in values.items() if value}
        partner.primary_location = None
        if partner.location_address is not None:  # address is NOT NULL: None means no primary location
            fields = {name: getattr(partner, f"location_{name}") for name in LIST_LOCATION_FIELDS}
            partner.primary_location = Location(partner=partner, is_primary=True, **fields)
    return rows


# --- Partner page -----------------------------------------------------------------------------------------------------

PAGE_LIST_LIMIT = 20


def capped(queryset: QuerySet, limit: int) -> tuple[list, bool]:
    """At most ``limit`` rows in one query, and whether there were more (fetches ``limit + 1``)."""
    rows = list(queryset[: limit + 1])
    return rows[:limit], len(rows) > limit


def partner_page(*, partner: Partner, limit: int = PAGE_LIST_LIMIT) -> dict:
    """What the partner page shows of the partners app besides the partner row, in four queries whatever the number
    of rows: contact points (primary first), locations (primary first), status history (with who changed it, capped
    at ``limit``; ``status_history_more`` says when there are more) and the profile fields with their values.

    The other apps' parts of the page (activities, leads, business card) come from their own selectors; the view
    composes them.
    """
    contacts = list(partner.contact_points.order_by("-is_primary", "kind", "id"))
    locations = list(partner.locations.order_by("-is_primary", "id"))
    status_history, status_history_more = capped(
        StatusChange.objects.filter(partner=partner).select_related("changed_by").order_by("-changed_at", "-id"),
        limit,
    )
    profile = partner.profile or {}
    profile_values = [(field, profile.get(field.key)) for field in ProfileField.objects.all()]
    return {
        "contacts": contacts,
        "locations": locations,
        "status_history": status_history,
        "status_history_more": status_history_more,
        "profile_values": profile_values,
    }


def assignee_options() -> list[tuple[str, str]]:
    """(username, full name or "") of the users a manager may assign a partner to, for the list's "Assigned to"
    filter. One query; plain tuples (no model instances) since there can be hundreds."""
    rows = assignable_users().values_list("username", "first_name", "last_name")
    return [(username, f"{first} {last}".strip()) for username, first, last in rows]


def assignable_users() -> QuerySet:
    """Users a manager may assign a partner to: active sales reps and managers, by username."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=[SALES_REP, MANAGER])
        .distinct()
        .order_by("username")
    )
