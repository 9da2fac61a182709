"""Benchmark section ``team`` (``manage.py bench --only team``): the team dashboard (/team/) at the bench's dataset.

- the nightly refresh of its pre-aggregates (``insights.team_refresh.team_figures_refresh``): wall time, once;
- the page for a manager who sees every partner (100k at the bench's size), and the same filtered to one rep
  (``?rep=``), through Django's test Client (``devtools.bench_measure.measure_get``: one request counting queries,
  then ``repeat`` timed ones).

Everything runs inside a transaction rolled back at the end (the refresh's rows included), so a database used
read-only stays as it was. Target (issue 12): median ≤ 300 ms and ≤ 15 queries. Returns dicts of
``devtools.bench.Row`` fields, as ``bench_today`` does.
"""

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import override_settings

from devtools.bench_measure import median_page_row, ms
from insights.team_refresh import team_figures_refresh
from partners.models import Partner
from partners.roles import MANAGER, SALES_REP

TEAM_MS, TEAM_QUERIES = 300, 15


class _Rollback(Exception):
    pass


def _noop(message):
    pass


def _row(name, client, url, repeat, note):
    return median_page_row("team", name, client, url, repeat, target_ms=TEAM_MS, target_queries=TEAM_QUERIES, note=note)


def bench_team(*, repeat, progress=_noop):
    User = get_user_model()
    manager = User.objects.filter(groups__name=MANAGER, is_active=True).order_by("id").first()
    top = (
        Partner.objects.filter(assigned_to__groups__name=SALES_REP, assigned_to__is_active=True)
        .values("assigned_to").annotate(n=Count("id")).order_by("-n", "assigned_to").first()
    )
    if manager is None or top is None:
        return [{"section": "team", "name": "team dashboard", "ok": False,
                 "note": "no manager or no sales rep with partners: load the demo data (seed_demo) first"}]
    rep = User.objects.get(pk=top["assigned_to"])
    rows = []
    hosts = [*settings.ALLOWED_HOSTS, "testserver"]
    with override_settings(DEBUG=False, ALLOWED_HOSTS=hosts, SECURE_SSL_REDIRECT=False):
        try:
            with transaction.atomic():
                progress("team · nightly refresh of the pre-aggregates")
                started = time.perf_counter()
                result = team_figures_refresh()
                seconds = time.perf_counter() - started
                rows.append({"section": "team", "name": "nightly refresh (attainment + movers)", "median": ms(seconds),
                             "target": "nightly", "ok": None,
                             "note": f"{result.attainment_rows:,} attainment rows, {result.mover_rows:,} movers; "
                                     "one run, rolled back"})
                total = Partner.objects.count()
                client = Client()
                client.force_login(manager)
                progress("team · manager (everyone)")
                rows.append(_row("manager, every partner", client, "/team/", repeat, f"/team/ ({total:,} partners)"))
                progress(f"team · manager, ?rep={rep.username}")
                rows.append(_row(f"manager, ?rep={rep.username}", client, f"/team/?rep={rep.username}", repeat,
                                 f"/team/?rep={rep.username} ({top['n']:,} partners)"))
                client.logout()
                raise _Rollback
        except _Rollback:
            pass
    return rows
