"""The nightly evaluation split by partner-id range (insights.evaluate.evaluation_ranges, insights.tasks): the parts
together find exactly what one whole run finds, they run at the same time, and the chord runs through a real worker
on the real broker, then tells the reps."""

import threading
import time
from datetime import timedelta

import pytest
from celery.result import AsyncResult
from django.db import connection, transaction
from django.utils import timezone

from insights.evaluate import (
    ANALYZE_AFTER_ROWS,
    EVALUATE_LOCK,
    MAX_ID,
    evaluation_ranges,
    insights_evaluate,
    insights_statistics_refresh,
)
from insights.models import Insight
from notifications.models import Notification
from prm import pg
from tests import factories
from tests.factories import PartnerFactory


def ago(days):
    return timezone.now() - timedelta(days=days)


@pytest.fixture
def partners(rep, other_rep):
    platinum, gold = factories.tier("Platinum"), factories.tier("Gold")
    made = []
    for n in range(12):
        made.append(PartnerFactory(tier=platinum if n % 2 else gold, assigned_to=rep if n % 3 else other_rep,
                                   last_engaged_at=ago(5 + 4 * n)))
    return made


def _stored():
    return set(Insight.objects.values_list("fingerprint", "state", "score"))


def test_ranges_cover_every_id_once_and_hold_about_as_many_partners(partners):
    ranges = evaluation_ranges(parts=4)
    assert ranges[0][0] == 0 and ranges[-1][1] == MAX_ID
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))  # contiguous, no gap, no overlap
    sizes = [sum(lo <= p.pk < hi for p in partners) for lo, hi in ranges]
    assert sizes == [3, 3, 3, 3]
    assert evaluation_ranges(parts=1) == [(0, MAX_ID)]
    assert len(evaluation_ranges(parts=50)) == 12  # never an empty part: at most one per partner


def test_the_parts_together_find_what_one_run_finds(partners):
    now = timezone.now()
    whole = insights_evaluate(now=now)
    expected = _stored()
    assert sum(c["seen"] for c in whole.values()) > 12
    Insight.objects.all().delete()
    for span in evaluation_ranges(parts=3):
        insights_evaluate(now=now, id_range=span)
    assert _stored() == expected
    # a part's "gone" step resolves only its own partners' insights
    first = evaluation_ranges(parts=3)[0]
    for p in partners:
        if first[0] <= p.pk < first[1]:
            p.last_engaged_at = now
            p.save()
    counts = insights_evaluate(now=now, id_range=evaluation_ranges(parts=3)[1])
    assert counts["engagement_due"]["resolved"] == 0


def test_partner_ids_and_a_range_are_not_both_allowed(partners):
    with pytest.raises(TypeError):
        insights_evaluate(partner_ids=[partners[0].pk], id_range=(0, 10))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the next tests find the migrations' rows
def test_parts_run_at_the_same_time_and_one_partner_waits_for_them():
    """Two parts hold the evaluation lock shared: both proceed; a one-partner run (exclusive) must wait."""
    with transaction.atomic():
        pg.advisory_xact_lock(EVALUATE_LOCK, shared=True)  # a part in progress in this connection
        results = {}

        def other(name, **kwargs):
            try:
                with transaction.atomic():
                    results[name] = pg.advisory_xact_lock(EVALUATE_LOCK, wait=False, **kwargs)
            finally:
                connection.close()

        for name, kwargs in (("part", {"shared": True}), ("partner", {})):
            thread = threading.Thread(target=other, args=(name,), kwargs=kwargs)
            thread.start()
            thread.join(10)
    assert results == {"part": True, "partner": False}


@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_nightly_chord_through_the_real_broker(celery_worker_process, settings, rep):
    settings.TIME_ZONE = "UTC"  # the worker process runs with the default time zone
    gold = factories.tier("Gold")
    for n in range(6):
        PartnerFactory(tier=gold, assigned_to=rep, last_engaged_at=ago(20 + n))
    # Saving a partner evaluates it at once (insights.signals → the worker); wait for those, then start afresh so the
    # nightly run finds every insight new.
    deadline = time.monotonic() + 30
    while Insight.objects.filter(rule__code="engagement_due").count() < 6 and time.monotonic() < deadline:
        time.sleep(0.2)
    Insight.objects.all().delete()
    sent = celery_worker_process.send_task("insights.tasks.evaluate_insights").get(timeout=30)
    assert len(sent["parts"]) == 4  # INSIGHTS_EVALUATION_PARTS' default
    summary = AsyncResult(sent["callback"], app=celery_worker_process).get(timeout=60)
    assert summary["rules"]["engagement_due"]["seen"] == 6
    assert summary["notified"] == 1  # one "new suggestions" notification for the rep, after every part
    assert Insight.objects.filter(rule__code="engagement_due", state=Insight.State.OPEN).count() == 6
    assert Notification.objects.filter(recipient=rep, event="insights").count() == 1


def test_statistics_are_refreshed_after_a_big_run_only(partners):
    insights_evaluate()
    stored = Insight.objects.count()

    def reltuples():
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'insights_insight'::regclass")
            return cursor.fetchone()[0]

    assert not insights_statistics_refresh(written=ANALYZE_AFTER_ROWS - 1)
    assert insights_statistics_refresh(written=ANALYZE_AFTER_ROWS)
    assert reltuples() == stored  # ANALYZE counted this transaction's rows: the planner sees the table's real size
