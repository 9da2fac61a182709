"""Benchmark section ``today`` (``manage.py bench --only today``): the Today page (/today/) at the bench's dataset.

Measured through Django's test Client like the ``list``/``detail`` pages (``devtools.bench._measure_get``: one
request counting queries, then ``repeat`` timed ones; wall time, this process's CPU and the SQL time per request):

- a rep with 500 partners: the rep with the most partners is given other reps' partners until they have 500, inside a
  transaction rolled back afterwards (the demo data gives a rep ~200 at 100k partners);
- a manager: there are no teams yet, so a manager's Today spans every partner they see — all of them (100k partners,
  every rep), a heavier case than a team of 20 reps (~10k partners);
- the same manager filtered to one rep (``?rep=``).

Targets (issue 11): median ≤ 60 ms and ≤ 12 queries, whatever the number of partners. Returns dicts of
``devtools.bench.Row`` fields, as ``bench_notify`` does: bench.py builds the rows, this module does not import it (no
import cycle); it measures the way bench.py's pages do (wall time, this process's CPU, the SQL statements' time).
"""

import re
import statistics
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from partners.models import Partner
from partners.roles import MANAGER, SALES_REP

TODAY_MS, TODAY_QUERIES = 60, 12
REP_PARTNERS = 500


class _Rollback(Exception):
    pass


def _noop(message):
    pass


def _users():
    User = get_user_model()
    manager = User.objects.filter(groups__name=MANAGER, is_active=True).order_by("id").first()
    top = (
        Partner.objects.filter(assigned_to__groups__name=SALES_REP, assigned_to__is_active=True)
        .values("assigned_to").annotate(n=Count("id")).order_by("-n", "assigned_to").first()
    )
    rep = User.objects.get(pk=top["assigned_to"]) if top else None
    return manager, rep


def _give_partners(rep, count):
    """Reassign other partners to ``rep`` until they have ``count`` (inside the caller's transaction)."""
    missing = count - Partner.objects.filter(assigned_to=rep).count()
    if missing > 0:
        ids = list(Partner.objects.exclude(assigned_to=rep).order_by("id").values_list("id", flat=True)[:missing])
        Partner.objects.filter(pk__in=ids).update(assigned_to=rep)
    return Partner.objects.filter(assigned_to=rep).count()


# Session and authentication lookups every logged-in request makes: counted apart, as bench.py does.
_FRAMEWORK_SQL = re.compile(
    r'FROM "django_session"|FROM "auth_user" WHERE "auth_user"\."id" = |"auth_permission"\."codename"'
)


def _ms(seconds):
    return f"{seconds * 1000:.1f} ms"


def _p95(values):
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]  # nearest rank


def _measure(client, url, repeat):
    """One request counting queries, then ``repeat`` timed ones: wall, CPU of this process and SQL time each."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    queries = len(captured)
    framework = sum(1 for q in captured.captured_queries if _FRAMEWORK_SQL.search(q["sql"]))
    if response.status_code != 200:
        return None, (queries, framework), response.status_code
    in_sql = [0.0]

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            in_sql[0] += time.perf_counter() - started

    times, cpu, sql = [], [], []
    with connection.execute_wrapper(timed):
        for _ in range(repeat):
            in_sql[0] = 0.0
            started, started_cpu = time.perf_counter(), time.process_time()
            client.get(url)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
            sql.append(in_sql[0])
    return (times, cpu, sql), (queries, framework), 200


def _row(name, client, url, repeat, note):
    target = f"median ≤ {TODAY_MS} ms, ≤ {TODAY_QUERIES} q"
    measured, (queries, framework), status = _measure(client, url, repeat)
    if measured is None:
        return {"section": "today", "name": name, "queries": str(queries), "target": target, "ok": False,
                "note": f"HTTP {status} for {url}"}
    times, cpu, sql = measured
    median = statistics.median(times)
    return {
        "section": "today", "name": name, "median": _ms(median), "p95": _ms(_p95(times)),
        "queries": f"{queries} ({framework} auth)", "target": target,
        "ok": median * 1000 <= TODAY_MS and queries <= TODAY_QUERIES, "note": note,
        "cpu": _ms(statistics.median(cpu)), "sql_time": _ms(statistics.median(sql)),
    }


def _client_for(user):
    client = Client()
    client.force_login(user)
    return client


def bench_today(*, repeat, progress=_noop):
    manager, rep = _users()
    if manager is None or rep is None:
        return [{"section": "today", "name": "Today page", "ok": False,
                 "note": "no manager or no sales rep with partners: load the demo data (seed_demo) first"}]
    rows = []
    hosts = [*settings.ALLOWED_HOSTS, "testserver"]
    with override_settings(DEBUG=False, ALLOWED_HOSTS=hosts, SECURE_SSL_REDIRECT=False):
        try:
            with transaction.atomic():
                owned = _give_partners(rep, REP_PARTNERS)
                progress(f"today · rep {rep.username} ({owned} partners)")
                client = _client_for(rep)
                rows.append(_row(f"rep {rep.username} ({owned:,} partners)", client, "/today/", repeat,
                                 f"/today/ ({owned:,} partners, reassigned for the run and rolled back)"))
                raise _Rollback
        except _Rollback:
            pass
        total = Partner.objects.count()
        progress("today · manager (everyone)")
        client = _client_for(manager)
        reps = Partner.objects.exclude(assigned_to=None).values("assigned_to").distinct().count()
        rows.append(_row("manager, every rep (no teams yet: a superset of a 20-rep team)", client, "/today/",
                         repeat, f"/today/ ({total:,} partners, {reps:,} reps)"))
        progress(f"today · manager, ?rep={rep.username}")
        rows.append(_row(f"manager, ?rep={rep.username}", client, f"/today/?rep={rep.username}", repeat,
                         f"/today/?rep={rep.username}"))
        client.logout()
    return rows
