"""Staff: hand a lead to a partner (/leads/<id>/share/) and take it back (/leads/<id>/share/withdraw/). Both start
with ``leads.selectors.lead_get_for_user`` (a lead the user may not see is a 404 on every verb); the partner is one
the user sees (``ShareForm``, through ``partners.selectors.partner_visible_to``). Writes: portal.share_services."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render

from leads.models import Lead
from leads.selectors import lead_get_for_user
from portal import share_services
from portal.models import SharedLead
from portal.share_forms import ShareForm
from portal.share_selectors import lead_share_current


@login_required
def lead_share(request, pk):
    lead = lead_get_for_user(request.user, pk)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    current = lead_share_current(lead_id=lead.pk)
    if current is not None and current.status not in SharedLead.OPEN:
        current = None  # a closed share does not stop a new one
    form = ShareForm(request.POST if request.method == "POST" else None, user=request.user, lead=lead)
    if request.method == "POST" and current is None and lead.stage in Lead.OPEN_STAGES and form.is_valid():
        try:
            share = share_services.lead_share(lead=lead, partner=form.cleaned_data["partner_ref"], by=request.user,
                                              note=form.cleaned_data["note"])
        except ValidationError as error:
            if hasattr(error, "error_dict"):  # the service's "partner" is the form's "partner_ref"
                for field, errors in error.error_dict.items():
                    form.add_error({"partner": "partner_ref", "note": "note"}.get(field), errors)
            else:
                form.add_error(None, error)
        else:
            messages.success(request, f"Lead shared with {share.partner.name}: they have until "
                                      f"{share.respond_by:%d %b %Y} to accept.")
            return redirect("leads:detail", pk=lead.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "leads/share_form.html", {
        "lead": lead, "form": form, "current": current, "is_open": lead.stage in Lead.OPEN_STAGES,
        "config_accept_days": settings.SHARED_LEAD_ACCEPT_DAYS, "config_follow_days": settings.SHARED_LEAD_FOLLOW_UP_DAYS,
    }, status=status)


@login_required
def lead_share_withdraw(request, pk):
    lead = lead_get_for_user(request.user, pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    current = lead_share_current(lead_id=lead.pk)
    if current is not None and share_services.shared_lead_withdraw(share=current, by=request.user):
        messages.success(request, f"Taken back from {current.partner.name}.")
    else:
        messages.info(request, "This lead is not shared with a partner right now.")
    return redirect("leads:detail", pk=lead.pk)
