"""Profile updates proposed by partner users (portal), reviewed by the partner's rep or a manager: the list of those
waiting, one update side by side with the partner's current details, approve (applied by ``partners.services``
through ``portal.profile_services``) or reject with a reason. Every view that takes an id starts with
``profile_update_get_for_user``: a rep reaches only their partners' updates (404 otherwise, on every verb: the
lookup comes before the method check)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from portal.profile_forms import RejectForm
from portal.profile_selectors import (
    profile_update_get_for_user,
    profile_update_review,
    profile_updates_decided_list,
    profile_updates_pending_list,
)
from portal.profile_services import profile_update_approve, profile_update_reject


@login_required
@require_http_methods(["GET", "HEAD"])
def update_list(request):
    """Queries: session, user, the visibility check, the pending updates, the latest decided ones."""
    return render(request, "profile_updates/update_list.html", {
        "pending": profile_updates_pending_list(user=request.user),
        "decided": profile_updates_decided_list(user=request.user),
    })


def _detail(request, update, *, reject_form=None, status=200):
    return render(request, "profile_updates/update_detail.html", {
        "update": update, "partner": update.partner, **profile_update_review(update=update),
        "reject_form": reject_form or RejectForm(),
    }, status=status)


@login_required
def update_detail(request, pk):
    update = profile_update_get_for_user(request.user, pk)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return _detail(request, update)


@login_required
def update_approve(request, pk):
    update = profile_update_get_for_user(request.user, pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        profile_update_approve(update=update, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("profile_updates:detail", pk=update.pk)
    messages.success(request, f"Profile update of “{update.partner.name}” approved and applied.")
    return redirect("partners:detail", pk=update.partner_id)


@login_required
def update_reject(request, pk):
    update = profile_update_get_for_user(request.user, pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            profile_update_reject(update=update, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("profile_updates:detail", pk=update.pk)
        messages.success(request, f"Profile update of “{update.partner.name}” rejected; the partner is told why.")
        return redirect("partners:detail", pk=update.partner_id)
    return _detail(request, update, reject_form=form, status=400)
