"""Benchmark section ``notify`` (issue 11): the beat's tick that claims what is due and creates the notifications.

- A tick with nothing due (the steady state, every 30 s): ``activities_notify_due`` on the real data, after a first
  tick has claimed whatever the dataset had due; median of ``repeat`` ticks. Target ≤ 20 ms.
- One tick with ``due`` (100,000) reminders due now, spread over the partners' assignees (~500 reps at 100k
  partners): the rows are inserted in a transaction, the tick runs (claim in batches + one INSERT … ON CONFLICT per
  batch), and everything is rolled back. Wall time of the tick (target ≤ 30 s) and the growth of this process's peak
  RSS during it (Linux: VmHWM reset through /proc/self/clear_refs), compared with a tick of a tenth as many: flat
  memory means the growth does not follow the number due.

Returns plain dicts with ``devtools.bench.Row``'s fields (bench.py builds the rows; this module does not import it).
"""

import re
import statistics
import time
from datetime import timedelta
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from activities.models import Activity
from activities.services import activities_notify_due
from notifications.models import Notification
from partners.models import Partner

NOTIFY_DUE = 100_000
TICK_S = 30.0
EMPTY_TICK_MS = 20.0
FLAT_MB = 50.0  # the 100k tick's peak-RSS growth may exceed the 10k tick's by at most this much


def _noop(message):
    pass


def _rss_kb(field: str) -> int | None:
    try:
        match = re.search(rf"{field}:\s+(\d+) kB", Path("/proc/self/status").read_text())
    except OSError:
        return None
    return int(match.group(1)) if match else None


def _reset_peak() -> bool:
    """Reset this process's peak RSS (VmHWM) to its current RSS; False where Linux does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _insert_due(*, count: int, now) -> int:
    """``count`` planned reminders due one minute before ``now``, round-robin over the assigned partners, owned by
    their assignee (one INSERT … SELECT generate_series). Returns the number of distinct owners."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH p AS (
                SELECT array_agg(id ORDER BY id) AS ids, array_agg(assigned_to_id ORDER BY id) AS owners
                FROM {Partner._meta.db_table} WHERE assigned_to_id IS NOT NULL
            )
            INSERT INTO {Activity._meta.db_table} (partner_id, kind, mode, status, subject, start_at, place, owner_id,
                outcome, sequence, created_at, updated_at)
            SELECT p.ids[1 + g %% cardinality(p.ids)], 'task', 'reminder', 'planned', 'Bench reminder ' || g,
                   %(due)s, '', p.owners[1 + g %% cardinality(p.ids)], '', 0, %(now)s, %(now)s
            FROM p, generate_series(1, %(count)s) AS g
            WHERE cardinality(p.ids) > 0
            RETURNING owner_id
            """,  # noqa: S608 (table names from the models)
            {"count": count, "due": now - timedelta(minutes=1), "now": now},
        )
        return len({row[0] for row in cursor.fetchall()})


def _big_tick(count: int, progress) -> dict:
    """Insert ``count`` due reminders, run one tick, roll back. Returns the figures."""
    with transaction.atomic():
        now = timezone.now()
        activities_notify_due(now=now)  # whatever the dataset itself has due: not part of the measurement
        mark = timezone.now()
        started = time.perf_counter()
        owners = _insert_due(count=count, now=now)
        setup = time.perf_counter() - started
        progress(f"notify · {count:,} due reminders inserted for {owners:,} users in {setup:.1f} s; one tick…")
        rss_before = _rss_kb("VmRSS")
        peak_ok = _reset_peak()
        started = time.perf_counter()
        created = activities_notify_due(now=now + timedelta(seconds=1))
        elapsed = time.perf_counter() - started
        peak = _rss_kb("VmHWM")
        claimed = Activity.objects.filter(notified_at=now + timedelta(seconds=1)).count()
        notifications = Notification.objects.filter(created_at__gte=mark).count()
        transaction.set_rollback(True)
    growth = (peak - rss_before) / 1024 if peak_ok and peak is not None and rss_before is not None else None
    return {"count": count, "owners": owners, "setup": setup, "elapsed": elapsed, "created": created,
            "claimed": claimed, "notifications": notifications, "growth_mb": growth}


def bench_notify(*, repeat: int, due: int = NOTIFY_DUE, progress=_noop) -> list[dict]:
    rows = []
    # Nothing due: first claim what the dataset has due (rolled back at the end), then time the empty ticks.
    progress("notify · ticks with nothing due")
    times = []
    with transaction.atomic():
        activities_notify_due(now=timezone.now())
        for _ in range(max(5, repeat)):
            started = time.perf_counter()
            activities_notify_due(now=timezone.now())
            times.append(time.perf_counter() - started)
        transaction.set_rollback(True)
    median = statistics.median(times) * 1000
    ordered = sorted(times)
    p95 = ordered[max(0, -(-len(ordered) * 95 // 100) - 1)] * 1000
    planned = Activity.objects.filter(status=Activity.Status.PLANNED, notified_at=None).count()
    rows.append({"section": "notify", "name": "beat tick, nothing due", "median": f"{median:.1f} ms",
                 "p95": f"{p95:.1f} ms", "queries": "1", "target": f"≤ {EMPTY_TICK_MS:.0f} ms",
                 "ok": median <= EMPTY_TICK_MS,
                 "note": f"activities_notify_due, {len(times)} ticks; {planned:,} planned activities not yet notified "
                         "(the partial index the claim reads)"})

    small = _big_tick(max(1, due // 10), progress)
    big = _big_tick(due, progress)
    flat = (big["growth_mb"] is not None and small["growth_mb"] is not None
            and big["growth_mb"] <= small["growth_mb"] + FLAT_MB)
    memory = ("peak RSS growth n/a (no /proc/self/clear_refs)" if big["growth_mb"] is None else
              f"peak RSS growth during the tick {big['growth_mb']:.0f} MB ({small['count']:,} due: "
              f"{small['growth_mb']:.0f} MB, {small['elapsed']:.2f} s)")
    correct = big["created"] == big["count"] == big["claimed"] == big["notifications"]
    rows.append({"section": "notify", "name": f"beat tick, {big['count']:,} due", "median": f"{big['elapsed']:.2f} s",
                 "target": f"≤ {TICK_S:.0f} s, flat memory",
                 "ok": correct and big["elapsed"] <= TICK_S and (flat or big["growth_mb"] is None),
                 "note": f"{big['claimed']:,} reminders claimed, {big['created']:,} notifications created for "
                         f"{big['owners']:,} users (claim in batches + INSERT … ON CONFLICT, one transaction, rolled "
                         f"back); {memory}; setup (INSERT of the due rows) {big['setup']:.1f} s"
                         + ("" if correct else "; WRONG COUNTS")})
    return rows
