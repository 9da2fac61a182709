"""Benchmark section ``insights`` (``manage.py bench --only insights``): the evaluation of the insight rules (issue 12).

- The nightly evaluation as it runs in production (insights.tasks.evaluate_insights): split by partner-id range into
  one part per CPU (``os.cpu_count()``, ``insights.evaluate.evaluation_ranges``), each part in its own thread with
  its own connection and transaction — as a worker process would run it (the work is PostgreSQL's; Python only
  waits) — all started together; the wall time runs from the first part's start to the last part's COMMIT and the
  ANALYZE the chord's callback runs after a run that wrote many rows.
  Committed, not rolled back: what a commit costs is part of the run (deferred foreign-key checks cost 5.7 s of an
  18 s first run before insights lost them, and a rolled-back run never paid them). Three runs:
  the first run (the table emptied first: every insight new, INSERTs), a re-run at the same time (nothing changed:
  nothing is written, the finders' cost alone) and the next night (``now`` + 1 day: the insights whose dates or
  scores moved are rewritten — what a real night costs).
- The first run again as one part (``insights_evaluate()``, the whole job in one task: the figure before the split),
  for comparison, with each rule's seconds and the growth of this process's peak RSS (flat memory: nothing is loaded
  into Python per partner).
- The insights table is copied aside first and put back afterwards (``finally``), so the database is left as found.
- One partner's re-evaluation (what the signal after an activity runs): ``insights_evaluate(partner_ids=[id])`` for
  ``PARTNER_RUNS`` different assigned partners, inside a transaction that is rolled back: median and p95
  (target median ≤ 50 ms).

Returns dicts of ``devtools.bench.Row`` fields, as ``bench_notify`` does (bench.py builds the rows; no import cycle).
"""

import os
import statistics
import threading
import time
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from devtools.bench_notify import _reset_peak, _rss_kb
from insights.evaluate import evaluation_ranges, insights_evaluate, insights_statistics_refresh
from insights.models import Insight
from partners.models import Partner

NIGHTLY_S = 10.0
PARTNER_MS = 50.0
PARTNER_RUNS = 20
FLAT_MB = 50.0  # peak RSS growth allowed during a nightly run (it holds no per-partner rows)
_TABLE = Insight._meta.db_table
_SAVED = "bench_saved_insights"


def _noop(message):
    pass


def _split_run(now, parts: int) -> tuple[float, dict[str, dict[str, int]], int]:
    """The nightly run in ``parts`` parts at the same time (threads, own connections, committed). Returns the wall
    time, the counts per rule summed over the parts, and the number of parts."""
    ranges = evaluation_ranges(parts=parts)
    barrier = threading.Barrier(len(ranges))
    times, counts, errors = [], {}, []
    guard = threading.Lock()

    def part(span):
        try:
            barrier.wait(timeout=600)
            started = time.perf_counter()
            found = insights_evaluate(now=now, id_range=span)
            with guard:
                times.append((started, time.perf_counter()))
                for code, part_counts in found.items():
                    total = counts.setdefault(code, {"seen": 0, "written": 0, "resolved": 0})
                    for key in total:
                        total[key] += part_counts[key]
        except Exception as error:  # noqa: BLE001 (raised below; the other parts' barrier is broken)
            errors.append(repr(error))
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=part, args=(span,)) for span in ranges]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors or len(times) != len(ranges):
        raise RuntimeError(f"split run failed: {errors}")
    insights_statistics_refresh(written=sum(c["written"] for c in counts.values()))  # the chord's callback does it
    return time.perf_counter() - min(start for start, _ in times), counts, len(ranges)


def _empty_insights():
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {_TABLE}")  # noqa: S608 (the model's table)
        cursor.execute(f"ANALYZE {_TABLE}")  # noqa: S608


def _per_rule(counts, timings=None):
    return ", ".join(
        f"{code} {c['seen']:,}/{c['written']:,}/{c['resolved']:,}"
        + (f" ({timings[code]:.2f} s)" if timings and code in timings else "") for code, c in counts.items()
    )


def _split_row(name, elapsed, counts, parts, partners):
    return {"section": "insights", "name": name, "median": f"{elapsed:.2f} s", "target": f"≤ {NIGHTLY_S:.0f} s",
            "ok": elapsed <= NIGHTLY_S,
            "note": f"{partners:,} partners, {parts} parts at once (one per CPU), committed; per rule "
                    f"found/written/resolved: {_per_rule(counts)}"}


def _whole_first_run(progress, now, partners):
    _empty_insights()
    timings = {}
    rss_before = _rss_kb("VmRSS")
    peak_ok = _reset_peak()
    started = time.perf_counter()
    counts = insights_evaluate(now=now, timings=timings)
    elapsed = time.perf_counter() - started
    peak = _rss_kb("VmHWM")
    growth = (peak - rss_before) / 1024 if peak_ok and peak is not None and rss_before is not None else None
    progress(f"insights · first run as one part: {elapsed:.2f} s")
    memory = "peak RSS growth n/a" if growth is None else f"peak RSS growth {growth:.0f} MB"
    return {"section": "insights", "name": "nightly, first run as one part (before the split; for comparison)",
            "median": f"{elapsed:.2f} s", "target": f"flat memory (≤ {FLAT_MB:.0f} MB)",
            "ok": growth is None or growth <= FLAT_MB,
            "note": f"{partners:,} partners, committed; per rule found/written/resolved (seconds): "
                    f"{_per_rule(counts, timings)}; {memory}"}


def _one_partner_rows():
    ids = list(
        Partner.objects.filter(status=Partner.Status.ACTIVE, assigned_to__isnull=False)
        .order_by("?").values_list("pk", flat=True)[:PARTNER_RUNS]
    )
    times = []
    with transaction.atomic():
        for pk in ids:
            started = time.perf_counter()
            insights_evaluate(partner_ids=[pk])
            times.append(time.perf_counter() - started)
        transaction.set_rollback(True)
    if not times:
        return []
    median = statistics.median(times) * 1000
    ordered = sorted(times)
    p95 = ordered[max(0, -(-len(ordered) * 95 // 100) - 1)] * 1000
    return [{"section": "insights", "name": "one partner's re-evaluation", "median": f"{median:.1f} ms",
             "p95": f"{p95:.1f} ms", "target": f"median ≤ {PARTNER_MS:.0f} ms", "ok": median <= PARTNER_MS,
             "note": f"insights_evaluate(partner_ids=[id]), every rule, {len(times)} different partners "
                     "(the signal's task after an activity or figure changes)"}]


def bench_insights(*, repeat: int, progress=_noop) -> list[dict]:
    rows = []
    partners = Partner.objects.count()
    workers = os.cpu_count() or 1
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_SAVED}; CREATE TABLE {_SAVED} AS TABLE {_TABLE}")  # noqa: S608
    try:
        now = timezone.now()
        _empty_insights()
        runs = (("nightly, first run (all new)", now), ("nightly, re-run (nothing changed)",
                now + timedelta(minutes=1)), ("nightly, the next night (+1 day)", now + timedelta(days=1)))
        for name, at in runs:
            elapsed, counts, parts = _split_run(at, workers)
            progress(f"insights · {name}: {elapsed:.2f} s")
            rows.append(_split_row(name, elapsed, counts, parts, partners))
        rows.append(_whole_first_run(progress, now, partners))
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {_TABLE}; INSERT INTO {_TABLE} TABLE {_SAVED}; DROP TABLE {_SAVED};"  # noqa: S608
                           f" ANALYZE {_TABLE}")
    return rows + _one_partner_rows()
