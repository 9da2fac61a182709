"""The portal's people pages: colleagues (everyone sees them; partner admins invite, revoke, deactivate, reactivate
and decide access requests), joining by an invitation link, and asking for access. Thin callers of
``portal.people_selectors`` and ``portal.people_services``; every view that takes an id looks it up within the
viewer's partner first (another partner's id is a 404 on every verb), then checks the verb."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from portal.models import Membership
from portal.people_forms import AccessRequestForm, InviteForm, JoinForm
from portal.people_selectors import (
    access_request_get_for_member,
    invitation_for_token,
    invitation_get_for_member,
    is_admin,
    membership_get_for_member,
    people_page,
)
from portal.people_services import (
    ONE_PARTNER_PER_USER,
    InvitationInvalid,
    access_request_create,
    access_request_decide,
    email_has_account,
    invitation_accept,
    invitation_create,
    invitation_revoke,
    membership_set_active,
)
from portal.selectors import portal_member

BACKEND = "prm.auth.EmailCaseBackend"  # the model backend of settings.AUTHENTICATION_BACKENDS


def _admin(request: HttpRequest) -> Membership:
    """The viewer's membership if they are an active partner admin; Http404 for everyone else."""
    member = portal_member(request)
    if not is_admin(member):
        raise Http404("partner admins only")
    return member


def _render_people(request: HttpRequest, member: Membership, invite_form: InviteForm | None = None,
                   status: int = 200) -> HttpResponse:
    context = {"member": member, **people_page(member=member)}
    if context["is_admin"]:
        context["invite_form"] = invite_form or InviteForm()
    return render(request, "portal/people/people.html", context, status=status)


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


@login_required
@require_http_methods(["GET", "HEAD"])
def people(request: HttpRequest) -> HttpResponse:
    """Queries: session, user, membership (portal_member), the people; for an admin also pending invitations and
    waiting access requests."""
    return _render_people(request, portal_member(request))


@login_required
@require_http_methods(["POST"])
def people_invite(request: HttpRequest) -> HttpResponse:
    member = _admin(request)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation = invitation_create(partner=member.partner, by=request.user, **form.service_kwargs())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("portal:people")
    return _render_people(request, member, invite_form=form, status=400)


def _post_only(request: HttpRequest) -> HttpResponse | None:
    return None if request.method == "POST" else HttpResponseNotAllowed(["POST"])


@login_required
def invitation_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    member = _admin(request)
    invitation = invitation_get_for_member(member, pk)
    if refused := _post_only(request):
        return refused
    if invitation_revoke(invitation=invitation, by=request.user):
        messages.success(request, f"Invitation of {invitation.email} revoked.")
    return redirect(reverse("portal:people") + "#invitations")


def _set_active(request: HttpRequest, pk: int, *, active: bool) -> HttpResponse:
    member = _admin(request)
    colleague = membership_get_for_member(member, pk)
    if refused := _post_only(request):
        return refused
    name = colleague.user.get_full_name() or colleague.user.get_username()
    try:
        changed = membership_set_active(membership=colleague, active=active, by=request.user)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        if changed:
            messages.success(request, f"{name} {'can sign in again' if active else 'no longer has access'}.")
    return redirect(reverse("portal:people") + f"#person-{colleague.pk}")


@login_required
def membership_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_active(request, pk, active=False)


@login_required
def membership_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_active(request, pk, active=True)


def _decide(request: HttpRequest, pk: int, *, approve: bool) -> HttpResponse:
    member = _admin(request)
    access_request = access_request_get_for_member(member, pk)
    if refused := _post_only(request):
        return refused
    try:
        invitation = access_request_decide(access_request=access_request, approve=approve, by=request.user)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        if invitation is not None:
            messages.success(request, f"Invitation sent to {invitation.email}.")
        elif not approve:
            messages.success(request, f"Request of {access_request.email} declined.")
    return redirect(reverse("portal:people") + "#access-requests")


@login_required
def access_request_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, approve=True)


@login_required
def access_request_decline(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, approve=False)


# --- Anonymous pages ------------------------------------------------------------------------------------------------


def _invalid_invitation(request: HttpRequest) -> HttpResponse:
    """One page for every bad token (unknown, expired, used, revoked): nothing says which."""
    return render(request, "portal/people/join_invalid.html", {}, status=404)


@require_http_methods(["GET", "HEAD", "POST"])
def join(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitation_for_token(token)
    if invitation is None:
        return _invalid_invitation(request)
    context = {"invitation": invitation, "partner": invitation.partner}
    if email_has_account(invitation.email):
        return render(request, "portal/people/join.html", {**context, "refused": ONE_PARTNER_PER_USER})
    if request.method == "POST":
        form = JoinForm(request.POST)
        if form.is_valid():
            try:
                user = invitation_accept(token=token, **form.service_kwargs())
            except InvitationInvalid:
                return _invalid_invitation(request)
            except ValidationError as error:
                if ONE_PARTNER_PER_USER in error.messages:
                    return render(request, "portal/people/join.html", {**context, "refused": ONE_PARTNER_PER_USER})
                form.add_error("password1", error)
            else:
                login(request, user, backend=BACKEND)
                messages.success(request, f"Welcome to the {invitation.partner.name} partner portal. You sign in "
                                          f"with {user.get_username()} from now on.")
                return redirect("portal:home")
    else:
        first, _, last = invitation.name.partition(" ")
        form = JoinForm(initial={"first_name": first, "last_name": last})
    return render(request, "portal/people/join.html", {**context, "form": form})


@require_http_methods(["GET", "HEAD", "POST"])
def request_access(request: HttpRequest) -> HttpResponse:
    """The same answer whether or not the address's domain belongs to a partner."""
    if request.method == "POST":
        form = AccessRequestForm(request.POST)
        if form.is_valid():
            access_request_create(name=form.cleaned_data["name"], email=form.cleaned_data["email"])
            return redirect(reverse("portal:request_access") + "?sent=1")
    else:
        form = AccessRequestForm()
    return render(request, "portal/people/request_access.html", {"form": form, "sent": request.GET.get("sent") == "1"})
