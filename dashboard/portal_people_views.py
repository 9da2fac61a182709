"""A partner's portal users, for staff (``/partners/<id>/portal-users/``, URL names ``portal_people:…``): who works
there, the invitations, the e-mail domains that let colleagues ask to join, and "Invite a partner admin". Each view
starts with ``partner_get_for_user`` (a rep sees only their partners: 404 otherwise), then form → service →
redirect."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse

from partners.selectors import partner_get_for_user
from portal.people_forms import DomainForm, StaffInviteForm
from portal.people_selectors import partner_domain_get, partner_invitation_get, partner_portal_users
from portal.people_services import invitation_create, invitation_revoke, partner_domain_add, partner_domain_delete


def _page(request: HttpRequest, partner, *, invite_form=None, domain_form=None, status: int = 200) -> HttpResponse:
    return render(request, "partners/portal_users.html", {
        "partner": partner,
        **partner_portal_users(partner=partner),
        "invite_form": invite_form or StaffInviteForm(),
        "domain_form": domain_form or DomainForm(),
    }, status=status)


def _not_allowed(request: HttpRequest, *methods: str) -> HttpResponse | None:
    """After the partner (and the row) were found: another partner's ids are a 404 on every verb, a wrong verb on
    one's own a 405."""
    return None if request.method in methods else HttpResponseNotAllowed(methods)


@login_required
def portal_users(request: HttpRequest, partner_pk: int) -> HttpResponse:
    """Queries: session, user, the visibility check, the partner, then people, invitations, domains and waiting
    access requests (partner_portal_users)."""
    partner = partner_get_for_user(request.user, partner_pk)
    if refused := _not_allowed(request, "GET", "HEAD"):
        return refused
    return _page(request, partner)


@login_required
def invite_admin(request: HttpRequest, partner_pk: int) -> HttpResponse:
    partner = partner_get_for_user(request.user, partner_pk)
    if refused := _not_allowed(request, "POST"):
        return refused
    form = StaffInviteForm(request.POST)
    if form.is_valid():
        try:
            invitation = invitation_create(partner=partner, by=request.user, **form.service_kwargs())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("portal_people:list", partner_pk=partner.pk)
    return _page(request, partner, invite_form=form, status=400)


@login_required
def domain_add(request: HttpRequest, partner_pk: int) -> HttpResponse:
    partner = partner_get_for_user(request.user, partner_pk)
    if refused := _not_allowed(request, "POST"):
        return refused
    form = DomainForm(request.POST)
    if form.is_valid():
        try:
            domain = partner_domain_add(partner=partner, domain=form.cleaned_data["domain"], by=request.user)
        except ValidationError as error:
            form.add_error("domain" if hasattr(error, "error_dict") else None, error.messages)
        else:
            messages.success(request, f"Domain {domain.domain} added.")
            return redirect(reverse("portal_people:list", args=[partner.pk]) + "#domains")
    return _page(request, partner, domain_form=form, status=400)


@login_required
def domain_delete(request: HttpRequest, partner_pk: int, pk: int) -> HttpResponse:
    partner = partner_get_for_user(request.user, partner_pk)
    domain = partner_domain_get(partner=partner, pk=pk)
    if refused := _not_allowed(request, "POST"):
        return refused
    partner_domain_delete(domain=domain, by=request.user)
    messages.success(request, f"Domain {domain.domain} removed.")
    return redirect(reverse("portal_people:list", args=[partner.pk]) + "#domains")


@login_required
def revoke(request: HttpRequest, partner_pk: int, pk: int) -> HttpResponse:
    partner = partner_get_for_user(request.user, partner_pk)
    invitation = partner_invitation_get(partner=partner, pk=pk)
    if refused := _not_allowed(request, "POST"):
        return refused
    if invitation_revoke(invitation=invitation, by=request.user):
        messages.success(request, f"Invitation of {invitation.email} revoked.")
    return redirect(reverse("portal_people:list", args=[partner.pk]) + "#invitations")
