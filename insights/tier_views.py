"""A manager's decision on a tier-review suggestion (rule 7): accept (the partner moves to the suggested tier) or
reject (dismissed with a reason, suppressed for the rule's suppression days). POST only; managers only — a rep, or
anyone who may not see the insight, gets a 404, as does an insight of another rule. Form → service → redirect."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from insights.models import Insight, Rule
from insights.selectors import insight_get_for_user
from insights.tier_review import tier_suggestion_accept, tier_suggestion_reject
from partners.selectors import user_sees_all_partners
from prm.http import next_path


def _tier_insight(user, pk: int) -> Insight:
    """The tier-review insight ``pk`` for a manager who may see it, else Http404 (rule, partner and tier preloaded)."""
    if not user_sees_all_partners(user):
        raise Http404
    insight = insight_get_for_user(user, pk)
    if insight.rule.code != Rule.Code.TIER_REVIEW:
        raise Http404
    return insight


def _back(request, insight: Insight) -> str:
    return next_path(request) or reverse("partners:detail", args=[insight.partner_id])


def _error(request, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


@login_required
@require_POST
def tier_accept(request, pk):
    insight = _tier_insight(request.user, pk)
    try:
        partner = tier_suggestion_accept(insight=insight, by=request.user)
    except ValidationError as error:
        _error(request, error)
    else:
        messages.success(request, f"“{partner.name}” is now {partner.tier.name}.")
    return redirect(_back(request, insight))


@login_required
@require_POST
def tier_reject(request, pk):
    insight = _tier_insight(request.user, pk)
    try:
        changed = tier_suggestion_reject(insight=insight, by=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as error:
        _error(request, error)
    else:
        if changed:
            messages.success(request, "Suggestion rejected: the tier stays as it is.")
        else:
            messages.info(request, "Someone already acted on this suggestion.")
    return redirect(_back(request, insight))
