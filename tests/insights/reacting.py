"""Insights made directly (not by the evaluation): the reaction tests must not depend on insights.evaluate."""

import itertools
from datetime import timedelta

from django.utils import timezone

from insights.models import Insight, Rule

_numbers = itertools.count(1)


def make_insight(partner, code=Rule.Code.ENGAGEMENT_DUE, *, score=50, state=Insight.State.OPEN, subject="",
                 evidence=None, **fields) -> Insight:
    number = next(_numbers)
    return Insight.objects.create(
        rule=Rule.objects.get(code=code), partner=partner, subject=subject,
        fingerprint=f"{code}:{partner.pk}:test{number}", score=score, state=state,
        evidence=evidence if evidence is not None else {"tier": "Gold", "every_days": 14, "days_overdue": 3},
        last_seen_at=timezone.now(), **fields,
    )


def yesterday():
    return timezone.now() - timedelta(days=1)
