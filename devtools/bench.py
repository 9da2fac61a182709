"""Benchmarks at scale (issue 6), behind ``manage.py bench`` / ``make bench``. PostgreSQL only; not part of the tests.

Each ``bench_*`` function measures one area and returns ``Row``s; ``render_table`` prints them. Sections:

- ``list`` / ``detail``: pages through Django's test Client (force_login, DEBUG off, in-process), one request with
  ``CaptureQueriesContext`` to count SQL queries, then ``repeat`` timed requests (median, p95 of server time).
- ``metrics``: ``compute_business_metrics --period`` as a subprocess (wall time, peak RSS via ``os.wait4``), the
  service in-process, its growth with the number of leads in the period, and the first computation of 12 months
  (see ``bench_metrics``; rolled back, with the foreign-key checks their commits would run).
- ``tagging``: ``partners_tag_inactive`` first run / steady-state run / dry run, inside a transaction rolled back.
- ``import``: ``manage.py bench_import --drop`` (this app's command) in a subprocess, its figures parsed.
- ``load``: a real gunicorn on 127.0.0.1 driven by wrk (``devtools/wrk_check.lua`` checks the status and a marker of
  the expected page on every response): partner lists and page vs ``/healthz``, req/s and CPU per request.
- ``notify``: the beat's tick of due notifications, with nothing due and with 100,000 due (``devtools/bench_notify.py``).
- ``today``: the Today page for a rep with 500 partners and for a manager (``devtools/bench_today.py``).
- ``insights``: the nightly evaluation of the insight rules and one partner's re-evaluation (``devtools/bench_insights.py``).
- ``team``: the team dashboard for a manager over every partner, and its nightly refresh (``devtools/bench_team.py``).
- ``crm``: the leads, customers and tickets lists and a lead's and a customer's page, for a manager and a rep with 500
  partners (``devtools/bench_service.py``).
- ``portal``: the partner portal's home, the registration lists (partner and staff) and the conflict check on submit
  against 500k registrations, 1M leads and 300k customers (``devtools/bench_portal.py``; needs the portal's demo data:
  ``seed_demo --portal-only`` on a seeded database).
- ``api``: the /api/v1/ lists (a page of 100, first and deep, manager and rep) and the bulk upsert of 100,000
  achievements in one request vs the CSV import of the same rows (``devtools/bench_api.py``).
- ``webhooks``: 10,000 outbox events fanned out and drained by one worker into a local receiver that verifies every
  signature (``devtools/bench_webhooks.py``).

The large dataset is built with ``devtools.demo`` (seed_demo's functions) when the database has no partners; an existing
dataset is reused. Everything the benchmark writes is rolled back or deleted again.
"""

import http.client
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module
from pathlib import Path
from unittest import mock
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model, load_backend
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone
from markupsafe import escape

from activities.models import Activity
from business import metrics, periods
from business.services import partners_tag_inactive
from dashboard.views import PAGE_SIZE
from devtools import (
    bench_api,
    bench_crmsync,
    bench_insights,
    bench_library,
    bench_notify,
    bench_onboarding,
    bench_portal,
    bench_pricing,
    bench_service,
    bench_team,
    bench_today,
    bench_webhooks,
    demo,
    demo_portal,
)
from devtools.bench_measure import measure_get as _measure_get
from devtools.bench_measure import ms as _ms
from devtools.bench_measure import p95 as _p95
from leads.models import Lead
from partners.models import Partner, Tier
from partners.roles import MANAGER, SALES_REP
from partners.selectors import COUNT_CAP, count_and_ids, partner_list_filter, user_sees_all_partners

SECTIONS = ("list", "detail", "metrics", "tagging", "import", "load", "notify", "today", "insights", "team", "crm",
            "portal", "library", "onboarding", "api", "pricing", "crmsync", "webhooks")
BASE_DIR = Path(settings.BASE_DIR)
MANAGE = str(BASE_DIR / "manage.py")

# Pages (issue 10): median Python CPU per request, SQL queries per request, and for the search its SQL time.
# 9: a manager's unfiltered list also reads the planner's row estimate; every list reads its rows' detected channels
LIST_CPU_MS, LIST_QUERIES = 12, 9
# 18: issue 12 allows the partner page its budget of 16 + 2 (its top insights, its tier's bands)
DETAIL_CPU_MS, DETAIL_QUERIES = 15, 18
SEARCH_SQL_MS = 40  # a manager's search for a common word, at 1M partners
METRICS_S, TAGGING_S, IMPORT_RATIO = 5.0, 3.0, 2.0  # METRICS_S: the last full month (process and service re-run)
METRICS_1M_S, METRICS_YEAR_S = 2.0, 10.0  # one period holding ~1M leads; first computation of 12 months (service)
LOAD_RATIO = 0.15  # partner list (manager, page 1) throughput ≥ this × /healthz's (wrk -c8, gunicorn -w 2)


class BenchError(Exception):
    """The benchmark cannot run (missing data, a server that does not start); the message says why."""


@dataclass
class Row:
    section: str
    name: str
    median: str = ""
    p95: str = ""
    queries: str = ""
    target: str = ""
    ok: bool | None = None  # None: informational, no target
    note: str = ""
    cpu: str = ""  # CPU per request: pages, this process (Python); load, gunicorn + PostgreSQL backends
    sql_time: str = ""  # summed duration of the request's SQL statements (client side), median

    @property
    def verdict(self):
        return "" if self.ok is None else ("met" if self.ok else "MISSED")


def _noop(message):
    pass


# --- Preconditions and dataset ----------------------------------------------------------------------------------------


def ensure_dataset(*, partners, seed=42, progress=_noop):
    """Reuse the partners already there when there are at least ``partners``; build them when there are none."""
    existing = Partner.objects.exclude(code__startswith="BENCH-").count()
    if existing == 0:
        progress(f"empty database: building {partners:,} partners with seed_demo's functions (set-based)…")
        started = time.monotonic()
        demo.demo_seed(partners=partners, seed=seed, progress=progress)
        demo_portal.portal_seed(seed=seed, progress=progress)  # issue 14: partner users, 5 registrations per partner
        progress(f"dataset built in {time.monotonic() - started:.0f} s")
    elif existing < partners:
        raise BenchError(
            f"the database has {existing:,} partners, fewer than the {partners:,} asked for. Rebuild it with "
            f"`manage.py seed_demo --replace --partners {partners}` (destroys the data), use another database, "
            f"or pass --partners {existing}."
        )
    return {
        "partners": Partner.objects.count(),
        "activities": _estimate(Activity),
        "leads": Lead.objects.count(),
    }


def _estimate(model):
    """Row count from the planner's statistics (an exact count of 2M rows costs a second, for nothing)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [model._meta.db_table])
        row = cursor.fetchone()
    if row and row[0] > 0:
        return row[0]
    return model.objects.count()


# --- Pages (test Client, in-process) ----------------------------------------------------------------------------------


def _page_users():
    """(manager, rep): the demo manager (or any user who sees all partners) and the rep with the most partners."""
    User = get_user_model()
    manager = User.objects.filter(username=demo.MANAGER_USERNAME, is_active=True).first()
    if manager is None or not user_sees_all_partners(manager):
        manager = User.objects.filter(groups__name=MANAGER, is_active=True).order_by("id").first()
    top = (
        Partner.objects.filter(assigned_to__groups__name=SALES_REP, assigned_to__is_active=True)
        .values("assigned_to").annotate(n=Count("id")).order_by("-n", "assigned_to").first()
    )
    rep = User.objects.get(pk=top["assigned_to"]) if top else None
    if manager is None or rep is None:
        raise BenchError("no manager or no sales rep with partners: load the demo data (seed_demo) first")
    return manager, rep


def _detail_partner():
    """The partner with the most leads (ties: the most activities), and its rep: the heaviest partner page."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT l.partner_id FROM leads_lead l JOIN partners_partner p ON p.id = l.partner_id"
            " WHERE p.assigned_to_id IS NOT NULL GROUP BY l.partner_id ORDER BY COUNT(*) DESC, l.partner_id LIMIT 1"
        )
        row = cursor.fetchone()
    if row is None:
        partner = Partner.objects.exclude(assigned_to=None).order_by("id").first()
        if partner is None:
            raise BenchError("no partner with a rep: load the demo data first")
    else:
        partner = Partner.objects.get(pk=row[0])
    counts = (Activity.objects.filter(partner=partner).count(), Lead.objects.filter(partner=partner).count())
    return partner, counts


def _page_row(section, name, client, url, repeat, target_cpu_ms, target_queries, note="", target_sql_ms=None):
    """One page: the verdict is on Python CPU per request (median), the number of queries and, when given, the
    SQL time per request (median)."""
    target = f"CPU ≤ {target_cpu_ms} ms, ≤ {target_queries} q" + (f", SQL ≤ {target_sql_ms} ms" if target_sql_ms else "")
    times, cpu, sql, (queries, framework), status = _measure_get(client, url, repeat)
    if status != 200:
        return Row(section, name, queries=str(queries), target=target, ok=False, note=f"HTTP {status} for {url}")
    median, p95 = statistics.median(times), _p95(times)
    cpu_ms, sql_ms = statistics.median(cpu) * 1000, statistics.median(sql) * 1000
    ok = cpu_ms <= target_cpu_ms and queries <= target_queries and (target_sql_ms is None or sql_ms <= target_sql_ms)
    # CPU/req: Python CPU of this process (median); SQL time: the statements' summed duration (median). The wall time
    # is roughly their sum: the two overlap only by psycopg's work, and a loaded machine adds waiting for a core.
    return Row(section, name, _ms(median), _ms(p95), f"{queries} ({framework} auth)", target, ok, note or url,
               cpu=_ms(cpu_ms / 1000), sql_time=_ms(sql_ms / 1000))


def _client_for(user):
    client = Client()
    client.force_login(user)
    return client


def _bench_settings():
    hosts = list(settings.ALLOWED_HOSTS) + ["testserver"]
    return override_settings(DEBUG=False, ALLOWED_HOSTS=hosts, SECURE_SSL_REDIRECT=False)


def bench_list(*, repeat, progress=_noop):
    manager, rep = _page_users()
    gold = Tier.objects.filter(name="Gold").first() or Tier.objects.order_by("rank").first()
    tier_q = f"tier={gold.pk}&" if gold else ""
    rep_pages = max(1, -(-Partner.objects.filter(assigned_to=rep).count() // PAGE_SIZE))
    total_pages = -(-Partner.objects.count() // PAGE_SIZE)
    rows = []
    with _bench_settings():
        for label, user, last in (("manager", manager, min(500, total_pages)), (f"rep {rep.username}", rep, min(500, rep_pages))):
            client = _client_for(user)
            pages = [
                ("first page", "/partners/"),
                (f"filtered ({gold.name if gold else 'any'} + overdue)", f"/partners/?{tier_q}overdue=on"),
                ("sorted by last engagement (newest first)", "/partners/?sort=-last_engaged"),
                (f"page {last}" + ("" if last == 500 else " (last)"), f"/partners/?page={last}"),
                ("search 'harbor'", "/partners/?q=harbor"),
            ]
            for name, url in pages:
                progress(f"list · {label} · {name}")
                sql_target = SEARCH_SQL_MS if url.endswith("q=harbor") and label == "manager" else None
                rows.append(_page_row("list", f"{label}: {name}", client, url, repeat, LIST_CPU_MS, LIST_QUERIES,
                                      target_sql_ms=sql_target))
            client.logout()  # deletes the session row the benchmark created
    rows += _count_rows(manager, repeat)
    return rows


COUNT_SQL_MS = 5  # the manager's unfiltered count (capped ids + the planner's estimate), at 1M partners


def _count_rows(manager, repeat):
    """The SQL behind the list's count line and page ids (``partners.selectors.count_and_ids``, one statement): for
    the manager's unfiltered list and for a common-word search."""
    rows = []
    for name, data, target in (("unfiltered: count + page ids (capped, estimate)", {}, COUNT_SQL_MS),
                               ("search 'harbor': count + page ids (capped)", {"q": "harbor"}, SEARCH_SQL_MS)):
        times = []
        for _ in range(max(3, repeat)):
            queryset = partner_list_filter(user=manager, data=data).qs
            started = time.perf_counter()
            count, _ids, estimate = count_and_ids(queryset, offset=0, limit=PAGE_SIZE + 1, cap=COUNT_CAP)
            times.append(time.perf_counter() - started)
        label = f"{count:,}" if count <= COUNT_CAP else (f"about {estimate:,}" if not data else f"{COUNT_CAP:,}+")
        median = statistics.median(times)
        rows.append(Row("list", f"manager: {name}", _ms(median), _ms(_p95(times)), "1", f"≤ {target} ms SQL",
                        median * 1000 <= target, f"shows “{label} partners”"))
    return rows


def bench_detail(*, repeat, progress=_noop):
    manager, _rep = _page_users()
    partner, (activities, leads) = _detail_partner()
    note = f"partner {partner.pk}: {activities} activities, {leads} leads"
    rows = []
    with _bench_settings():
        for label, user in (("manager", manager), (f"rep {partner.assigned_to.username}", partner.assigned_to)):
            progress(f"detail · {label}")
            client = _client_for(user)
            url = f"/partners/{partner.pk}/"
            rows.append(_page_row("detail", f"{label}: partner page + trendline", client, url, repeat, DETAIL_CPU_MS,
                                  DETAIL_QUERIES, f"{url} ({note})"))
            client.logout()
    return rows


# --- Subprocesses -----------------------------------------------------------------------------------------------------


def _database_url():
    """This process's database as a URL for the child processes: a TCP host and port, or the embedded server's Unix
    socket folder (percent-encoded, no port)."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="") + (":" + quote(db["PASSWORD"], safe="") if db["PASSWORD"] else "")
    host = quote(db["HOST"] or "127.0.0.1", safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{user}@{host}{port}/{quote(db['NAME'], safe='')}"


def _child_env(**extra):
    return {**os.environ, "DATABASE_URL": _database_url(), "PYTHONUNBUFFERED": "1", **extra}


def run_measured(args, *, timeout=600):
    """Run ``args``; return (wall seconds, peak RSS in MB of that child alone, returncode, stdout+stderr)."""
    started = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=_child_env(),
                               cwd=str(BASE_DIR), text=True)
    killer = threading.Timer(timeout, process.kill)  # bounded: a stuck child is killed
    killer.start()
    try:
        output = process.stdout.read()  # small; then reap with wait4 to get this child's own rusage
    finally:
        killer.cancel()
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    return wall, usage.ru_maxrss / 1024, process.returncode, output


# --- Metrics ----------------------------------------------------------------------------------------------------------


def _last_full_month():
    current = periods.period_start(timezone.localdate(), "monthly")
    return periods.shift(current, "monthly", -1)


def _lead_windows(targets):
    """For each target number of leads, the smallest window of whole months ending with the last full month whose
    leads (created_at in the window) reach it. Returns [(target, first_month, months, leads)]."""
    last = _last_full_month()
    end = periods.shift(last, "monthly", 1)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT date_trunc('month', created_at AT TIME ZONE %s)::date AS m, COUNT(*) FROM leads_lead"
            " WHERE created_at < %s GROUP BY m ORDER BY m DESC",
            [settings.TIME_ZONE, timezone.make_aware(timezone.datetime(end.year, end.month, end.day))],
        )
        months = cursor.fetchall()
    windows = []
    for target in targets:
        total, first, count = 0, last, 0
        for month, n in months:
            total, first, count = total + n, month, count + 1
            if total >= target:
                break
        windows.append((target, first, count, total))
    return windows


def _deferred_checks():
    """Run the deferred constraint checks (the foreign keys of the rows written) that a commit would run, since the
    measurements roll back instead; returns their time in seconds."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return time.perf_counter() - started


_CHILD_FIGURES = re.compile(r"service ([\d.]+) s \(FK checks ([\d.]+) s\), (\d+) rows written")


def metrics_window_child(first, months):
    """Child process of the growth measurement: run the real metrics service for the last full month, with the
    period stretched to ``months`` months starting at ``first`` (so the one period holds that many leads), then the
    foreign-key checks its commit would run, then the service again (a re-run: nothing left to write), inside a
    transaction that is rolled back. Prints the in-process times."""
    begin = metrics._local_midnight(first)
    end = metrics._local_midnight(periods.shift(first, "monthly", months))
    last = _last_full_month()
    with transaction.atomic():
        with mock.patch.object(metrics, "period_bounds", lambda start, frequency: (begin, end)):
            started = time.perf_counter()
            result = metrics.metrics_compute_period(day=last)
            checks = _deferred_checks()
            elapsed = time.perf_counter() - started
            started = time.perf_counter()
            metrics.metrics_compute_period(day=last)
            rerun = time.perf_counter() - started
        transaction.set_rollback(True)
    written = sum(result.written.values())
    print(f"service {elapsed:.3f} s (FK checks {checks:.3f} s), {written} rows written; re-run {rerun:.3f} s"
          " (rolled back)")


def metrics_year_child():
    """Child process of the first computation of 12 months: inside a transaction that is rolled back, empty the
    achievements table (TRUNCATE: the dead rows a DELETE leaves would slow the inserts down, which a real first
    computation does not meet), run ``metrics_compute_range`` from the month 11 months before the current one, then
    the foreign-key checks its commits would run. Prints the in-process time."""
    since = periods.shift(periods.period_start(timezone.localdate(), "monthly"), "monthly", -11)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {metrics._TABLE}")  # noqa: S608 (a constant)
        started = time.perf_counter()
        result = metrics.metrics_compute_range(since=since)
        checks = _deferred_checks()
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    written = sum(result.written.values())
    print(f"service {elapsed:.3f} s (FK checks {checks:.3f} s), {written} rows written since {since:%Y-%m}"
          " (rolled back)")


def bench_metrics(*, repeat, progress=_noop):
    rows = []
    month = _last_full_month()
    label = periods.label(month, "monthly")
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM leads_lead WHERE created_at >= %s AND created_at < %s",
                       [_aware(month), _aware(periods.shift(month, "monthly", 1))])
        month_leads = cursor.fetchone()[0]

    progress(f"metrics · compute_business_metrics --period {label} (subprocess)")
    results = [run_measured([sys.executable, MANAGE, "compute_business_metrics", "--period", label])
               for _ in range(max(1, min(repeat, 3)))]
    walls = [r[0] for r in results]
    rss = max(r[1] for r in results)
    failed = [r for r in results if r[2] != 0]
    rows.append(Row("metrics", f"compute_business_metrics --period {label} (process)", f"{statistics.median(walls):.2f} s",
                    f"{max(walls):.2f} s (max)", "", f"≤ {METRICS_S:.0f} s", not failed and statistics.median(walls) <= METRICS_S,
                    f"wall incl. Django start-up; peak RSS {rss:.0f} MB; {month_leads:,} leads created in {label}"
                    + (f"; FAILED: {failed[0][3][-300:]}" if failed else "")))

    progress("metrics · service in-process")
    times = []
    for _ in range(max(1, min(repeat, 5))):
        started = time.perf_counter()
        metrics.metrics_compute_period(day=month)
        times.append(time.perf_counter() - started)
    rows.append(Row("metrics", f"metrics_compute_period({label}) (service)", f"{statistics.median(times):.2f} s",
                    f"{max(times):.2f} s (max)", "", f"≤ {METRICS_S:.0f} s", statistics.median(times) <= METRICS_S,
                    "3 parameters, set-based upsert + zeroing; a re-run (values unchanged)"))

    seen = set()
    for target, first, months, leads in _lead_windows([250_000, 500_000, 1_000_000]):
        if months in seen:  # a small dataset: fewer leads than the target in all of its history
            continue
        seen.add(months)
        progress(f"metrics · growth · {leads:,} leads")
        wall, rss, code, output = run_measured([sys.executable, MANAGE, "bench", "--metrics-window",
                                                f"{first.isoformat()}:{months}"])
        match = _CHILD_FIGURES.search(output)
        rerun = re.search(r"re-run ([\d.]+) s", output)
        service = float(match.group(1)) if match else None
        note = (f"period stretched to {months} months from {first:%Y-%m}: {leads:,} leads; "
                f"{match.group(3) if match else '?'} rows upserted, incl. the FK checks of the commit "
                f"({match.group(2) if match else '?'} s); a re-run {rerun.group(1) if rerun else '?'} s; rolled back; "
                f"process wall {wall:.2f} s, peak RSS {rss:.0f} MB")
        if code != 0 or service is None:
            note += f"; FAILED: {output[-300:]}"
        rows.append(Row("metrics", f"one period holding {leads:,} leads (≈{target // 1000}k) (service)",
                        f"{service:.2f} s" if service is not None else "n/a", "", "", f"≤ {METRICS_1M_S:.0f} s",
                        code == 0 and service is not None and service <= METRICS_1M_S, note))

    progress("metrics · first computation of 12 months (subprocess)")
    wall, rss, code, output = run_measured(
        [sys.executable, MANAGE, "shell", "--no-imports", "-c", "from devtools import bench; bench.metrics_year_child()"],
        timeout=3600)
    match = _CHILD_FIGURES.search(output)
    service = float(match.group(1)) if match else None
    note = (f"metrics_compute_range on an empty achievements table (TRUNCATE, rolled back): "
            f"{match.group(3) if match else '?'} rows written, incl. the FK checks of the commits "
            f"({match.group(2) if match else '?'} s); process wall {wall:.2f} s, peak RSS {rss:.0f} MB")
    if code != 0 or service is None:
        note += f"; FAILED: {output[-300:]}"
    rows.append(Row("metrics", "first computation of 12 months (service)",
                    f"{service:.2f} s" if service is not None else "n/a", "", "", f"≤ {METRICS_YEAR_S:.0f} s",
                    code == 0 and service is not None and service <= METRICS_YEAR_S, note))
    return rows


def _aware(day):
    return timezone.make_aware(timezone.datetime(day.year, day.month, day.day))


# --- Inactivity tagging -----------------------------------------------------------------------------------------------


def bench_tagging(*, repeat, progress=_noop):
    """The real service, on the real data, in a transaction rolled back at the end (the data stays as it was).

    "first run" is a nightly run on data never tagged (the demo data: many partners change), "steady state" the
    next run (few or none change), "dry run" the ``--dry-run`` path.
    """
    first, steady, dry, changed = [], [], [], []
    for _ in range(max(1, min(repeat, 3))):
        progress("tagging · first run + steady-state run (rolled back)")
        with transaction.atomic():
            started = time.perf_counter()
            result = partners_tag_inactive(sample=0)
            first.append(time.perf_counter() - started)
            changed.append(result.deactivated + result.reactivated)
            started = time.perf_counter()
            partners_tag_inactive(now=timezone.now() + timedelta(seconds=1), sample=0)
            steady.append(time.perf_counter() - started)
            transaction.set_rollback(True)
        progress("tagging · dry run")
        started = time.perf_counter()
        partners_tag_inactive(dry_run=True, sample=20)
        dry.append(time.perf_counter() - started)
    rows = []
    for name, times, note in (
        ("tag_inactive_partners: first run", first, f"{changed[0]:,} partners changed (rolled back afterwards)"),
        ("tag_inactive_partners: steady state", steady, "the next run: nothing or little to change"),
        ("tag_inactive_partners --dry-run", dry, "same statements, rolled back"),
    ):
        median = statistics.median(times)
        rows.append(Row("tagging", name, f"{median:.2f} s", f"{max(times):.2f} s (max)", "", f"≤ {TAGGING_S:.0f} s",
                        median <= TAGGING_S, note))
    return rows


# --- Import (manage.py bench_import) ----------------------------------------------------------------------------------


def bench_import(*, repeat, progress=_noop):
    progress("import · manage.py bench_import --drop (subprocess)")
    wall, rss, code, output = run_measured([sys.executable, MANAGE, "bench_import", "--rows", "100000", "--drop"],
                                           timeout=900)
    if code != 0:
        return [Row("import", "achievement import 100,000 rows", ok=False,
                    note=f"bench_import failed: {output.strip()[-400:]}")]

    def figure(pattern):
        match = re.search(pattern + r"\s+([\d.]+) s", output)
        return float(match.group(1)) if match else None

    fresh, again = figure(r"\(a\) fresh import \(service\)"), figure(r"\(b\) re-upload \(service\)")
    raw_fresh, raw_again = figure(r"raw COPY \+ upsert, fresh"), figure(r"raw COPY \+ upsert, re-run")
    preview = figure(r"preview \(dry run, service\)")
    memory = re.search(r"peak memory: (.*)", output)
    rows = []
    for name, service, raw in (("fresh", fresh, raw_fresh), ("re-upload", again, raw_again)):
        if service is None or raw is None:
            rows.append(Row("import", f"import 100,000 rows, {name}", note="could not read bench_import's output"))
            continue
        ratio = service / raw
        rows.append(Row("import", f"import 100,000 rows, {name} (service vs COPY+upsert)", f"{service:.2f} s",
                        "", "", f"≤ {IMPORT_RATIO:.0f}× COPY", ratio <= IMPORT_RATIO,
                        f"raw COPY+upsert {raw:.2f} s → ratio {ratio:.2f}×"))
    if preview is not None:
        rows.append(Row("import", "import 100,000 rows, preview (dry run)", f"{preview:.2f} s",
                        note="validation only, nothing written"))
    rows.append(Row("import", "bench_import process", f"{wall:.1f} s", "", "", "", None,
                    f"peak RSS {rss:.0f} MB (whole process incl. CSV generation); "
                    + (memory.group(1) if memory else "")))
    return rows


# --- Throughput under load (real gunicorn, wrk) -----------------------------------------------------------------------


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


WRK_SCRIPT = Path(__file__).with_name("wrk_check.lua")
HEALTHZ = "/healthz (SELECT 1)"


@dataclass
class _LoadTarget:
    name: str
    path: str
    user: object  # None: no session (/healthz)
    markers: list  # all must be in the body; "=text": the body is exactly text (see wrk_check.lua)


@dataclass
class _WrkResult:
    requests: int
    seconds: float
    p50: float
    p95: float
    p99: float
    checked: int
    passed: int
    bad_status: int
    missing_marker: int
    socket_errors: int
    first_failure: str
    client_cpu: float  # wrk's own user+sys CPU seconds

    @property
    def rate(self):
        return self.requests / self.seconds

    @property
    def failures(self):
        return self.checked - self.passed + self.socket_errors


def _wrk_binary():
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError("the load section needs wrk (Debian's package): run `make wrk` (or apt-get install wrk)")
    return wrk


def _session_backend():
    """The backend ``login()`` would record: the first that can load a user (as Django's test Client picks it).
    Not ``AUTHENTICATION_BACKENDS[0]``: django-axes' backend there only refuses logins, it has no ``get_user``."""
    for path in settings.AUTHENTICATION_BACKENDS:
        if hasattr(load_backend(path), "get_user"):
            return path
    raise BenchError("no authentication backend with get_user in AUTHENTICATION_BACKENDS")


def _sessions(users):
    """A logged-in session per user, stored as ``login()`` stores it (without its signals: no last_login or
    django-axes writes) in ``SESSION_ENGINE``. The server reads it only with this process's SECRET_KEY (the session
    data is signed with it and the auth hash is an HMAC of it): ``bench_load`` hands that key to gunicorn.
    Returns {user pk: session}."""
    engine = import_module(settings.SESSION_ENGINE)
    backend = _session_backend()
    sessions = {}
    for user in users:
        if user.pk in sessions:
            continue
        store = engine.SessionStore()
        store[SESSION_KEY] = user._meta.pk.value_to_string(user)
        store[BACKEND_SESSION_KEY] = backend
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        sessions[user.pk] = store
    return sessions


def _ensure_manifest(env):
    """With DEBUG off the app uses WhiteNoise's manifest storage: collect static files (staticfiles/ is a git-ignored
    build artefact, as in production). Every run, as a deploy does: a manifest left by an older checkout lacks the
    newer files, and the page would answer 500. Unchanged files are skipped (~1 s)."""
    subprocess.run([sys.executable, MANAGE, "collectstatic", "--noinput", "-v", "0"], env=env, cwd=str(BASE_DIR),
                   check=True, timeout=300)


def _has_marker(body, marker):
    return body == marker[1:] if marker.startswith("=") else marker in body


def _get_once(port, path, cookie, *, timeout=30):
    """One GET that follows no redirect: (status, Location header, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        return response.status, response.getheader("Location"), response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def _check_target(port, target, cookie):
    """Before measuring: the page answers 200 with its markers, or the benchmark stops (it would measure another page,
    e.g. the login redirect, as the first version of this section did)."""
    status, location, body = _get_once(port, target.path, cookie)
    missing = [marker for marker in target.markers if not _has_marker(body, marker)]
    if status != 200 or missing:
        raise BenchError(
            f"load · {target.name}: GET {target.path} answered HTTP {status}"
            + (f" (redirect to {location})" if location else "")
            + (f" without {', '.join(repr(m) for m in missing)}" if status == 200 else "")
            + ". Not measured: the server does not see the benchmark's session (SECRET_KEY, SESSION_ENGINE, database)"
            " or the page changed (update the markers in bench_load)."
        )


_WRK_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def _wrk_seconds(number, unit):
    return float(number) * _WRK_UNITS[unit]


def _run_wrk(wrk, url, *, cookie, markers, duration, concurrency, threads=2):
    """wrk with ``wrk_check.lua`` (status 200 + markers on every response); its text output and the script's
    counters parsed."""
    args = [wrk, f"-t{min(threads, concurrency)}", f"-c{concurrency}", f"-d{duration}s", "--latency",
            "--timeout", "30s", "-s", str(WRK_SCRIPT)]
    if cookie:
        args += ["-H", f"Cookie: {cookie}"]
    args += [url, "--", "200", *markers]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    completed = subprocess.run(args, capture_output=True, text=True, timeout=duration + 120, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = completed.stdout + completed.stderr
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h)", output)
    check = re.search(r"^wrk-check (.*?) first_failure=(.*)$", output, re.MULTILINE)
    if completed.returncode != 0 or total is None or check is None:
        raise BenchError(f"wrk failed (exit {completed.returncode}) on {url}: {output.strip()[-500:]}")
    counters = dict(pair.split("=", 1) for pair in check.group(1).split())
    percentiles = {p: _wrk_seconds(n, u) for p, n, u in
                   re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE)}
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return _WrkResult(
        requests=int(total.group(1)), seconds=_wrk_seconds(total.group(2), total.group(3)),
        p50=percentiles.get("50", int(counters["p50_us"]) / 1e6), p95=int(counters["p95_us"]) / 1e6,
        p99=percentiles.get("99", int(counters["p99_us"]) / 1e6),
        checked=int(counters["checked"]), passed=int(counters["passed"]), bad_status=int(counters["bad_status"]),
        missing_marker=int(counters["missing_marker"]),
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
        first_failure=check.group(2).strip(),
        client_cpu=(after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
    )


def _proc_stat(pid):
    """(comm, ppid, CPU ticks: utime+stime+cutime+cstime) of a process from /proc, or None when it is gone.
    cutime/cstime hold the CPU of its children that exited and were reaped (a restarted gunicorn worker)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm, rest = text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 2:].split()
    return comm, int(rest[1]), sum(int(ticks) for ticks in rest[11:15])


def _process_tree(root):
    """``root`` and all its descendants (one pass over /proc)."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _proc_stat(entry.name)) is not None:
            children.setdefault(stat[1], []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


def _pg_backends():
    """pids of the PostgreSQL backends connected to our database (but this one), when the server runs on this machine
    and its processes are visible here; None otherwise (PostgreSQL CPU is then reported as n/a)."""
    host = connection.settings_dict.get("HOST") or ""
    if host not in ("", "localhost", "127.0.0.1", "::1") and not host.startswith("/"):
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        pids = [row[0] for row in cursor.fetchall()]
    visible = [pid for pid in pids if (stat := _proc_stat(pid)) is not None and stat[0].startswith("postgres")]
    return visible or None


def _ticks(pids):
    return {pid: stat[2] for pid in pids if (stat := _proc_stat(pid)) is not None}


class _CpuMeter:
    """user+sys CPU of gunicorn (master + workers) and of our database's PostgreSQL backends between ``start`` and
    ``stop``, from /proc/<pid>/stat. A process that exits in between loses its CPU since ``start`` (counted in
    ``lost``); the benchmark keeps its connections open (DB_CONN_MAX_AGE) so that backends do not come and go."""

    tick = 1 / os.sysconf("SC_CLK_TCK")

    def __init__(self, gunicorn_pid):
        self.gunicorn_pid = gunicorn_pid

    def start(self):
        self.app = _ticks(_process_tree(self.gunicorn_pid))
        backends = _pg_backends()
        self.pg = None if backends is None else _ticks(backends)

    def stop(self):
        """(gunicorn seconds, PostgreSQL seconds or None, processes lost)."""
        app_after = _ticks(set(self.app) | set(_process_tree(self.gunicorn_pid)))
        app = sum(ticks - self.app.get(pid, 0) for pid, ticks in app_after.items())
        lost = len(set(self.app) - set(app_after))
        pg = None
        if self.pg is not None:
            pg_after = _ticks(set(self.pg) | set(_pg_backends() or []))
            pg = sum(ticks - self.pg.get(pid, 0) for pid, ticks in pg_after.items()) * self.tick
            lost += len(set(self.pg) - set(pg_after))
        return app * self.tick, pg, lost


def _start_gunicorn(env, port, workers, log):
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    # No --access-logfile: gunicorn writes no access log without it (as for a production server behind a proxy that
    # logs). Its error log goes to ``log``, a file: a pipe nobody reads could fill and block the workers.
    return subprocess.Popen([gunicorn, "prm.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level",
                             "warning", "--timeout", "60"], env=env, cwd=str(BASE_DIR),
                            stdout=subprocess.DEVNULL, stderr=log)


def _log_tail(log):
    log.seek(0)
    return log.read()[-500:]


def _wait_until_up(server, port, log, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        if server.poll() is not None:
            raise BenchError(f"gunicorn exited: {_log_tail(log)}")
        try:
            if _get_once(port, "/healthz", None, timeout=5)[0] == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise BenchError(f"gunicorn did not answer /healthz within {timeout} s: {_log_tail(log)}")
        time.sleep(0.3)


def _load_targets():
    manager, rep = _page_users()
    partner, _counts = _detail_partner()

    def list_markers(user):
        return [f"<h1>{'All partners' if user_sees_all_partners(user) else 'My partners'}</h1>", 'class="cell-name"']

    return [
        _LoadTarget(HEALTHZ, "/healthz", None, ["=ok"]),
        _LoadTarget("partner list (manager, page 1)", "/partners/", manager, list_markers(manager)),
        _LoadTarget(f"partner list (rep {rep.username}, page 1)", "/partners/", rep, list_markers(rep)),
        _LoadTarget(f"partner page (partner {partner.pk}, as rep {partner.assigned_to.username})",
                    f"/partners/{partner.pk}/", partner.assigned_to, [f"<h1>{escape(partner.name)}</h1>"]),
    ]


def bench_load(*, duration=15, concurrency=8, workers=2, progress=_noop):
    """Throughput of a real gunicorn (``-w workers``, DEBUG off, production settings but HTTPS) under wrk at
    ``concurrency`` connections for ``duration`` seconds per page, after a warm-up run; every response is checked
    (status 200 and the page's markers, no redirect followed), a run with any failure is failed. Also CPU per request
    of gunicorn and of PostgreSQL's backends (/proc), and each page's throughput relative to ``/healthz``."""
    wrk = _wrk_binary()
    targets = _load_targets()
    port = _free_port()
    # The session below is signed with this process's SECRET_KEY, and the auth hash in it is an HMAC of it: the server
    # must use the same key. Connections are kept for the whole run (DB_CONN_MAX_AGE) so that the backends whose CPU
    # is read do not come and go (production's 60 s costs one reconnect per worker-minute, noise here).
    env = _child_env(DEBUG="False", SECRET_KEY=settings.SECRET_KEY, ALLOWED_HOSTS="127.0.0.1",
                     SECURE_SSL_REDIRECT="False", SESSION_COOKIE_SECURE="False", CSRF_COOKIE_SECURE="False",
                     LOG_LEVEL="WARNING", DB_CONN_MAX_AGE="3600")
    progress("load · collectstatic (if needed) and gunicorn start")
    _ensure_manifest(env)
    warmup = max(1, min(5, round(duration / 3)))
    load_before = os.getloadavg()
    sessions = _sessions([target.user for target in targets if target.user is not None])
    results = {}
    with tempfile.TemporaryFile(mode="w+", prefix="bench-gunicorn-") as log:
        server = _start_gunicorn(env, port, workers, log)
        try:
            _wait_until_up(server, port, log)
            meter = _CpuMeter(server.pid)
            for target in targets:
                cookie = (f"{settings.SESSION_COOKIE_NAME}={sessions[target.user.pk].session_key}"
                          if target.user is not None else None)
                _check_target(port, target, cookie)
                run = {"cookie": cookie, "markers": target.markers, "concurrency": concurrency}
                url = f"http://127.0.0.1:{port}{target.path}"
                progress(f"load · {target.name}: warm-up {warmup} s, then {duration} s at concurrency {concurrency}")
                warm = _run_wrk(wrk, url, duration=warmup, **run)
                meter.start()
                result = _run_wrk(wrk, url, duration=duration, **run)
                results[target.name] = (target, warm, result, *meter.stop())
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            for session in sessions.values():
                session.delete()
    return _load_rows(results, duration=duration, concurrency=concurrency, workers=workers,
                      load=(load_before, os.getloadavg()))


def _load_rows(results, *, duration, concurrency, workers, load):
    health = results[HEALTHZ]
    health_rate = health[2].rate
    health_cpu = health[3] / max(1, health[2].requests)
    rows = []
    for name in [*(name for name in results if name != HEALTHZ), HEALTHZ]:  # the pages, then /healthz
        target, warm, result, app_cpu, pg_cpu, lost = results[name]
        n = max(1, result.requests)
        checks = " + ".join(repr(m[1:]) + " (whole body)" if m.startswith("=") else repr(m) for m in target.markers)
        note = (f"{result.rate / health_rate:.2f}× /healthz's req/s, CPU (gunicorn) {app_cpu / n / health_cpu:.1f}× "
                f"/healthz's; {result.requests:,} requests in {result.seconds:.1f} s, every response checked "
                f"(HTTP 200 + {checks}): {result.passed:,} passed, {result.failures:,} failed"
                + (f" ({result.bad_status} bad status, {result.missing_marker} without marker, "
                   f"{result.socket_errors} socket errors; first: {result.first_failure})" if result.failures else "")
                + (f"; warm-up {warm.failures} failed" if warm.failures else "")
                + f"; p99 {_ms(result.p99)}; wrk itself {_ms(result.client_cpu / n)} CPU/req"
                + (f"; {lost} process(es) exited during the run, their CPU is missing" if lost else ""))
        rows.append(Row("load", f"{name}: {result.rate:,.0f} req/s", _ms(result.p50), _ms(result.p95), "", "",
                        False if result.failures or warm.failures else None, note,
                        cpu=f"{_ms(app_cpu / n)} + PG {'n/a' if pg_cpu is None else _ms(pg_cpu / n)}"))
    manager = results["partner list (manager, page 1)"]
    ratio = manager[2].rate / health_rate
    clean = not (manager[2].failures or health[2].failures)
    rows.append(Row("load", f"ratio list (manager, page 1) / /healthz: {ratio:.2f}", target=f"≥ {LOAD_RATIO}",
                    ok=clean and ratio >= LOAD_RATIO, note=(
                        f"wrk -t2 -c{concurrency} -d{duration}s per URL after a warm-up, gunicorn -w {workers}, DEBUG "
                        f"off; median/p95 are wrk's latencies (client side); CPU/req: gunicorn master+workers + our "
                        f"database's PostgreSQL backends (/proc); wrk, gunicorn and PostgreSQL share {os.cpu_count()} "
                        "cores; load average before " + " ".join(f"{x:.2f}" for x in load[0]) + ", after "
                        + " ".join(f"{x:.2f}" for x in load[1])
                        + ("" if clean else "; FAILED: responses that were not the expected page"))))
    return rows


# --- Orchestration and output -----------------------------------------------------------------------------------------


def run_benchmarks(*, only, repeat, duration=15, concurrency=8, progress=_noop):
    rows = []
    if "list" in only:
        rows += bench_list(repeat=repeat, progress=progress)
    if "detail" in only:
        rows += bench_detail(repeat=repeat, progress=progress)
    if "metrics" in only:
        rows += bench_metrics(repeat=repeat, progress=progress)
    if "tagging" in only:
        rows += bench_tagging(repeat=repeat, progress=progress)
    if "import" in only:
        rows += bench_import(repeat=repeat, progress=progress)
    if "load" in only:
        rows += bench_load(duration=duration, concurrency=concurrency, progress=progress)
    if "notify" in only:  # devtools/bench_notify.py: the beat's tick, nothing due and 100,000 due
        rows += [Row(**fields) for fields in bench_notify.bench_notify(repeat=repeat, progress=progress)]
    if "today" in only:  # devtools/bench_today.py: the Today page, a rep with 500 partners and a manager
        rows += [Row(**fields) for fields in bench_today.bench_today(repeat=repeat, progress=progress)]
    if "insights" in only:  # devtools/bench_insights.py: nightly evaluation of the rules, one partner's re-evaluation
        rows += [Row(**fields) for fields in bench_insights.bench_insights(repeat=repeat, progress=progress)]
    if "team" in only:  # devtools/bench_team.py: /team/ for a manager over every partner, its nightly refresh
        rows += [Row(**fields) for fields in bench_team.bench_team(repeat=repeat, progress=progress)]
    if "crm" in only:  # devtools/bench_service.py: leads, customers, tickets lists and pages (issue 13)
        rows += [Row(**fields) for fields in bench_service.bench_crm(repeat=repeat, progress=progress)]
    if "portal" in only:  # devtools/bench_portal.py: portal home, registration lists, conflict check (issue 14)
        rows += [Row(**fields) for fields in bench_portal.bench_portal(repeat=repeat, progress=progress)]
    if "library" in only:  # devtools/bench_library.py: library page and searches, 5,000 resources (issue 15)
        rows += [Row(**fields) for fields in bench_library.bench_library(repeat=repeat, progress=progress)]
    if "api" in only:  # devtools/bench_api.py: /api/v1/ list pages and the 100k-row bulk upsert (issue 16)
        rows += [Row(**fields) for fields in bench_api.bench_api(repeat=repeat, progress=progress)]
    if "pricing" in only:  # devtools/bench_pricing.py: price resolution, 5,000 products, ~30 books (issue 17)
        rows += [Row(**fields) for fields in bench_pricing.bench_pricing(repeat=repeat, progress=progress)]
    if "crmsync" in only:  # devtools/bench_crmsync.py: CRM sync initial + incremental pull, local Salesforce (issue 17)
        rows += [Row(**fields) for fields in bench_crmsync.bench_crmsync(repeat=repeat, progress=progress)]
    if "webhooks" in only:  # devtools/bench_webhooks.py: 10,000 events fanned out and drained into a local receiver
        rows += [Row(**fields) for fields in bench_webhooks.bench_webhooks(repeat=repeat, progress=progress)]
    if "onboarding" in only:  # devtools/bench_onboarding.py: the progress report over ~2M walks (issue 15)
        bench_onboarding.onboarding_bench_seed(progress=progress)  # once: it keeps what it seeded
        rows += [Row(**fields) for fields in bench_onboarding.bench_onboarding(repeat=repeat, progress=progress)]
    return rows


def render_table(rows):
    """A Markdown pipe table (readable in a terminal, pastes into docs/benchmarks.md)."""
    header = ["Benchmark", "median", "p95", "SQL", "CPU/req", "SQL time", "target", "result", "notes"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        cells = [f"{row.section}: {row.name}", row.median, row.p95, row.queries, row.cpu, row.sql_time, row.target,
                 row.verdict, row.note]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)


def machine_description():
    def sh(args):
        try:
            return subprocess.run(args, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "?"

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "?") if Path("/proc/cpuinfo").exists() else "?"
    memory = sh(["free", "-h"]).splitlines()
    return [f"nproc: {sh(['nproc'])} ({cpu})", f"memory: {memory[1] if len(memory) > 1 else '?'}",
            f"PostgreSQL {pg}", f"Python {sys.version.split()[0]}",
            "load average at the end (1/5/15 min): " + " ".join(f"{x:.2f}" for x in os.getloadavg())]
