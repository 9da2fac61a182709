"""The sentence an insight shows, rendered from its stored evidence (so it explains itself with the numbers that made it).

``insight_sentence(insight)`` never raises: evidence written by an older version (a key missing, a value of another
type) gives a shorter sentence, at worst the rule's name and its action. Numbers go through ``prm.formats`` (thousands
separators, units, periods as people say them). Plain text: the templates escape it.

Evidence stores dates, not day counts (so the nightly evaluation does not rewrite every row just because a day
passed): "12 days ago", "overdue by 5 days", the share of the period gone and the pacing are computed here, for
``today`` in the organisation's time zone (``business.periods.org_today``). Evidence written before that (with
``days_since``, ``days_overdue``, ``expected_so_far`` …) still renders from its stored numbers.
"""

import logging
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation

from business.periods import org_today
from prm.formats import format_count, format_number, format_period, format_quantity

logger = logging.getLogger(__name__)

ACTIONS = {
    "engagement_due": "Schedule a meeting now.",
    "business_drop": "Find out why.",
    "target_at_risk": "Plan a push.",
    "no_next_engagement": "Schedule one.",
    "inactivity_risk": "Engage now.",
    "lead_follow_up": "Follow up.",
    "tier_review": "",  # its sentence (insights.tier_review) ends with its own suggestion
    "ticket_breach": "Call them.",
}
FALLBACK = {
    "engagement_due": "Engagement overdue or due soon.",
    "business_drop": "Business has dropped.",
    "target_at_risk": "Target at risk.",
    "no_next_engagement": "No next engagement planned.",
    "inactivity_risk": "About to be tagged inactive.",
    "lead_follow_up": "A lead has had no follow-up.",
    "tier_review": "The partner's business is outside its tier's band. Review the tier.",
    "ticket_breach": "A customer's ticket is past its resolution time.",
}


def insight_sentence(insight, today: date | None = None) -> str:
    """The insight's sentence (its ``rule.code`` and ``evidence``) as of ``today`` (default: the organisation's)."""
    code = getattr(getattr(insight, "rule", None), "code", "") or ""
    return sentence_for(code, getattr(insight, "evidence", None), today=today)


def sentence_for(code: str, evidence: object, today: date | None = None) -> str:
    """The sentence of a rule ``code`` for ``evidence`` (a dict) as of ``today`` (default: the organisation's date);
    the rule's fallback when it cannot be rendered."""
    action = ACTIONS.get(code, "")
    fallback = " ".join(part for part in (FALLBACK.get(code, "Suggestion."), action) if part)
    render = RENDERERS.get(code)
    if render is None and code == "tier_review":
        review = _tier_review_renderer()
        render = (lambda e, _today: review(e)) if review else None
    if render is None or not isinstance(evidence, dict):
        return fallback
    try:
        text = render(evidence, today or org_today())
    except Exception:  # older or hand-edited evidence: never break a page over a sentence
        logger.warning("insight sentence for %s could not be rendered from %r", code, evidence, exc_info=True)
        return fallback
    return f"{text} {action}".strip() if text else fallback


# --- Helpers --------------------------------------------------------------------------------------------------------


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _date(value) -> date | None:
    """An ISO date from the evidence, else None."""
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _days_from(e: dict, date_key: str, days_key: str, today: date, sign: int = 1) -> int | None:
    """Days from the evidence's date ``date_key`` to ``today`` (× ``sign``); older evidence: its ``days_key``."""
    day = _date(e.get(date_key))
    if day is not None:
        return sign * (today - day).days
    return _int(e.get(days_key))


def _decimal(value) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None and not isinstance(value, bool) else None
    except InvalidOperation:
        return None


def _days(value) -> str:
    return format_count(value, "day")


def _ago(days) -> str:
    days = _int(days)
    if days is None:
        return ""
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    return f"{_days(days)} ago"


def _percent(value) -> str:
    text = format_number(value, 0)
    return f"{text} %" if text else ""


def _tier_prefix(evidence: dict) -> str:
    tier = evidence.get("tier")
    return f"{tier} partner" if tier else "Partner"


def _period_noun(evidence: dict) -> str:
    return "quarter" if evidence.get("frequency") == "quarterly" else "month"


def _name(evidence: dict) -> str:
    return str(evidence.get("parameter_name") or evidence.get("parameter") or "Business")


# --- One renderer per rule -----------------------------------------------------------------------------------------


def _engagement_due(e: dict, today: date) -> str:
    """"Platinum partner: engage every 7 days; last engaged 12 days ago; overdue by 5 days.\""""
    parts = []
    every = _int(e.get("every_days"))
    head = _tier_prefix(e)
    parts.append(f"{head}: engage every {_days(every)}" if every else head)
    if e.get("last_engaged"):
        ago = _ago(_days_from(e, "last_engaged", "days_since", today))
        parts.append(f"last engaged {ago}" if ago else "")
    elif "last_engaged" in e:
        parts.append("never engaged yet")
    overdue = _days_from(e, "due_on", "days_overdue", today)
    if overdue is not None:
        if overdue > 0:
            parts.append(f"overdue by {_days(overdue)}")
        elif overdue == 0:
            parts.append("due today")
        else:
            parts.append(f"due in {_days(-overdue)}")
    return "; ".join(part for part in parts if part) + "."


def _business_drop(e: dict, _today: date) -> str:
    """"Leads generated down 50 % in Oct 2026 (3 vs 6 a month over the previous 3 months).\""""
    unit, noun = e.get("unit") or "", _period_noun(e)
    period = format_period(e.get("period"))
    value = format_quantity(e.get("value"), unit)
    last_year = e.get("same_period_last_year") if isinstance(e.get("same_period_last_year"), dict) else None
    drop = e.get("drop_percent")
    in_period = f" in {period}" if period else ""
    if drop is not None and float(drop) > 0:
        baseline = format_quantity(e.get("baseline"), unit)
        count = _int(e.get("baseline_periods"))
        over = f" over the previous {format_count(count, noun)}" if count and count > 1 else ""
        detail = f" ({value} vs {baseline} a {noun}{over})" if value and baseline else ""
        text = f"{_name(e)} down {_percent(drop)}{in_period}{detail}"
        if last_year and last_year.get("value") is not None:
            text += f"; {format_quantity(last_year.get('value'), unit)} in {format_period(last_year.get('period'))}"
        return text + "."
    if last_year and last_year.get("drop_percent") is not None:
        ly_value = format_quantity(last_year.get("value"), unit)
        ly_period = format_period(last_year.get("period"))
        return (f"{_name(e)} down {_percent(last_year['drop_percent'])}{in_period} against {ly_period}"
                f" ({value} vs {ly_value}).")
    return f"{_name(e)} down{in_period}."


def _pacing(e: dict, today: date) -> tuple[Decimal | None, Decimal | None]:
    """(expected so far, % of the period gone) for ``today`` from the period's dates and the target (whole days gone,
    as the evaluation counts them); older evidence: its stored ``expected_so_far`` and ``elapsed_percent``."""
    start, end, target = _date(e.get("period_start")), _date(e.get("period_end")), _decimal(e.get("target"))
    if start is None or end is None or target is None or end <= start:
        return _decimal(e.get("expected_so_far")), _decimal(e.get("elapsed_percent"))
    share = min(max(Decimal((today - start).days) / (end - start).days, Decimal(0)), Decimal(1))
    return target * share, share * 100


def _target_at_risk(e: dict, today: date) -> str:
    """"Revenue behind target for Nov 2026: INR 20,000 generated, INR 45,000 expected by now (60 % of the month gone,
    target INR 75,000).\""""
    unit = e.get("unit") or ""
    period = format_period(e.get("period"))
    text = f"{_name(e)} behind target" + (f" for {period}" if period else "")
    expected, elapsed = _pacing(e, today)
    figures = []
    if e.get("generated") is not None:
        figures.append(f"{format_quantity(e.get('generated'), unit)} generated")
    if expected is not None:
        figures.append(f"{format_quantity(expected, unit)} expected by now")
    if figures:
        text += ": " + ", ".join(figures)
    extra = []
    if elapsed is not None:
        extra.append(f"{_percent(elapsed)} of the {_period_noun(e)} gone")
    if e.get("target") is not None:
        extra.append(f"target {format_quantity(e.get('target'), unit)}")
    if extra:
        text += f" ({', '.join(extra)})"
    return text + "."


def _no_next_engagement(e: dict, today: date) -> str:
    """"Gold partner with no next engagement planned; last engaged 20 days ago.\""""
    text = f"{_tier_prefix(e)} with no next engagement planned"
    if e.get("last_engaged"):
        ago = _ago(_days_from(e, "last_engaged", "days_since", today))
        if ago:
            text += f"; last engaged {ago}"
    elif "last_engaged" in e:
        text += "; never engaged yet"
    return text + "."


def _inactivity_risk(e: dict, today: date) -> str:
    """"About to be tagged inactive: not engaged for 19 days (Gold: every 14).\"" The engagement rules' reason is
    rendered from ``since`` (the last engagement, or the partner's creation) and the tier's ``every_days``."""
    reason = str(e.get("reason") or "").strip()
    since, every = _days_from(e, "since", "", today), _int(e.get("every_days"))
    if not reason and since is not None:
        tier = f"{e.get('tier')}: every {every}" if e.get("tier") and every else ""
        reason = f"not engaged for {_days(since)}" + (f" ({tier})" if tier else "")
    within = _int(e.get("within_days"))
    head = f"About to be tagged inactive (within {_days(within)})" if within else "About to be tagged inactive"
    return f"{head}: {reason}." if reason else f"{head}."


def _lead_follow_up(e: dict, today: date) -> str:
    """"Lead “Acme” (Contacted): no follow-up for 12 days; 2 more leads without follow-up.\""""
    name = str(e.get("lead") or "").strip()
    head = f"Lead “{name}”" if name else "A lead"
    stage = e.get("stage_label") or e.get("stage")
    if stage:
        head += f" ({stage})"
    days = _days_from(e, "touched_on", "days_since", today)
    text = f"{head}: no follow-up for {_days(days)}" if days is not None else f"{head}: no follow-up"
    more = (_int(e.get("untouched")) or 1) - 1  # one insight per partner: its oldest lead, and how many others wait
    if more > 0:
        text += f"; {format_count(more, 'more lead')} without follow-up"
    return text + "."


def _ticket_breach(e: dict, today: date) -> str:
    """"Acme's customer Foo Ltd has an urgent ticket past its resolution time (#12 “Printer down”, overdue by 3
    days).\""""
    customer = str(e.get("customer") or "").strip() or "A customer"
    partner = str(e.get("partner") or "").strip()
    head = f"{partner}'s customer {customer}" if partner else customer
    priority = str(e.get("priority_label") or e.get("priority") or "").strip().lower()
    article = "an" if priority[:1] in ("a", "e", "i", "o", "u") else "a"
    text = f"{head} has {article} {priority + ' ' if priority else ''}ticket past its resolution time"
    details = []
    ticket_id = _int(e.get("ticket_id"))
    subject = str(e.get("subject") or "").strip()
    if ticket_id is not None:
        details.append(f"#{ticket_id}" + (f" “{subject}”" if subject else ""))
    overdue = _days_from(e, "due_on", "", today)
    if overdue is not None:
        details.append(f"overdue by {_days(overdue)}" if overdue > 0 else "due today")
    return text + (f" ({', '.join(details)})" if details else "") + "."


RENDERERS: dict[str, Callable[[dict, date], str]] = {
    "engagement_due": _engagement_due,
    "business_drop": _business_drop,
    "target_at_risk": _target_at_risk,
    "no_next_engagement": _no_next_engagement,
    "inactivity_risk": _inactivity_risk,
    "lead_follow_up": _lead_follow_up,
    "ticket_breach": _ticket_breach,
}


def _tier_review_renderer() -> Callable[[dict], str] | None:
    """Rule 7's sentence is insights.tier_review's ``tier_review_sentence(evidence) -> str`` when it has one."""
    try:
        from insights.tier_review import tier_review_sentence
    except ImportError:
        return None
    return tier_review_sentence
