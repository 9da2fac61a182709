"""Benchmark section ``today`` (``manage.py bench --only today``): the Today page (/today/) at the bench's dataset.

Measured through Django's test Client like the ``list``/``detail`` pages (``devtools.bench_measure.measure_get``: one
request counting queries, then ``repeat`` timed ones; wall time, this process's CPU and the SQL time per request):

- a rep with 500 partners: the rep with the most partners is given other reps' partners until they have 500, inside a
  transaction rolled back afterwards (the demo data gives a rep ~200 at 100k partners);
- a manager: there are no teams yet, so a manager's Today spans every partner they see — all of them (100k partners,
  every rep), a heavier case than a team of 20 reps (~10k partners);
- the same manager filtered to one rep (``?rep=``).

Targets (issue 11): median ≤ 60 ms and ≤ 12 queries, whatever the number of partners. Returns dicts of
``devtools.bench.Row`` fields, as ``bench_notify`` does: bench.py builds the rows, this module does not import it (no
import cycle); it measures with bench.py's own function (devtools.bench_measure).
"""


from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import override_settings

from devtools.bench_measure import median_page_row
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


def _row(name, client, url, repeat, note):
    return median_page_row("today", name, client, url, repeat, target_ms=TODAY_MS, target_queries=TODAY_QUERIES, note=note)


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
