"""The partner list, page and add/edit form. Each view is form → service → redirect, or a composition of the apps'
selectors: partners (visibility included), activities, leads and business each supply their part of the page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_http_methods
from markupsafe import Markup

from activities.selectors import channels_detected, partner_activities
from business.charts import partner_leads_trend
from business.selectors import current_completion_for_partners, partner_business_context
from business.services import partner_profile_save
from dashboard.forms import PartnerEditForms
from dashboard.today import today_agenda
from insights.forms import card_options as insight_card_options
from insights.selectors import insights_for_partner
from insights.tier_review import tier_bands_for_partner
from leads.selectors import partner_leads_and_customers
from partners.selectors import (
    assignee_options,
    partner_get_for_user,
    partner_list_filter,
    partner_list_page,
    partner_page,
    user_sees_all_partners,
)
from portal.profile_selectors import profile_update_pending
from service.selectors import partner_open_tickets

PAGE_SIZE = 25
CONCURRENT_EDIT = "Someone else changed this partner's contacts or locations at the same time. Check and save again."


@login_required
@require_http_methods(["GET", "HEAD"])
def partner_list(request):
    filterset = partner_list_filter(user=request.user, data=request.GET)
    page = partner_list_page(filterset=filterset, page=request.GET.get("page"), per_page=PAGE_SIZE)
    ids = [partner.pk for partner in page.rows]
    completion = current_completion_for_partners(ids)
    detected = channels_detected(partner_ids=ids)  # the one-tap action: how each partner is usually reached
    for partner in page.rows:
        partner.completion = completion.get(partner.pk)
        partner.detected_channel = detected.get(partner.pk, "")
    request.list_default_sort = filterset.default_sort  # the column headers' sorted state (partners.templating)
    return render(
        request,
        "partners/partner_list.html",
        {
            "filterset": filterset,
            "filter_fields": filter_fields_html(filterset.form, filtered=filterset.is_filtered),
            "page": page,
            "partners": page.rows,
            "sees_all": user_sees_all_partners(request.user),
            "filters_active": filterset.is_filtered or bool(filterset.form.errors),
        },
    )


_FILTER_FIELDS_CACHE: dict[tuple, str] = {}


def filter_fields_html(form, *, filtered: bool) -> str:
    """The list's filter fields. On most requests no filter is set and that HTML depends only on the tiers (the
    choices) and on whether the user has the "Assigned to" filter: it is rendered once per process per such key
    (a renamed tier makes a new key) instead of on every request, inside a panel that is usually closed."""
    if "assigned_to" in form.fields:
        form.fields["assigned_to"].widget.attrs["data-options-url"] = reverse("partners:assignees")
    if filtered or form.errors:
        return Markup(render_to_string("partners/_filter_fields.html", {"form": form}))  # noqa: S704 (Jinja2's escaped output)
    key = (tuple(form.fields["tier"].choices), "assigned_to" in form.fields)
    if key not in _FILTER_FIELDS_CACHE:
        if len(_FILTER_FIELDS_CACHE) > 32:
            _FILTER_FIELDS_CACHE.clear()
        html = render_to_string("partners/_filter_fields.html", {"form": form})
        _FILTER_FIELDS_CACHE[key] = Markup(html)  # noqa: S704 (a template's output, autoescaped by Jinja2)
    return _FILTER_FIELDS_CACHE[key]


@login_required
@require_http_methods(["GET", "HEAD"])
def assignee_suggestions(request):
    """The "Assigned to" filter's suggestions, loaded by the list's script when the field is first used (managers
    only; a rep's list has no such filter: 404)."""
    if not user_sees_all_partners(request.user):
        raise Http404
    options = [{"value": username, "label": name or username} for username, name in assignee_options()]
    response = JsonResponse({"options": options})
    patch_cache_control(response, private=True, max_age=300)
    return response


@login_required
@require_http_methods(["GET", "HEAD"])
def partner_detail(request, pk):
    partner = partner_get_for_user(request.user, pk)
    context = {
        "partner": partner,
        **partner_page(partner=partner),
        **partner_activities(partner=partner, history_page=_history_page(request)),
        **partner_leads_and_customers(partner=partner),
        **partner_business_context(partner, parameter_code=request.GET.get("parameter")),
        # What to do next: the top insights (one query; the visibility check is already cached on the user).
        "insights": insights_for_partner(partner=partner, sees_all=user_sees_all_partners(request.user)),
        "card_opts": insight_card_options(),
        # The tier's expected band per parameter, next to the partner's figures on the business card (one query).
        "tier_bands": tier_bands_for_partner(partner),
        # Service tickets (issue 13): its customers' open tickets, most urgent first (one query).
        "partner_tickets": partner_open_tickets(partner=partner),
        # Issue 14: a profile update proposed in the portal, waiting for approval (one query).
        "profile_update": profile_update_pending(partner_id=partner.pk),
    }
    # Leads generated and converted per period, with the conversion rate (issue 13; one query, the parameters are
    # the business card's).
    context["leads_trend"] = partner_leads_trend(partner_id=partner.pk, parameters=context["trend_parameters"])
    return render(request, "partners/partner_detail.html", context)


def _history_page(request) -> int:
    """``?history=<n>``: which page of the partner's past activities to show (1, the latest, when absent or bad)."""
    try:
        return min(max(int(request.GET.get("history", 1)), 1), 10_000)
    except ValueError:
        return 1


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def partner_create(request):
    forms = PartnerEditForms(request.POST if request.method == "POST" else None, user=request.user,
                             initial_tier=request.GET.get("tier", ""))  # ?tier=<id>: its band's targets proposed
    if request.method == "POST" and forms.is_valid():
        kwargs = forms.service_kwargs()
        kwargs["fields"].setdefault("assigned_to", request.user)  # a rep's new partner is theirs
        partner = _save(forms, partner=None, by=request.user, **kwargs)
        if partner is not None:
            messages.success(request, f"Partner “{partner.name}” added.")
            return redirect("partners:detail", pk=partner.pk)
    return render(request, "partners/partner_form.html", {"partner": None, **forms.context()})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def partner_edit(request, pk):
    partner = partner_get_for_user(request.user, pk)
    name = partner.name  # the form's validation writes into ``partner``; the heading keeps the saved name
    profile = dict(partner.profile or {})
    forms = PartnerEditForms(request.POST if request.method == "POST" else None, user=request.user, partner=partner)
    if request.method == "POST" and forms.is_valid():
        saved = _save(forms, partner=partner, by=request.user, **forms.service_kwargs(current_profile=profile))
        if saved is not None:
            messages.success(request, f"Partner “{saved.name}” saved.")
            return redirect("partners:detail", pk=saved.pk)
    return render(request, "partners/partner_form.html", {"partner": partner, "partner_name": name, **forms.context()})


def _save(forms, **kwargs):
    """The service call; a validation error or a concurrent edit goes back onto the form (None), nothing saved."""
    try:
        return partner_profile_save(**kwargs)
    except ValidationError as error:
        forms.add_error(error)
    except IntegrityError:
        forms.add_error(CONCURRENT_EDIT)
    return None


@login_required
@require_http_methods(["GET", "HEAD"])
def today(request):
    """The rep's day (a manager's: their team's, ``?rep=<username>`` for one rep): see ``dashboard.today``."""
    agenda = today_agenda(user=request.user, rep=request.GET.get("rep", "").strip())
    return render(
        request, "dashboard/today.html", {"today": agenda, "now": timezone.now(), "card_opts": insight_card_options()}
    )
