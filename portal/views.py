"""The portal's own pages: the home, the business card and trendline, the company profile and its proposed updates.
Thin callers of the selectors (portal, business, insights) and of ``portal.profile_services``, scoped by the viewer's
membership (``portal.selectors.portal_member``): there is no partner id in these URLs, a partner user only ever sees
their own partner's rows."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from business.charts import partner_leads_trend
from business.selectors import partner_business_context
from insights.tier_review import tier_bands_for_partner
from portal.home_selectors import deal_protection_days, since_last_visit
from portal.home_services import membership_visit_home
from portal.profile_forms import ProposalForms
from portal.profile_selectors import company_profile, profile_update_pending
from portal.profile_services import profile_update_submit
from portal.selectors import portal_member


@login_required
@require_http_methods(["GET", "HEAD"])
def home(request: HttpRequest) -> HttpResponse:
    """Welcome, what happened since the last visit, the tier and the business card. Queries (tests/portal/test_home):
    session, user, membership (partner, tier, rep), the visit's conditional UPDATE (not within 30 minutes of the last
    one), the events, the tier's deal protection, the business card's three (parameters, targets, achievements)."""
    member = portal_member(request)
    membership_visit_home(member=member)
    partner = member.partner
    business = partner_business_context(partner)
    protection_days, extension_days = deal_protection_days(tier_id=partner.tier_id)
    return render(request, "portal/home.html", {
        "member": member,
        "partner": partner,
        "since": since_last_visit(member=member),
        "business_card": business["business_card"],
        "protection_days": protection_days,
        "extension_days": extension_days,
    })


@login_required
@require_http_methods(["GET", "HEAD"])
def business(request: HttpRequest) -> HttpResponse:
    """The partner's business card and trendline (the staff partner page's, business.selectors) and its leads chart
    (business.charts), its own figures only; ``?parameter=<code>`` picks the trendline's parameter."""
    member = portal_member(request)
    partner = member.partner
    context = {
        "member": member,
        "partner": partner,
        **partner_business_context(partner, parameter_code=request.GET.get("parameter")),
        "tier_bands": tier_bands_for_partner(partner),
    }
    context["leads_trend"] = partner_leads_trend(partner_id=partner.pk, parameters=context["trend_parameters"])
    return render(request, "portal/business/business.html", context)


@login_required
@require_http_methods(["GET", "HEAD"])
def company(request: HttpRequest) -> HttpResponse:
    """The company profile, read-only: description, contacts, locations, and the proposed update waiting for
    approval (or the last decision)."""
    member = portal_member(request)
    return render(request, "portal/company/company.html", {
        "member": member, "partner": member.partner, **company_profile(partner_id=member.partner_id),
    })


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def company_propose(request: HttpRequest) -> HttpResponse:
    """Propose changes to the description, contacts and locations: a ProfileUpdate the rep approves. While one is
    waiting, the page says so and refuses another."""
    member = portal_member(request)
    partner = member.partner
    pending = profile_update_pending(partner_id=partner.pk)
    forms = ProposalForms(request.POST if request.method == "POST" else None, partner=partner)
    if request.method == "POST" and pending is None and forms.is_valid():
        try:
            profile_update_submit(partner=partner, by=request.user, **forms.service_kwargs())
        except ValidationError as error:
            forms.form.add_error(None, error)
        else:
            messages.success(request, "Thank you: your changes were sent for approval. We emailed you a confirmation.")
            return redirect("portal:company")
    return render(request, "portal/company/propose.html", {
        "member": member, "partner": partner, "pending": pending, **forms.context(),
        "has_errors": request.method == "POST" and (pending is not None or forms.has_errors()),
    })
