"""Every read of the portal starts here: the viewer's membership decides which partner's data they see.

A partner user sees only their own partner's rows; every portal view gets the membership from ``portal_member``
(one query: membership, partner and tier together) and filters by ``membership.partner_id``. A record of another
partner is a 404, on every verb, as staff pages treat partners a rep may not see.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from portal.models import Membership

# Session key set at login (portal.apps): "partner" for a partner user, "staff" for everyone else, so the boundary
# middleware knows without a query on every request.
SESSION_KIND = "prm_kind"
PARTNER, STAFF = "partner", "staff"


def user_kind(user: AbstractBaseUser) -> str:
    """ "partner" when ``user`` has a membership (active or not: a deactivated partner user never becomes staff)."""
    if not user.is_authenticated:
        return STAFF
    return PARTNER if Membership.objects.filter(user_id=user.pk).exists() else STAFF


def membership_for(user: AbstractBaseUser) -> Membership | None:
    """The active membership of ``user`` (with its partner and tier), or None."""
    if not user.is_authenticated or not user.is_active:
        return None
    return (
        Membership.objects.select_related("partner", "partner__tier", "partner__assigned_to")
        .filter(user_id=user.pk, is_active=True)
        .first()
    )


def portal_member(request: HttpRequest) -> Membership:
    """The membership of the request's user, kept on the request; Http404 for anyone who is not an active partner
    user (staff included: the portal's pages show one partner's view)."""
    cached = getattr(request, "_portal_membership", None)
    if cached is None:
        cached = membership_for(request.user)
        if cached is None:
            raise Http404("not a partner user")
        request._portal_membership = cached
    return cached


def members_of(*, partner_id: int) -> QuerySet[Membership]:
    """A partner's people (active first, then by name), with their users."""
    return (
        Membership.objects.filter(partner_id=partner_id)
        .select_related("user")
        .order_by("-is_active", "user__first_name", "user__last_name", "user__username")
    )


def active_member_user_ids(*, partner_ids: list[int], admins_only: bool = False) -> dict[int, list[int]]:
    """{partner id: [user ids of its active members]} in one query (to notify a partner's people)."""
    rows = Membership.objects.filter(partner_id__in=partner_ids, is_active=True, user__is_active=True)
    if admins_only:
        rows = rows.filter(role=Membership.Role.ADMIN)
    found: dict[int, list[int]] = {}
    for partner_id, user_id in rows.values_list("partner_id", "user_id"):
        found.setdefault(partner_id, []).append(user_id)
    return found
