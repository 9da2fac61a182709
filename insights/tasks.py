"""Celery tasks of the insights app: thin wrappers around its services (names used by prm.celery's beat).

The nightly evaluation is split into parts by partner-id range (DESIGN.md's scale-out): ``evaluate_insights``
computes the ranges and sends a chord — one ``evaluate_insights_part`` per range, run by whichever workers are free,
at the same time — whose callback, ``notify_new_insights``, tells the reps once every part is done.
"""

from datetime import datetime

from celery import chord, shared_task
from django.conf import settings
from django.utils import timezone

from business.periods import org_today
from insights.evaluate import evaluation_ranges, insights_evaluate, insights_statistics_refresh
from insights.notify import insights_notify_new
from insights.team_refresh import team_figures_refresh


@shared_task(name="insights.tasks.evaluate_insights")
def evaluate_insights() -> dict:
    """Nightly, after the business metrics: every rule for every partner, in ``INSIGHTS_EVALUATION_PARTS`` parts
    (a chord), then one notification per rep with new suggestions. Returns the ranges sent and the callback's task
    id (its result: the counts per rule and the number of notifications)."""
    started = timezone.now().isoformat()
    ranges = evaluation_ranges(parts=settings.INSIGHTS_EVALUATION_PARTS)
    callback = chord(evaluate_insights_part.s(started, lo, hi) for lo, hi in ranges)(notify_new_insights.s(started))
    return {"parts": [list(span) for span in ranges], "callback": callback.id}


@shared_task(name="insights.tasks.evaluate_insights_part")
def evaluate_insights_part(now: str, id_from: int, id_to: int) -> dict:
    """One part of the nightly run: every rule for the partners whose id is in [id_from, id_to)."""
    return insights_evaluate(now=datetime.fromisoformat(now), id_range=(id_from, id_to))


@shared_task(name="insights.tasks.notify_new_insights")
def notify_new_insights(parts: list[dict], since: str) -> dict:
    """The chord's callback, once every part is done: one "N new suggestions" notification per rep (insights.notify)
    and the counts per rule summed over the parts."""
    rules: dict[str, dict[str, int]] = {}
    for part in parts:
        for code, counts in part.items():
            total = rules.setdefault(code, {"seen": 0, "written": 0, "resolved": 0})
            for key in total:
                total[key] += counts.get(key, 0)
    insights_statistics_refresh(written=sum(counts["written"] for counts in rules.values()))
    since_at = datetime.fromisoformat(since)
    return {"rules": rules, "notified": insights_notify_new(since=since_at, day=org_today(since_at))}


@shared_task(name="insights.tasks.evaluate_partner_insights")
def evaluate_partner_insights(partner_id: int) -> dict:
    """Right after one partner's activities, leads or figures changed (insights.signals): its insights only."""
    return insights_evaluate(partner_ids=[partner_id])


@shared_task(name="insights.tasks.refresh_team_figures")
def refresh_team_figures() -> dict:
    """Nightly, after the business metrics: the team dashboard's pre-aggregates (insights.team_refresh)."""
    result = team_figures_refresh()
    return {"attainment_rows": result.attainment_rows, "mover_rows": result.mover_rows}
