"""Reacting to an insight (accept, dismiss, snooze) and the managers' rates per rule.

Every view that takes an id starts with ``insight_get_for_user``: someone else's insight is a 404 on GET and POST alike.

Accept opens the form that does what the insight suggests, prefilled — scheduling a call/meeting or logging a call,
the activities app's own forms — and the insight is accepted when that activity is saved, by
``insights.services.insight_accept_with_activity`` (activity + acceptance in one transaction). Why here and not a
hidden ``insight`` field in the activities views: activities (layer 2) may not import insights (layer 4), and a signal
would make "saving an activity" secretly write insights from a request parameter. This app sits above activities, so
it reuses their forms and services directly: one view, one service call, nothing hidden.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods

from activities.forms import ActivityLogForm, ActivityScheduleForm
from activities.models import Activity
from insights import services
from insights.forms import DismissForm, SnoozeForm, card_options
from insights.models import Insight, Rule
from insights.selectors import insight_get_for_user, rule_rates, with_sentences
from partners.selectors import user_sees_all_partners
from prm.http import next_path

GET_POST = ["GET", "HEAD", "POST"]
Action = Rule.Action

# action → (the activity form, whether it logs a past activity rather than scheduling one, its initial kind)
ACTIVITY_FORMS = {
    Action.SCHEDULE_MEETING: (ActivityScheduleForm, False, Activity.Kind.MEETING),
    Action.SCHEDULE_CALL: (ActivityScheduleForm, False, Activity.Kind.CALL),
    Action.LOG_CALL: (ActivityLogForm, True, Activity.Kind.CALL),
    Action.PLAN_PUSH: (ActivityScheduleForm, False, Activity.Kind.MEETING),
    Action.FOLLOW_UP_LEAD: (ActivityScheduleForm, False, Activity.Kind.CALL),
}


def _back(request, insight: Insight) -> str:
    return next_path(request) or reverse("partners:detail", args=[insight.partner_id])


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _page(request, insight: Insight, *, dismiss_form=None, snooze_form=None, status=200):
    """One insight's card on its own page: the no-JS place for its forms and their errors."""
    with_sentences([insight])
    return render(request, "insights/insight_page.html", {
        "insight": insight, "next": next_path(request), "card_opts": card_options(),
        "dismiss_form": dismiss_form, "snooze_form": snooze_form,
        "sees_all": user_sees_all_partners(request.user),
    }, status=status)


def _initial(insight: Insight, kind: str, lead) -> dict:
    """The activity form's prefill: the kind, and a subject saying why (the lead, or the insight's sentence)."""
    initial = {"kind": kind}
    if insight.rule.action == Action.LOG_CALL:
        initial["channel"] = "call"
    if lead is not None:
        initial["subject"] = f"Follow up: {lead.name}"[:200]
    elif insight.rule.action in (Action.LOG_CALL, Action.PLAN_PUSH):
        initial["subject"] = insight.sentence[:200]
    return initial


@login_required
@require_http_methods(GET_POST)
def insight_accept(request, pk):
    """GET: the prefilled activity form. POST: save the activity and accept the insight (one service call).

    Rule 7's tier review is decided on its card (promote/demote or keep the tier: insights.tier_views), shown here on
    its own page, unchanged. Another rule whose action is "Review the tier" (set in the admin): GET its card, POST
    accepts it and opens the partner's edit page."""
    insight = insight_get_for_user(request.user, pk)
    if insight.state not in services.REACTABLE:
        messages.info(request, f"This suggestion is already {insight.get_state_display().lower()}.")
        return redirect(_back(request, insight))
    if insight.rule.code == Rule.Code.TIER_REVIEW:
        return _page(request, insight)
    if insight.rule.action not in ACTIVITY_FORMS:
        if request.method != "POST":
            return _page(request, insight)
        services.insight_accept(insight=insight, by=request.user)
        return redirect("partners:edit", pk=insight.partner_id)
    with_sentences([insight])
    form_class, log, kind = ACTIVITY_FORMS[insight.rule.action]
    lead = services.insight_lead(insight)
    partner = insight.partner
    if request.method == "POST":
        form = form_class(request.POST, partner=partner)
        if form.is_valid():
            try:
                activity = services.insight_accept_with_activity(
                    insight=insight, by=request.user, log=log, engagement=form.service_kwargs(), lead=lead,
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                verb = "logged" if log else "scheduled"
                messages.success(request, f"{activity.get_kind_display()} {verb}. Suggestion done.")
                return redirect(_back(request, insight))
    else:
        form = form_class(partner=partner, initial=_initial(insight, kind, lead))
    return render(request, "insights/insight_act.html", {
        "insight": insight, "partner": partner, "form": form, "next": next_path(request),
        "title": insight.rule.get_action_display(),
    })


@login_required
@require_http_methods(GET_POST)
def insight_dismiss(request, pk):
    """POST: dismiss with a reason (back to ``next`` or the partner page). GET, or a bad reason: the card's page."""
    insight = insight_get_for_user(request.user, pk)
    if request.method != "POST":
        return _page(request, insight)
    form = DismissForm(request.POST)
    if form.is_valid():
        try:
            done = services.insight_dismiss(insight=insight, by=request.user, reason=form.reason_text())
        except ValidationError as error:
            _add_errors(form, error)
        else:
            if done:
                days = insight.rule.suppression_days
                messages.success(request, f"Suggestion dismissed: it won't come back for {days} days.")
            return redirect(_back(request, insight))
    return _page(request, insight, dismiss_form=form, status=400)


@login_required
@require_http_methods(GET_POST)
def insight_snooze(request, pk):
    """POST: snooze until a date (tomorrow … 90 days). GET, or a bad date: the card's page."""
    insight = insight_get_for_user(request.user, pk)
    if request.method != "POST":
        return _page(request, insight)
    form = SnoozeForm(request.POST)
    if form.is_valid():
        try:
            done = services.insight_snooze(insight=insight, by=request.user, until=form.cleaned_data["until"])
        except ValidationError as error:
            _add_errors(form, error)
        else:
            if done:
                messages.success(request, f"Suggestion snoozed until {insight.snoozed_until:%d %b %Y}.")
            return redirect(_back(request, insight))
    return _page(request, insight, snooze_form=form, status=400)


def _admin_rule_url() -> str:
    """The admin's rule list, if the admin has Rule (…/<id>/change/ is appended), else ""."""
    try:
        return reverse("admin:insights_rule_changelist")
    except NoReverseMatch:
        return ""


@login_required
@require_http_methods(["GET", "HEAD"])
def rule_rates_page(request):
    """Managers: per rule, how many insights, how reps reacted, acceptance and dismissal rates. Others: 404.
    Queries: session, user, visibility (manager?), the rates (one aggregate)."""
    if not user_sees_all_partners(request.user):
        raise Http404
    return render(request, "insights/rule_rates.html", {"rows": rule_rates(), "admin_url": _admin_rule_url()})
