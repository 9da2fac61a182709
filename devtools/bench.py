"""Benchmarks at scale (issue 6), behind ``manage.py bench`` / ``make bench``. PostgreSQL only; not part of the tests.

Each ``bench_*`` function measures one area and returns ``Row``s; ``render_table`` prints them. Sections:

- ``list`` / ``detail``: pages through Django's test Client (force_login, DEBUG off, in-process), one request with
  ``CaptureQueriesContext`` to count SQL queries, then ``repeat`` timed requests (median, p95 of server time).
- ``metrics``: ``compute_business_metrics --period`` as a subprocess (wall time, peak RSS via ``os.wait4``), the
  service in-process, and its growth with the number of leads in the period (see ``bench_metrics``).
- ``tagging``: ``partners_tag_inactive`` first run / steady-state run / dry run, inside a transaction rolled back.
- ``import``: ``manage.py bench_import --drop`` (this app's command) in a subprocess, its figures parsed.
- ``load``: a real gunicorn on 127.0.0.1, a bounded thread-pool urllib client, partner list vs ``/healthz``.

The large dataset is built with ``devtools.demo`` (seed_demo's functions) when the database has no partners; an existing
dataset is reused. Everything the benchmark writes is rolled back or deleted again.
"""

import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from unittest import mock

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from activities.models import Activity
from business import metrics, periods
from business.services import partners_tag_inactive
from dashboard.views import PAGE_SIZE
from devtools import demo
from leads.models import Lead
from partners.models import Partner, Tier
from partners.roles import MANAGER, SALES_REP
from partners.selectors import user_sees_all_partners

SECTIONS = ("list", "detail", "metrics", "tagging", "import", "load")
BASE_DIR = Path(settings.BASE_DIR)
MANAGE = str(BASE_DIR / "manage.py")

LIST_MS, LIST_QUERIES = 60, 8
DETAIL_MS, DETAIL_QUERIES = 100, 20
METRICS_S, TAGGING_S, IMPORT_RATIO = 5.0, 3.0, 2.0


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


def _ms(seconds):
    return f"{seconds * 1000:.1f} ms"


def _p95(values):
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]  # nearest rank


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


def _measure_get(client, url, repeat):
    """One request counting queries, then ``repeat`` timed ones. Returns (times, queries, status)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    # Count now: the next request's request_started signal clears the connection's query log.
    queries = len(captured)
    framework = sum(1 for q in captured.captured_queries if _FRAMEWORK_SQL.search(q["sql"]))
    if response.status_code != 200:
        return [], [], (queries, framework), response.status_code
    times, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return times, cpu, (queries, framework), response.status_code


# Session and authentication lookups every logged-in request makes (middleware, has_perm): counted separately.
_FRAMEWORK_SQL = re.compile(
    r'FROM "django_session"|FROM "auth_user" WHERE "auth_user"\."id" = |"auth_permission"\."codename"'
)


def _page_row(section, name, client, url, repeat, target_ms, target_queries, note=""):
    times, cpu, (queries, framework), status = _measure_get(client, url, repeat)
    if status != 200:
        return Row(section, name, queries=str(queries), target=f"≤ {target_ms} ms, ≤ {target_queries} q", ok=False,
                   note=f"HTTP {status} for {url}")
    median, p95 = statistics.median(times), _p95(times)
    ok = median * 1000 <= target_ms and queries <= target_queries
    return Row(section, name, _ms(median), _ms(p95), f"{queries} ({framework} auth)",
               f"≤ {target_ms} ms, ≤ {target_queries} q", ok,
               f"{note or url}; Python CPU {_ms(statistics.median(cpu))}")


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
                rows.append(_page_row("list", f"{label}: {name}", client, url, repeat, LIST_MS, LIST_QUERIES))
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
            rows.append(_page_row("detail", f"{label}: partner page + trendline", client, url, repeat, DETAIL_MS,
                                  DETAIL_QUERIES, f"{url} ({note})"))
    return rows


# --- Subprocesses -----------------------------------------------------------------------------------------------------


def _database_url():
    db = connection.settings_dict
    return (f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
            f"{db['NAME']}")


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


def metrics_window_child(first, months):
    """Child process of the growth measurement: run the real metrics service for the last full month, with the
    period stretched to ``months`` months starting at ``first`` (so the one period holds that many leads), inside a
    transaction that is rolled back. Prints the in-process time."""
    begin = metrics._local_midnight(first)
    end = metrics._local_midnight(periods.shift(first, "monthly", months))
    last = _last_full_month()
    started = time.perf_counter()
    with transaction.atomic():
        with mock.patch.object(metrics, "period_bounds", lambda start, frequency: (begin, end)):
            result = metrics.metrics_compute_period(day=last)
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    written = sum(result.written.values())
    print(f"service {elapsed:.3f} s, {written} rows written (rolled back)")


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
        match = re.search(r"service ([\d.]+) s, (\d+) rows", output)
        service = float(match.group(1)) if match else None
        note = (f"period stretched to {months} months from {first:%Y-%m}: {leads:,} leads; "
                f"{match.group(2) if match else '?'} rows upserted (rolled back); process wall {wall:.2f} s, "
                f"peak RSS {rss:.0f} MB")
        if code != 0 or service is None:
            note += f"; FAILED: {output[-300:]}"
        rows.append(Row("metrics", f"one period holding {leads:,} leads (≈{target // 1000}k) (service)",
                        f"{service:.2f} s" if service is not None else "n/a", "", "", f"≤ {METRICS_S:.0f} s",
                        code == 0 and service is not None and service <= METRICS_S, note))
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


# --- Throughput under load (real gunicorn) ----------------------------------------------------------------------------


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _session_cookie(user):
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store


def _ensure_manifest(env):
    """With DEBUG off the app uses WhiteNoise's manifest storage: collect static files once (staticfiles/ is a
    git-ignored build artefact, as in production)."""
    if (BASE_DIR / "staticfiles" / "staticfiles.json").exists():
        return
    subprocess.run([sys.executable, MANAGE, "collectstatic", "--noinput", "-v", "0"], env=env, cwd=str(BASE_DIR),
                   check=True, timeout=300)


def _fire(url, cookie, *, requests, concurrency, time_limit):
    """``requests`` GETs at ``concurrency`` threads; returns (elapsed, latencies, errors)."""
    headers = {"Cookie": cookie} if cookie else {}

    def one(_):
        started = time.perf_counter()
        try:
            request = urllib.request.Request(url, headers=headers)  # noqa: S310 (http://127.0.0.1 only)
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                response.read()
                ok = response.status == 200
        except (urllib.error.URLError, OSError):
            ok = False
        return time.perf_counter() - started, ok

    started = time.perf_counter()
    latencies, errors = [], 0
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for latency, ok in pool.map(one, range(requests)):
            latencies.append(latency)
            errors += not ok
            if time.perf_counter() - started > time_limit:
                break
    return time.perf_counter() - started, latencies, errors


def bench_load(*, requests=400, concurrency=8, workers=2, progress=_noop):
    manager, _rep = _page_users()
    port = _free_port()
    env = _child_env(DEBUG="False", SECRET_KEY="bench-" + os.urandom(16).hex(), ALLOWED_HOSTS="127.0.0.1",
                     SECURE_SSL_REDIRECT="False", SESSION_COOKIE_SECURE="False", CSRF_COOKIE_SECURE="False",
                     LOG_LEVEL="WARNING")
    progress("load · collectstatic (if needed) and gunicorn start")
    _ensure_manifest(env)
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    server = subprocess.Popen([gunicorn, "prm.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level",
                               "warning", "--timeout", "60"], env=env, cwd=str(BASE_DIR),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    session = _session_cookie(manager)
    base = f"http://127.0.0.1:{port}"
    cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
    rows = []
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise BenchError(f"gunicorn exited: {server.stderr.read()[-500:]}")
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=5) as response:  # noqa: S310 (loopback)
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise BenchError("gunicorn did not answer /healthz within 60 s") from None
                time.sleep(0.3)
        results = {}
        for name, path, with_cookie in (("partner list (manager, page 1)", "/partners/", True),
                                        ("/healthz (SELECT 1)", "/healthz", False)):
            progress(f"load · {name}: {requests} requests at concurrency {concurrency}")
            _fire(base + path, cookie if with_cookie else None, requests=4 * concurrency, concurrency=concurrency,
                  time_limit=60)  # warm-up: connections, template caches
            elapsed, latencies, errors = _fire(base + path, cookie if with_cookie else None, requests=requests,
                                               concurrency=concurrency, time_limit=300)
            rate = len(latencies) / elapsed
            results[name] = rate
            rows.append(Row("load", f"{name}: {rate:.0f} req/s", _ms(statistics.median(latencies)),
                            _ms(_p95(latencies)), "", "", None if not errors else False,
                            f"{len(latencies)} requests, concurrency {concurrency}, gunicorn -w {workers}, "
                            f"{errors} errors, {elapsed:.1f} s"))
        list_rate, trivial_rate = results.values()
        rows.append(Row("load", f"ratio list / trivial view: {list_rate / trivial_rate:.2f}", note=(
            "latency columns are client-side under load; client, gunicorn and PostgreSQL share the same cores")))
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        session.delete()
    return rows


# --- Orchestration and output -----------------------------------------------------------------------------------------


def run_benchmarks(*, only, repeat, requests=400, concurrency=8, progress=_noop):
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
        rows += bench_load(requests=requests, concurrency=concurrency, progress=progress)
    return rows


def render_table(rows):
    """A Markdown pipe table (readable in a terminal, pastes into docs/benchmarks.md)."""
    header = ["Benchmark", "median", "p95", "SQL", "target", "result", "notes"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        cells = [f"{row.section}: {row.name}", row.median, row.p95, row.queries, row.target, row.verdict, row.note]
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
