"""Generated metrics (business.metrics) against hand-computed expectations."""

import threading
import time
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from business.metrics import METRICS_LOCK, metrics_compute_period, metrics_compute_range, metrics_compute_recent
from business.models import Achievement, Frequency, Parameter
from leads.models import Lead
from prm import pg
from tests import factories

KOLKATA = ZoneInfo("Asia/Kolkata")  # UTC+05:30: month edges in UTC and local time differ


@pytest.fixture(autouse=True)
def local_time_zone(settings):
    settings.TIME_ZONE = "Asia/Kolkata"


def at(y, m, d, hh=12, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=KOLKATA)


def lead(partner, created, converted=None, value=None):
    return factories.LeadFactory(
        partner=partner, created_at=created, converted_at=converted, value=value,
        stage=Lead.Stage.WON if converted else Lead.Stage.NEW,
    )


def values(code):
    """{(partner_id, period_start): value} of one parameter."""
    return {
        (a.partner_id, a.period_start): a.value
        for a in Achievement.objects.filter(parameter__code=code)
    }


@pytest.fixture
def partners(db):
    a, b = factories.PartnerFactory(), factories.PartnerFactory()
    lead(a, at(2026, 1, 5))
    lead(a, at(2026, 1, 31, 23, 30))  # 18:00 UTC on Jan 31: January
    lead(a, at(2026, 2, 1, 0, 10))  # 18:40 UTC on Jan 31, but February in Kolkata
    lead(a, at(2026, 1, 10), converted=at(2026, 3, 3), value=Decimal("500.00"))  # created Jan, converted Mar
    lead(a, at(2026, 2, 2), converted=at(2026, 2, 20), value=Decimal("1200.50"))
    lead(a, at(2026, 2, 3), converted=at(2026, 2, 21), value=None)  # won without a value: counts, adds 0
    lead(None, at(2026, 1, 6))  # no partner: ignored
    return a, b


def test_monthly_values_by_hand(partners):
    a, b = partners
    result = metrics_compute_range(since=date(2025, 12, 1), until=date(2026, 4, 30))
    assert not result.skipped
    assert values(Parameter.LEADS_GENERATED) == {
        (a.pk, date(2026, 1, 1)): 3,  # Jan 5, Jan 10, Jan 31 23:30
        (a.pk, date(2026, 2, 1)): 3,  # Feb 1 00:10, Feb 2, Feb 3
    }
    assert values(Parameter.LEADS_CONVERTED) == {(a.pk, date(2026, 2, 1)): 2, (a.pk, date(2026, 3, 1)): 1}
    assert values(Parameter.REVENUE) == {
        (a.pk, date(2026, 2, 1)): Decimal("1200.50"),
        (a.pk, date(2026, 3, 1)): Decimal("500.00"),
    }
    # December and April had no leads and partner b never had any: no rows (read as zero).
    assert not Achievement.objects.filter(partner=b).exists()
    assert set(Achievement.objects.values_list("source", flat=True)) == {Achievement.Source.COMPUTED}


def test_month_edge_in_utc(partners, settings):
    """The same leads in UTC: the 00:10 Kolkata lead belongs to January."""
    a, _ = partners
    settings.TIME_ZONE = "UTC"
    metrics_compute_period(day=date(2026, 1, 15))
    assert values(Parameter.LEADS_GENERATED) == {(a.pk, date(2026, 1, 1)): 4}


def test_quarter_boundaries(db):
    Parameter.objects.filter(code=Parameter.REVENUE).update(frequency=Frequency.QUARTERLY)
    p = factories.PartnerFactory()
    lead(p, at(2026, 1, 2), converted=at(2026, 1, 2), value=Decimal("10"))
    lead(p, at(2026, 1, 2), converted=at(2026, 3, 31, 23, 59), value=Decimal("20"))  # Q1 in Kolkata
    lead(p, at(2026, 1, 2), converted=at(2026, 4, 1, 0, 0), value=Decimal("40"))  # Q2: first instant of April
    lead(p, at(2026, 1, 2), converted=at(2026, 6, 30, 23, 59), value=Decimal("80"))
    metrics_compute_range(since=date(2026, 1, 1), until=date(2026, 6, 30))
    assert values(Parameter.REVENUE) == {(p.pk, date(2026, 1, 1)): 30, (p.pk, date(2026, 4, 1)): 120}
    # monthly parameters alongside stay monthly
    assert values(Parameter.LEADS_CONVERTED)[(p.pk, date(2026, 3, 1))] == 1


def test_idempotent_run_twice(partners):
    metrics_compute_range(since=date(2026, 1, 1), until=date(2026, 3, 31))
    first = list(Achievement.objects.order_by("id").values_list("id", "partner_id", "parameter_id", "period_start",
                                                                  "value", "updated_at"))
    result = metrics_compute_range(since=date(2026, 1, 1), until=date(2026, 3, 31))
    second = list(Achievement.objects.order_by("id").values_list("id", "partner_id", "parameter_id", "period_start",
                                                                   "value", "updated_at"))
    assert first == second  # same rows, same values, updated_at untouched
    assert sum(result.written.values()) == 0  # only rows actually changed by DO UPDATE … WHERE count


def test_lead_moved_away_sets_stale_row_to_zero(partners):
    a, b = partners
    metrics_compute_period(day=date(2026, 2, 1))
    Lead.objects.filter(partner=a, converted_at__isnull=False).update(partner=b)
    result = metrics_compute_period(day=date(2026, 2, 1))
    assert values(Parameter.REVENUE)[(a.pk, date(2026, 2, 1))] == 0
    assert values(Parameter.REVENUE)[(b.pk, date(2026, 2, 1))] == Decimal("1200.50")
    assert result.zeroed["leads_converted, revenue 2026-02"] == 2


def test_uploaded_values_are_not_overwritten(partners):
    a, _ = partners
    revenue = factories.parameter(Parameter.REVENUE)
    custom = Parameter.objects.create(code="nps", name="NPS", unit="%", source=Parameter.Source.UPLOADED)
    Achievement.objects.create(partner=a, parameter=revenue, period_start=date(2026, 2, 1), value=Decimal("999"),
                               source=Achievement.Source.UPLOAD)
    Achievement.objects.create(partner=a, parameter=custom, period_start=date(2026, 2, 1), value=Decimal("42"),
                               source=Achievement.Source.UPLOAD)
    metrics_compute_period(day=date(2026, 2, 1))
    metrics_compute_period(day=date(2026, 2, 1))
    uploaded = Achievement.objects.get(partner=a, parameter=revenue, period_start=date(2026, 2, 1))
    assert (uploaded.value, uploaded.source) == (Decimal("999"), Achievement.Source.UPLOAD)
    assert Achievement.objects.get(parameter=custom).value == Decimal("42")
    assert values(Parameter.LEADS_CONVERTED)[(a.pk, date(2026, 2, 1))] == 2  # the other parameters are computed


def test_range_equals_period_by_period(partners):
    a, b = partners
    lead(b, at(2026, 3, 9), converted=at(2026, 4, 1, 0, 5), value=Decimal("7.25"))
    metrics_compute_range(since=date(2025, 12, 1), until=date(2026, 4, 30))
    by_range = {code: values(code) for code in Parameter.SYSTEM_CODES}
    Achievement.objects.all().delete()
    for month in (12, 1, 2, 3, 4):
        metrics_compute_period(day=date(2025 if month == 12 else 2026, month, 1))
    assert {code: values(code) for code in Parameter.SYSTEM_CODES} == by_range
    assert by_range[Parameter.REVENUE][(b.pk, date(2026, 4, 1))] == Decimal("7.25")


def test_lead_moved_to_another_period_zeroes_the_old_one(partners):
    a, _ = partners
    metrics_compute_range(since=date(2026, 1, 1), until=date(2026, 3, 31))
    # Every February conversion of a moves to March: February has none left, March gets them.
    Lead.objects.filter(partner=a, converted_at__gte=at(2026, 2, 1, 0, 0), converted_at__lt=at(2026, 3, 1, 0, 0)
                        ).update(converted_at=at(2026, 3, 15))
    result = metrics_compute_range(since=date(2026, 1, 1), until=date(2026, 3, 31))
    assert values(Parameter.LEADS_CONVERTED) == {(a.pk, date(2026, 2, 1)): 0, (a.pk, date(2026, 3, 1)): 3}
    assert values(Parameter.REVENUE) == {(a.pk, date(2026, 2, 1)): 0, (a.pk, date(2026, 3, 1)): Decimal("1700.50")}
    assert result.zeroed["leads_converted, revenue 2026-02"] == 2
    assert result.written["leads_converted, revenue 2026-03"] == 2
    assert result.written["leads_generated 2026-02"] == 0  # created_at did not move: nothing rewritten
    # A zero stays a zero: the next run writes nothing.
    again = metrics_compute_range(since=date(2026, 1, 1), until=date(2026, 3, 31))
    assert sum(again.written.values()) == sum(again.zeroed.values()) == 0


def test_rerun_rewrites_only_changed_rows(partners):
    a, b = partners
    lead(b, at(2026, 2, 4))
    metrics_compute_period(day=date(2026, 2, 1))
    before = dict(Achievement.objects.values_list("id", "updated_at"))
    lead(b, at(2026, 2, 5))
    result = metrics_compute_period(day=date(2026, 2, 1))
    assert result.written == {"leads_generated 2026-02": 1, "leads_converted, revenue 2026-02": 0}
    after = dict(Achievement.objects.values_list("id", "updated_at"))
    changed = Achievement.objects.get(partner=b, parameter__code=Parameter.LEADS_GENERATED)
    assert changed.value == 2 and after[changed.pk] > before[changed.pk]
    assert {pk: at_ for pk, at_ in after.items() if pk != changed.pk} == {
        pk: at_ for pk, at_ in before.items() if pk != changed.pk}
    # The unchanged rows were not even locked: ON CONFLICT DO UPDATE locks every conflicting row, even one its WHERE
    # then leaves alone (a lock-only xmax shows it), and locking a million unchanged rows was most of a re-run's time.
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM business_achievement WHERE xmax::text <> '0' AND id <> %s",
                       [changed.pk])
        assert cursor.fetchone()[0] == 0


def test_uploaded_values_win_in_a_range(partners):
    a, b = partners
    revenue = factories.parameter(Parameter.REVENUE)
    generated = factories.parameter(Parameter.LEADS_GENERATED)
    # An upload where the leads give another value, and one for a partner and month without any leads.
    Achievement.objects.create(partner=a, parameter=revenue, period_start=date(2026, 3, 1), value=Decimal("1"),
                               source=Achievement.Source.UPLOAD)
    Achievement.objects.create(partner=b, parameter=generated, period_start=date(2026, 1, 1), value=Decimal("9"),
                               source=Achievement.Source.API)
    for _ in range(2):
        result = metrics_compute_range(since=date(2026, 1, 1), until=date(2026, 3, 31))
    assert values(Parameter.REVENUE) == {(a.pk, date(2026, 2, 1)): Decimal("1200.50"), (a.pk, date(2026, 3, 1)): 1}
    assert values(Parameter.LEADS_GENERATED)[(b.pk, date(2026, 1, 1))] == 9  # not zeroed: not a computed row
    assert sum(result.zeroed.values()) == 0
    assert Achievement.objects.filter(source=Achievement.Source.COMPUTED, partner=b).count() == 0


def test_recent_covers_current_and_previous_period(db):
    p = factories.PartnerFactory()
    today = timezone.localdate()
    this_month = today.replace(day=1)
    last_month = (this_month - timezone.timedelta(days=1)).replace(day=1)
    lead(p, timezone.now())
    lead(p, timezone.make_aware(datetime(last_month.year, last_month.month, 2, 12)))
    metrics_compute_recent()
    assert values(Parameter.LEADS_GENERATED) == {(p.pk, this_month): 1, (p.pk, last_month): 1}


def test_task_runs_in_process(db):
    from business.tasks import compute_business_metrics

    p = factories.PartnerFactory()
    lead(p, timezone.now(), converted=timezone.now(), value=Decimal("5"))
    summary = compute_business_metrics.apply().get()  # in this process, broker or not
    assert summary["skipped"] is False
    assert values(Parameter.REVENUE) == {(p.pk, timezone.localdate().replace(day=1)): Decimal("5")}


def test_command_period_and_since(partners, capsys):
    a, _ = partners
    call_command("compute_business_metrics", "--period", "2026-02")
    out = capsys.readouterr().out
    assert "leads_converted, revenue 2026-02: 2 rows written" in out
    assert values(Parameter.REVENUE) == {(a.pk, date(2026, 2, 1)): Decimal("1200.50")}
    call_command("compute_business_metrics", "--since", "2026-01")
    assert values(Parameter.REVENUE)[(a.pk, date(2026, 3, 1))] == Decimal("500")


def test_command_rejects_bad_period(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no month 13"):
        call_command("compute_business_metrics", "--period", "2026-13")


# --- Postgres: concurrency ------------------------------------------------------------------------------------------

def _in_thread(fn, errors):
    def run():
        try:
            fn()
        except Exception as exc:  # surfaced by the test
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_runs_at_once_serialise_and_agree(settings):
    a = factories.PartnerFactory()
    for day in range(1, 21):
        lead(a, at(2026, 2, day), converted=at(2026, 2, day), value=Decimal("10"))
    errors, results = [], []
    barrier = threading.Barrier(2)

    def run():
        barrier.wait()
        results.append(metrics_compute_period(day=date(2026, 2, 1)))

    threads = [_in_thread(run, errors) for _ in range(2)]
    for thread in threads:
        thread.join(30)
    assert not errors
    assert len(results) == 2 and not any(r.skipped for r in results)
    # One wrote the rows, the other waited for the lock and then found nothing to change.
    assert sorted(sum(r.written.values()) for r in results) == [0, 3]
    assert values(Parameter.REVENUE) == {(a.pk, date(2026, 2, 1)): Decimal("200")}
    assert values(Parameter.LEADS_GENERATED) == {(a.pk, date(2026, 2, 1)): 20}
    assert Achievement.objects.count() == 3


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_second_run_waits_or_skips_while_the_lock_is_held():
    a = factories.PartnerFactory()
    lead(a, at(2026, 2, 5))
    held, release, errors = threading.Event(), threading.Event(), []

    def hold_lock():
        from django.db import transaction

        with transaction.atomic():
            pg.advisory_xact_lock(METRICS_LOCK)
            held.set()
            release.wait(10)

    holder = _in_thread(hold_lock, errors)
    assert held.wait(10)
    # wait=False: skips at once, writes nothing
    assert metrics_compute_period(day=date(2026, 2, 1), wait=False).skipped
    assert not Achievement.objects.exists()
    # wait=True: blocks until the holder's transaction ends, then writes
    finished = []
    waiter = _in_thread(lambda: finished.append(metrics_compute_period(day=date(2026, 2, 1))), errors)
    time.sleep(0.5)
    assert not finished  # still waiting for the lock
    release.set()
    holder.join(10)
    waiter.join(10)
    assert not errors
    assert finished and not finished[0].skipped
    assert values(Parameter.LEADS_GENERATED) == {(a.pk, date(2026, 2, 1)): 1}


# --- Through the real broker ----------------------------------------------------------------------------------------

@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_task_through_the_real_broker(celery_worker_process, settings):
    settings.TIME_ZONE = "UTC"  # the worker process runs with the default time zone
    p = factories.PartnerFactory()
    lead(p, timezone.now(), converted=timezone.now(), value=Decimal("75.25"))
    async_result = celery_worker_process.send_task("business.tasks.compute_business_metrics")
    summary = async_result.get(timeout=30)
    assert summary["skipped"] is False
    month = timezone.localdate().replace(day=1)
    assert values(Parameter.REVENUE) == {(p.pk, month): Decimal("75.25")}
    assert values(Parameter.LEADS_GENERATED) == {(p.pk, month): 1}
