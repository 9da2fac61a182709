"""Celery tasks of the insights app: thin wrappers around its services (names used by prm.celery's beat)."""

from celery import shared_task
from django.utils import timezone

from business.periods import org_today
from insights.evaluate import insights_evaluate
from insights.notify import insights_notify_new
from insights.team_refresh import team_figures_refresh


@shared_task(name="insights.tasks.evaluate_insights")
def evaluate_insights() -> dict:
    """Nightly, after the business metrics: every rule for every partner, then one notification per rep with new
    suggestions. Returns the counts per rule and the number of notifications."""
    started = timezone.now()
    counts = insights_evaluate(now=started)
    return {"rules": counts, "notified": insights_notify_new(since=started, day=org_today())}


@shared_task(name="insights.tasks.evaluate_partner_insights")
def evaluate_partner_insights(partner_id: int) -> dict:
    """Right after one partner's activities, leads or figures changed (insights.signals): its insights only."""
    return insights_evaluate(partner_ids=[partner_id])


@shared_task(name="insights.tasks.refresh_team_figures")
def refresh_team_figures() -> dict:
    """Nightly, after the business metrics: the team dashboard's pre-aggregates (insights.team_refresh)."""
    result = team_figures_refresh()
    return {"attainment_rows": result.attainment_rows, "mover_rows": result.mover_rows}
