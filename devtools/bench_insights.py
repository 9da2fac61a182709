"""Benchmark section ``insights`` (``manage.py bench --only insights``): the evaluation of the insight rules (issue 12).

- Nightly evaluation of every rule for every partner (``insights.evaluate.insights_evaluate``), run three times
  inside one transaction that is rolled back: the first run (every insight new: INSERTs); a re-run at the same time
  (nothing changed: nothing is written, the finders' cost alone); and the next night (``now`` + 1 day: the insights
  whose day counts moved — days overdue, pacing, days without follow-up — are rewritten: what a real night costs).
  Wall time (target ≤ 10 s), each rule's seconds and insights found, and the growth of this process's peak RSS during
  the run (Linux: VmHWM reset through /proc/self/clear_refs) — flat memory: nothing is loaded into Python per
  partner.
- One partner's re-evaluation (what the signal after an activity runs): ``insights_evaluate(partner_ids=[id])`` for
  ``PARTNER_RUNS`` different assigned partners, after the nightly run (same transaction, rolled back): median and p95
  (target median ≤ 50 ms).

Returns dicts of ``devtools.bench.Row`` fields, as ``bench_notify`` does (bench.py builds the rows; no import cycle).
"""

import statistics
import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from devtools.bench_notify import _reset_peak, _rss_kb
from insights.evaluate import insights_evaluate
from insights.models import Insight
from partners.models import Partner

NIGHTLY_S = 10.0
PARTNER_MS = 50.0
PARTNER_RUNS = 20
FLAT_MB = 50.0  # peak RSS growth allowed during a nightly run (it holds no per-partner rows)


def _noop(message):
    pass


def _nightly(progress, label, now):
    timings = {}
    rss_before = _rss_kb("VmRSS")
    peak_ok = _reset_peak()
    started = time.perf_counter()
    counts = insights_evaluate(now=now, timings=timings)
    elapsed = time.perf_counter() - started
    peak = _rss_kb("VmHWM")
    growth = (peak - rss_before) / 1024 if peak_ok and peak is not None and rss_before is not None else None
    progress(f"insights · {label}: {elapsed:.2f} s")
    return elapsed, counts, timings, growth


def _row(name, elapsed, counts, timings, growth, partners):
    per_rule = ", ".join(
        f"{code} {counts.get(code, {}).get('seen', 0):,}/{counts.get(code, {}).get('written', 0):,}"
        f"/{counts.get(code, {}).get('resolved', 0):,} ({seconds:.2f} s)" for code, seconds in timings.items()
    )
    memory = "peak RSS growth n/a" if growth is None else f"peak RSS growth {growth:.0f} MB"
    flat = growth is None or growth <= FLAT_MB
    return {"section": "insights", "name": name, "median": f"{elapsed:.2f} s",
            "target": f"≤ {NIGHTLY_S:.0f} s, flat memory", "ok": elapsed <= NIGHTLY_S and flat,
            "note": f"{partners:,} partners; per rule found/written/resolved (seconds): {per_rule}; {memory}"}


def bench_insights(*, repeat: int, progress=_noop) -> list[dict]:
    rows = []
    partners = Partner.objects.count()
    with transaction.atomic():
        Insight.objects.all().delete()  # rolled back: the first run finds every insight new
        now = timezone.now()
        first = _nightly(progress, "nightly evaluation, first run", now)
        again = _nightly(progress, "nightly evaluation, re-run, nothing changed", now + timedelta(minutes=1))
        next_night = _nightly(progress, "nightly evaluation, the next night", now + timedelta(days=1))
        rows.append(_row("nightly, first run (all new)", *first, partners))
        rows.append(_row("nightly, re-run (nothing changed)", *again, partners))
        rows.append(_row("nightly, the next night (+1 day)", *next_night, partners))

        ids = list(
            Partner.objects.filter(status=Partner.Status.ACTIVE, assigned_to__isnull=False)
            .order_by("?").values_list("pk", flat=True)[:PARTNER_RUNS]
        )
        times = []
        for pk in ids:
            started = time.perf_counter()
            insights_evaluate(partner_ids=[pk])
            times.append(time.perf_counter() - started)
        transaction.set_rollback(True)
    if times:
        median = statistics.median(times) * 1000
        ordered = sorted(times)
        p95 = ordered[max(0, -(-len(ordered) * 95 // 100) - 1)] * 1000
        rows.append({"section": "insights", "name": "one partner's re-evaluation", "median": f"{median:.1f} ms",
                     "p95": f"{p95:.1f} ms", "target": f"median ≤ {PARTNER_MS:.0f} ms", "ok": median <= PARTNER_MS,
                     "note": f"insights_evaluate(partner_ids=[id]), every rule, {len(times)} different partners "
                             "(the signal's task after an activity or figure changes)"})
    return rows
