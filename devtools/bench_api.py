"""Benchmark section ``api`` (``manage.py bench --only api``): the /api/v1/ lists and the bulk upsert (issue 16).

- Every list endpoint that is wired (partners, activities, leads, customers, deals, targets, achievements): a page of
  100 with an API key (``Authorization: Bearer``, as a client sends it), for a manager (every row) and for the sales
  rep with the most partners; the first page and a deep page (the cursor of the row in the middle of the (updated_at,
  id) order). Through Django's test Client (``devtools.bench_measure.measure_get``: one request counting queries,
  then ``repeat`` timed ones). Target: median ≤ 50 ms and ≤ 6 queries per page.
- The bulk upsert of 100,000 achievements in one request (``POST /api/v1/achievements/bulk``, ~8 MB of JSON) against
  the CSV import of the same rows (``business.imports.import_period_values``, the service behind the admin upload and
  ``manage.py import_achievements``), each from the same starting state (a savepoint rolled back after each). Target:
  the API within 2× the CSV import.

Everything runs inside a transaction rolled back at the end (the keys, the rate counters, the upserted rows), so a
database used read-only stays as it was. Returns dicts of ``devtools.bench.Row`` fields, as ``bench_team`` does.
"""

import io
import json
import statistics
import time
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import override_settings

from api.pagination import cursor_encode
from api.services import key_create
from business.imports import import_period_values
from business.models import Achievement, Parameter, Target
from devtools.bench_measure import median_page_row, ms
from partners.models import Partner
from partners.roles import MANAGER, SALES_REP

LIST_MS, LIST_QUERIES, BULK_RATIO = 50, 6, 2.0
BULK_ROWS = 100_000
PER_PAGE = 100
SCOPES = ["partners:read", "activities:read", "leads:read", "customers:read", "deals:read", "figures:read",
          "figures:write"]


class _Rollback(Exception):
    pass


def _noop(message):
    pass


def _lists() -> list[tuple[str, str, object]]:
    """(name, path, model) of the wired list endpoints: a resource module whose urlpatterns name the list."""
    from activities.models import Activity
    from leads.models import Customer, Lead
    from portal.models import DealRegistration

    candidates = [("partners", "views", Partner), ("activities", "activities", Activity), ("leads", "leads", Lead),
                  ("customers", "customers", Customer), ("deals", "deals", DealRegistration),
                  ("targets", "figures", Target), ("achievements", "figures", Achievement)]
    found = []
    urls = import_module("api.urls").urlpatterns
    routes = {str(pattern.pattern) for pattern in urls}
    for name, module, model in candidates:
        module_routes = {str(p.pattern) for p in getattr(import_module(f"api.{module}"), "urlpatterns", [])}
        if f"{name}/" in routes | module_routes:
            found.append((name, f"/api/v1/{name}/", model))
    return found


def _middle_cursor(model) -> str | None:
    """The cursor of the row in the middle of ``model``'s (updated_at, id) order (by the planner's estimate of the
    row count, so it costs one index walk, not a count)."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
        estimate = int((cursor.fetchone() or [0])[0])
        if estimate <= 0:  # never analysed (a fresh seed): count
            cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608
            estimate = cursor.fetchone()[0]
        cursor.execute(f'SELECT updated_at, id FROM "{table}" ORDER BY updated_at, id '  # noqa: S608
                       "OFFSET %s LIMIT 1", [estimate // 2])
        row = cursor.fetchone()
    return cursor_encode(row[0], row[1]) if row else None


def _client(user, name):
    _key, secret = key_create(owner=user, name=f"bench {name}", scopes=SCOPES)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    client.get("/api/v1/parameters/")  # the key's first use records last_used_at (then once a minute): not counted
    return client


def _list_rows(user, who, lists, repeat, progress):
    client = _client(user, who)
    rows = []
    for name, url, model in lists:
        progress(f"api · {name} · {who}")
        first = f"{url}?limit={PER_PAGE}"
        rows.append(median_page_row("api", f"{name} ({who}), first page", client, first, repeat,
                                    target_ms=LIST_MS, target_queries=LIST_QUERIES, note=first))
        # A deep page: from the middle of the table for a manager; for a rep, from the cursor the first pages give.
        if who == "manager":
            cursor = _middle_cursor(model)
        else:
            body = client.get(first).json()
            cursor = body.get("next_cursor")
            for _ in range(8):
                following = client.get(f"{first}&cursor={cursor}").json() if cursor else {}
                if not following.get("next_cursor"):
                    break
                cursor = following["next_cursor"]
        if cursor:
            deep = f"{first}&cursor={cursor}"
            rows.append(median_page_row("api", f"{name} ({who}), deep page", client, deep, repeat,
                                        target_ms=LIST_MS, target_queries=LIST_QUERIES,
                                        note=f"{url}?limit={PER_PAGE}&cursor=<{'middle of the table' if who == 'manager' else 'page ≤ 10'}>"))
    return rows


def _bulk_rows():
    """100,000 (partner code, period) rows of a fresh uploaded parameter: every row is new for both runs."""
    parameter = Parameter.objects.create(code="bench_api_upload", name="Bench API upload", unit="count")
    partners = max(1, min(Partner.objects.count(), BULK_ROWS))
    months = -(-BULK_ROWS // partners)
    codes = list(Partner.objects.order_by("id").values_list("code", flat=True)[:partners])
    periods = [f"{2000 + m // 12}-{m % 12 + 1:02d}" for m in range(months)]
    rows = [{"partner_code": code, "parameter": parameter.code, "period": period, "value": f"{n % 997}.5"}
            for n, (code, period) in enumerate((c, p) for p in periods for c in codes)][:BULK_ROWS]
    return rows


def _bulk(user, repeat, progress):
    rows = _bulk_rows()
    payload = json.dumps({"rows": rows}).encode()
    csv = "\n".join(["partner_code,parameter,period,value",
                     *(f"{r['partner_code']},{r['parameter']},{r['period']},{r['value']}" for r in rows)]).encode()
    client = _client(user, "bulk")
    api_times, csv_times, answer = [], [], None
    for run in range(max(1, min(repeat, 3))):
        progress(f"api · bulk upsert of {len(rows):,} achievements, run {run + 1}")
        sid = transaction.savepoint()
        started = time.perf_counter()
        response = client.post("/api/v1/achievements/bulk", payload, content_type="application/json")
        api_times.append(time.perf_counter() - started)
        answer = (response.status_code, response.json() if response.status_code < 500 else None)
        transaction.savepoint_rollback(sid)
        progress(f"api · CSV import of the same rows, run {run + 1}")
        sid = transaction.savepoint()
        started = time.perf_counter()
        result = import_period_values(file=io.BytesIO(csv), file_name="bench.csv", kind="achievements", user=user,
                                      dry_run=False)
        csv_times.append(time.perf_counter() - started)
        transaction.savepoint_rollback(sid)
        if answer[0] != 200 or not result.ok:
            break
    status, body = answer
    api, csv_s = statistics.median(api_times), statistics.median(csv_times)
    ok = status == 200 and body["created"] == len(rows) and result.ok and api <= BULK_RATIO * csv_s
    note = (f"{len(rows):,} rows, {len(payload) / 1e6:.1f} MB JSON; CSV import of the same rows {ms(csv_s)} "
            f"(median of {len(csv_times)}); ratio {api / csv_s:.2f}" if status == 200 else f"HTTP {status}: {body}")
    return [
        {"section": "api", "name": "bulk upsert, 100k achievements (one request)", "median": ms(api),
         "target": f"≤ {BULK_RATIO:g}× the CSV import", "ok": ok, "note": note},
        {"section": "api", "name": "CSV import, the same rows", "median": ms(csv_s), "ok": None,
         "note": "business.imports.import_period_values, in-process"},
    ]


def bench_api(*, repeat, progress=_noop):
    User = get_user_model()
    manager = User.objects.filter(groups__name=MANAGER, is_active=True).order_by("id").first()
    top = (
        Partner.objects.filter(assigned_to__groups__name=SALES_REP, assigned_to__is_active=True)
        .values("assigned_to").annotate(n=Count("id")).order_by("-n", "assigned_to").first()
    )
    if manager is None or top is None:
        return [{"section": "api", "name": "API lists", "ok": False,
                 "note": "no manager or no sales rep with partners: load the demo data (seed_demo) first"}]
    rep = User.objects.get(pk=top["assigned_to"])
    lists = _lists()
    rows = []
    hosts = [*settings.ALLOWED_HOSTS, "testserver"]
    with override_settings(DEBUG=False, ALLOWED_HOSTS=hosts, SECURE_SSL_REDIRECT=False, API_RATE_LIMIT=10**9):
        try:
            with transaction.atomic():
                rows += _list_rows(manager, "manager", lists, repeat, progress)
                rows += _list_rows(rep, f"rep, {top['n']:,} partners", lists, repeat, progress)
                rows += _bulk(manager, repeat, progress)
                raise _Rollback
        except _Rollback:
            pass
    return rows
