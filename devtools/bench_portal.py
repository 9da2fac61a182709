"""Benchmark section ``portal`` (``manage.py bench --only portal``): the partner portal (issue 14) at the bench's
dataset with the portal's demo data (``devtools.demo_portal``: 3 users per partner, 500,000 deal registrations at
100,000 partners; add it to a seeded database with ``manage.py seed_demo --portal-only``).

- The portal home (/portal/) of the admin of the partner with the most registrations, as a first visit of the run
  (its "since your last visit" marks cleared: the last 14 days' events, and the visit's UPDATE on the first request;
  inside a transaction rolled back afterwards). Target: median ≤ 60 ms, ≤ 12 queries.
- The registration lists, ≤ 10 queries and median ≤ 60 ms: the partner's own (/portal/deals/: first page, open ones,
  a deep page) and the staff's review queue (/deals/: waiting for review, all, a deep page) for a manager (every
  partner) and for the rep with the most partners.
- The conflict check on submit, ``portal.conflicts.find_conflicts`` as the submit calls it, against every open
  registration, lead and customer: an open registration's prospect (same domain and name), a subdomain of it, a
  lead's company and mail domain, a customer's, and a prospect nobody has. Target: median ≤ 100 ms each.

Measured as the other sections (``devtools.bench_measure``: one request counting queries, then ``repeat`` timed ones).
Returns dicts of ``devtools.bench.Row`` fields (no import of bench.py: no cycle).
"""

import statistics
import time
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import NoReverseMatch, reverse

from devtools.bench_measure import median_page_row, ms, p95
from devtools.bench_today import _users
from leads.models import Customer, Lead
from portal.conflicts import find_conflicts
from portal.models import DealRegistration, Membership

SECTION = "portal"
HOME_MS, HOME_QUERIES = 60, 12
LIST_MS, LIST_QUERIES = 60, 10
CONFLICT_MS = 100
DEEP_PAGE = 40  # the partner's and the staff's lists: a page far from the first (or the last one)
PER_PAGE = 25


class _Rollback(Exception):
    pass


def _noop(message):
    pass


def _url(name: str, **query) -> str | None:
    try:
        url = reverse(name)
    except NoReverseMatch:
        return None
    return f"{url}?{urlencode(query)}" if query else url


def _missing(name: str, target: str, note: str) -> dict:
    return {"section": SECTION, "name": name, "ok": False, "target": target, "note": note}


def _busiest_member():
    """The admin membership of the partner with the most registrations, and that number."""
    top = (DealRegistration.objects.values("partner").annotate(n=Count("id")).order_by("-n", "partner").first())
    if top is None:
        return None, 0
    member = (Membership.objects.select_related("user").filter(partner_id=top["partner"], is_active=True)
              .order_by("role", "id").first())  # "admin" sorts before "member"
    return member, top["n"]


def _page(name, client, url, repeat, target_ms, target_queries, note) -> dict:
    if url is None:
        return _missing(name, f"median ≤ {target_ms} ms, ≤ {target_queries} q",
                        "the page is not there yet (its URL name does not resolve)")
    return median_page_row(SECTION, name, client, url, repeat, target_ms=target_ms, target_queries=target_queries,
                           note=f"{url} ({note})" if note else url)


def _deep(count: int) -> int:
    return max(1, min(DEEP_PAGE, -(-count // PER_PAGE)))


def _portal_pages(member, registrations: int, repeat: int, progress) -> list[dict]:
    rows = []
    client = Client()
    client.force_login(member.user)
    try:
        with transaction.atomic():
            Membership.objects.filter(pk=member.pk).update(seen_at=None, previous_seen_at=None)
            progress(f"portal · home of {member.user.username}")
            rows.append(_page(f"home ({member.user.username}, first visit: 14 days of news)", client,
                              _url("portal:home"), repeat, HOME_MS, HOME_QUERIES,
                              f"partner {member.partner_id}: {registrations:,} registrations"))
            raise _Rollback
    except _Rollback:
        pass
    deep = _deep(registrations)
    for name, url in [("deals: first page", _url("portal:deals")),
                      ("deals: open", _url("portal:deals", status="open")),
                      (f"deals: page {deep}", _url("portal:deals", page=deep))]:
        progress(f"portal · partner {name}")
        rows.append(_page(f"partner {name}", client, url, repeat, LIST_MS, LIST_QUERIES,
                          f"{registrations:,} registrations of the partner"))
    client.logout()
    return rows


def _staff_pages(label: str, user, repeat: int, progress) -> list[dict]:
    rows = []
    client = Client()
    client.force_login(user)
    total = DealRegistration.objects.count() if label == "manager" else DealRegistration.objects.filter(
        partner__assigned_to=user).count()
    for name, url in [("review queue (waiting)", _url("deals:list")),
                      ("all registrations", _url("deals:list", status="all")),
                      (f"all, page {_deep(total)}", _url("deals:list", status="all", page=_deep(total)))]:
        progress(f"portal · {label} /deals/ {name}")
        rows.append(_page(f"staff {label}: {name}", client, url, repeat, LIST_MS, LIST_QUERIES,
                          f"{total:,} registrations visible"))
    client.logout()
    return rows


def _conflict_cases() -> list[tuple[str, dict]]:
    """(name, find_conflicts arguments) of the prospects checked."""
    cases = []
    open_one = (DealRegistration.objects.filter(status__in=DealRegistration.OPEN).exclude(domain="")
                .order_by("id").values("company", "domain", "partner_id").first())
    if open_one:
        cases.append(("an open registration's prospect (domain and name)", {
            "company": open_one["company"], "domain": open_one["domain"], "exclude_partner_id": None}))
        cases.append(("a subdomain of it, another name", {
            "company": "Regional Office", "domain": f"sales.{open_one['domain']}",
            "exclude_partner_id": open_one["partner_id"]}))
    lead = Lead.objects.exclude(email="").exclude(company="").order_by("-id").values("company", "email").first()
    if lead:
        cases.append(("a lead's company and mail domain", {
            "company": lead["company"], "domain": lead["email"].rsplit("@", 1)[-1], "exclude_partner_id": None}))
    customer = Customer.objects.exclude(company="").order_by("-id").values("company", "name").first()
    if customer:
        cases.append(("a customer's company", {"company": customer["company"], "domain": "",
                                               "exclude_partner_id": None}))
    cases.append(("a prospect nobody has", {"company": "Quorvex Lumina Holdings", "domain": "quorvex-lumina.example",
                                            "exclude_partner_id": None}))
    return cases


def _conflicts(repeat: int, progress) -> list[dict]:
    target = f"median ≤ {CONFLICT_MS} ms"
    sizes = (f"{DealRegistration.objects.filter(status__in=DealRegistration.OPEN).count():,} open registrations, "
             f"{_estimate(Lead):,} leads, {_estimate(Customer):,} customers")
    rows = []
    for name, arguments in _conflict_cases():
        progress(f"portal · conflict check: {name}")
        with CaptureQueriesContext(connection) as captured:
            found = find_conflicts(**arguments)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            find_conflicts(**arguments)
            times.append(time.perf_counter() - started)
        median = statistics.median(times)
        shown = {k: v for k, v in arguments.items() if k != "exclude_partner_id" and v}
        rows.append({
            "section": SECTION, "name": f"conflict check: {name}", "median": ms(median), "p95": ms(p95(times)),
            "queries": str(len(captured)), "target": target, "ok": median * 1000 <= CONFLICT_MS,
            "note": f"{shown}: {len(found)} candidate(s); against {sizes}",
        })
    return rows


def _estimate(model) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [model._meta.db_table])
        row = cursor.fetchone()
    return row[0] if row and row[0] > 0 else model.objects.count()


def bench_portal(*, repeat, progress=_noop):
    member, registrations = _busiest_member()
    if member is None:
        return [_missing("partner portal", f"median ≤ {HOME_MS} ms, ≤ {HOME_QUERIES} q",
                         "no portal data: run `manage.py seed_demo --portal-only` first")]
    manager, rep = _users()
    rows = []
    hosts = [*settings.ALLOWED_HOSTS, "testserver"]
    with override_settings(DEBUG=False, ALLOWED_HOSTS=hosts, SECURE_SSL_REDIRECT=False):
        rows += _portal_pages(member, registrations, repeat, progress)
        if manager is not None:
            rows += _staff_pages("manager", manager, repeat, progress)
        if rep is not None:
            rows += _staff_pages(f"rep {rep.username}", rep, repeat, progress)
    rows += _conflicts(repeat, progress)
    return rows
