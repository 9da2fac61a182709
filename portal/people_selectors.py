"""Reads of the portal's people: the colleagues page, a valid invitation by its token, the staff page of a partner's
portal users, and the one access helper per object type (another partner's row is a 404, on every verb)."""

import hashlib
from datetime import datetime

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from partners.models import Partner
from portal.models import AccessRequest, Invitation, Membership, PartnerDomain
from portal.selectors import members_of


def token_hash(token: str) -> str:
    """What is stored of an invitation's token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


PENDING_LIMIT = 100  # invitations / requests shown (a partner with more has other problems)
STAFF_INVITATIONS_LIMIT = 50


def pending_invitations(*, partner_id: int, now: datetime | None = None) -> QuerySet[Invitation]:
    """The partner's invitations not used, revoked or expired yet, newest first, with who invited."""
    now = now or timezone.now()
    return (
        Invitation.objects.filter(partner_id=partner_id, accepted_at__isnull=True, revoked_at__isnull=True,
                                  expires_at__gt=now)
        .select_related("invited_by")
        .order_by("-created_at", "-id")
    )


def people_page(*, member: Membership) -> dict:
    """The colleagues page of ``member``'s partner. Queries: the people (one); for an admin also the pending
    invitations and the waiting access requests (one each)."""
    context = {"people": list(members_of(partner_id=member.partner_id)), "is_admin": is_admin(member)}
    if context["is_admin"]:
        context["invitations"] = list(pending_invitations(partner_id=member.partner_id)[:PENDING_LIMIT])
        context["access_requests"] = list(
            AccessRequest.objects.filter(partner_id=member.partner_id, status=AccessRequest.Status.PENDING)
            .order_by("created_at", "id")[:PENDING_LIMIT]
        )
    context["admin_count"] = sum(1 for m in context["people"] if m.role == Membership.Role.ADMIN and m.is_active)
    return context


def is_admin(member: Membership) -> bool:
    return member.is_active and member.role == Membership.Role.ADMIN


def invitation_for_token(token: str, *, now: datetime | None = None) -> Invitation | None:
    """The pending invitation of ``token`` (with its partner and inviter), or None for an unknown, used, revoked or
    expired one — the caller shows one page for all of them."""
    now = now or timezone.now()
    if not token or len(token) > 200:
        return None
    return (
        Invitation.objects.select_related("partner", "invited_by")
        .filter(token_hash=token_hash(token), accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )


def membership_get_for_member(member: Membership, pk: int) -> Membership:
    """A colleague of ``member`` (same partner), with the user; Http404 otherwise."""
    return get_object_or_404(Membership.objects.select_related("user"), pk=pk, partner_id=member.partner_id)


def invitation_get_for_member(member: Membership, pk: int) -> Invitation:
    return get_object_or_404(Invitation, pk=pk, partner_id=member.partner_id)


def access_request_get_for_member(member: Membership, pk: int) -> AccessRequest:
    return get_object_or_404(AccessRequest.objects.select_related("partner"), pk=pk, partner_id=member.partner_id)


# --- Staff ----------------------------------------------------------------------------------------------------------


def partner_portal_users(*, partner: Partner) -> dict:
    """The staff page of a partner's portal users. Queries: people, recent invitations (with inviter and who
    accepted), e-mail domains, waiting access requests — four."""
    now = timezone.now()
    invitations = list(
        Invitation.objects.filter(partner_id=partner.pk)
        .select_related("invited_by", "accepted_by")
        .order_by("-created_at", "-id")[:STAFF_INVITATIONS_LIMIT]
    )
    for invitation in invitations:
        invitation.state = invitation_state(invitation, now=now)
    return {
        "people": list(members_of(partner_id=partner.pk)),
        "invitations": invitations,
        "domains": list(PartnerDomain.objects.filter(partner_id=partner.pk).order_by("domain")),
        "access_requests": list(
            AccessRequest.objects.filter(partner_id=partner.pk, status=AccessRequest.Status.PENDING)
            .order_by("created_at", "id")[:PENDING_LIMIT]
        ),
    }


def invitation_state(invitation: Invitation, *, now: datetime) -> str:
    """"accepted", "revoked", "expired", "pending" or "not emailed yet" (pending, its email not sent)."""
    if invitation.accepted_at:
        return "accepted"
    if invitation.revoked_at:
        return "revoked"
    if invitation.expires_at <= now:
        return "expired"
    return "pending" if invitation.emailed_at else "not emailed yet"


def partner_invitation_get(*, partner: Partner, pk: int) -> Invitation:
    return get_object_or_404(Invitation, pk=pk, partner_id=partner.pk)


def partner_domain_get(*, partner: Partner, pk: int) -> PartnerDomain:
    return get_object_or_404(PartnerDomain, pk=pk, partner_id=partner.pk)
