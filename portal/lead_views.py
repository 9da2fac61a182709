"""The portal's leads (/portal/leads/): the leads the vendor shared with the partner, and accepting, declining and
following them up. Every view starts from ``portal.selectors.portal_member`` and finds the share through
``shared_lead_get_for_member`` — another partner's share is a 404 on every verb (the lookup comes before the method
check). Writes go through portal.share_services: form → service → redirect with a message.

What the partner sees of a lead before it accepts is the company and the staff's note only, never the contact (the
lead's name, email, phone): the prospect's details go to the one partner that takes the lead on and answers for it,
not to every partner a rep offers it to — a partner that declines, or lets the offer run out, never had them. The
templates decide it from ``contact_visible``, computed here.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from portal import share_services
from portal.models import SharedLead
from portal.selectors import portal_member
from portal.share_forms import DeclineForm, FollowUpForm
from portal.share_selectors import shared_lead_get_for_member, shared_lead_list_page

CONTACT_VISIBLE = (SharedLead.Status.ACCEPTED, SharedLead.Status.FOLLOWED_UP)


@login_required
@require_http_methods(["GET", "HEAD"])
def lead_list(request):
    """Queries: session, user, membership (with partner and tier), the page's shares with their leads, the bell's
    unread count (5)."""
    member = portal_member(request)
    page = shared_lead_list_page(member=member, page=request.GET.get("page"))
    response = render(request, "portal/leads/list.html", {
        "member": member, "page": page, "shares": page.rows, "contact_visible": CONTACT_VISIBLE,
    })
    add_never_cache_headers(response)
    return response


@login_required
def lead_detail(request, pk):
    member = portal_member(request)
    share = shared_lead_get_for_member(member, pk)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return _detail(request, member, share)


@login_required
def lead_accept(request, pk):
    member = portal_member(request)
    share = shared_lead_get_for_member(member, pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        share_services.shared_lead_accept(share=share, member=member)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Lead accepted: it is yours now. Record your follow-up below.")
    return redirect("portal:lead_detail", pk=share.pk)


@login_required
def lead_decline(request, pk):
    return _respond(request, pk, form_class=DeclineForm, form_name="decline_form",
                    act=lambda share, member, data: share_services.shared_lead_decline(
                        share=share, member=member, reason=data["reason"]),
                    done="Lead declined: it went back to the vendor.", then=lambda share: reverse("portal:leads"))


@login_required
def lead_follow_up(request, pk):
    return _respond(request, pk, form_class=FollowUpForm, form_name="follow_up_form",
                    act=lambda share, member, data: share_services.shared_lead_follow_up(
                        share=share, member=member, note=data["note"]),
                    done="Follow-up recorded. Thank you!",
                    then=lambda share: reverse("portal:lead_detail", args=[share.pk]))


def _respond(request, pk, *, form_class, form_name: str, act, done: str, then):
    """A partner's answer to a shared lead (a POSTed form → the service): the service's field errors go back on the
    form (400), a refusal of the whole step is a message on the lead's page, a success goes to ``then(share)``."""
    member = portal_member(request)
    share = shared_lead_get_for_member(member, pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = form_class(request.POST)
    if form.is_valid():
        try:
            act(share, member, form.cleaned_data)
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                messages.error(request, " ".join(error.messages))
                return redirect("portal:lead_detail", pk=share.pk)
            _add_errors(form, error)
        else:
            messages.success(request, done)
            return redirect(then(share))
    return _detail(request, member, share, status=400, **{form_name: form})


def _detail(request, member, share, *, decline_form=None, follow_up_form=None, status=200):
    """Queries: session, user, membership, the share with its lead and who shared it, the bell's count (5)."""
    response = render(request, "portal/leads/detail.html", {
        "member": member,
        "share": share,
        "lead": share.lead,
        "contact_visible": share.status in CONTACT_VISIBLE,
        "decline_form": decline_form or DeclineForm(),
        "follow_up_form": follow_up_form or FollowUpForm(),
    }, status=status)
    add_never_cache_headers(response)
    return response


def _add_errors(form, error: ValidationError) -> None:
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)
