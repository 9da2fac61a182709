"""Benchmark section ``crm`` (``manage.py bench --only crm``): the leads, customers and tickets pages of issue 13 at
the bench's dataset (100k partners: ~1M leads, ~300k customers, ~500k tickets with ``seed_demo``).

Measured through Django's test Client like the Today and team pages (``devtools.bench_measure.median_page_row``: one
request counting queries, then ``repeat`` timed ones; wall time, this process's CPU and the SQL time per request),
for two users:

- a manager, who sees everything: every lead, customer and ticket;
- a rep with 500 partners (``devtools.bench_today``'s rep, given other reps' partners until they have 500, inside a
  transaction rolled back afterwards), who also follows those partners' leads, customers and tickets (their
  ``assigned_to`` / ``assignee`` moved to the rep with them), as a rep with 500 partners would; the tables it wrote
  are vacuumed afterwards (``_vacuum``), so runs stay comparable on a server without autovacuum.

Pages: the leads list (first page, a stage, one partner's leads, a partner search, a deep page: 500, or the rep's
last), the customers list (first page, overdue only, sorted by due date), the tickets list (the default: open tickets,
a rep's own; past a due time only; every status), a lead page (a won lead: stage history, its customer) and the
customer page of the visible customer with the most tickets. Targets (issue 13): the lists ≤ 10 queries and median
≤ 60 ms on any page; the customer page ≤ 20 queries (and 60 ms); the lead page has no budget of its own in the issue:
the customer page's. A page that is not there yet (its URL name does not resolve) is a MISSED row saying so.
Returns dicts of ``devtools.bench.Row`` fields, as ``bench_today`` does (no import of bench.py: no cycle).
"""

from urllib.parse import urlencode

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef
from django.test import Client
from django.test.utils import override_settings
from django.urls import NoReverseMatch, reverse

from devtools.bench_measure import median_page_row
from devtools.bench_today import REP_PARTNERS, _give_partners, _users
from leads.customer_selectors import customers_visible_to
from leads.models import Customer, Lead
from leads.selectors import leads_visible_to
from partners.models import Partner
from service.models import Ticket
from service.selectors import ticket_visible_to

SECTION = "crm"
LIST_MS, LIST_QUERIES = 60, 10
PAGE_MS, PAGE_QUERIES = 60, 20  # the customer page's budget; the lead page is held to it too
DEEP_PAGE = 500
PER_PAGE = 25  # the three lists' page size (dashboard.leads_views, dashboard.customers_views, service.views)
PARTNER_SEARCH = "harbor"  # a common word of the demo partners' names (the partner list's bench searches it too)


class _Rollback(Exception):
    pass


def _noop(message):
    pass


def _url(name: str, *args, **query) -> str | None:
    """The page's URL, with ``query``; None when the URL name does not resolve (the page is not there yet)."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return None
    return f"{url}?{urlencode(query)}" if query else url


def _follow_partners(rep) -> None:
    """The rep's partners' leads and customers, and those customers' tickets that their previous rep had, move to
    ``rep`` (inside the caller's transaction), as if the rep had always had those partners."""
    partners = Partner.objects.filter(assigned_to=rep).values("pk")
    customers = Customer.objects.filter(partner__in=partners).exclude(assigned_to=rep)
    followed = customers.filter(pk=OuterRef("customer_id"), assigned_to=OuterRef("assignee_id"))
    Ticket.objects.filter(Exists(followed)).update(assignee=rep)
    customers.update(assigned_to=rep)
    Lead.objects.filter(partner__in=partners).exclude(assigned_to=rep).update(assigned_to=rep)


def _subjects(user) -> dict:
    """What the pages are measured on, among what ``user`` sees: the partner with the most leads, a won lead (the
    newest), the customer with the most tickets, and the deep page of the leads list (500, or the user's last)."""
    busiest = (leads_visible_to(user).exclude(partner=None).values("partner").annotate(n=Count("id"))
               .order_by("-n", "partner").first())
    lead = (leads_visible_to(user).filter(stage=Lead.Stage.WON).order_by("-created_at", "-id").first()
            or leads_visible_to(user).order_by("-created_at", "-id").first())
    customer = (ticket_visible_to(user).values("customer").annotate(n=Count("id")).order_by("-n", "customer")
                .first())
    if customer is None:
        first = customers_visible_to(user).order_by("id").values_list("pk", flat=True).first()
        customer = {"customer": first, "n": 0} if first else None
    leads = leads_visible_to(user).count()
    return {
        "partner": busiest, "lead": lead, "customer": customer, "leads": leads,
        "deep": max(1, min(DEEP_PAGE, -(-leads // PER_PAGE))),
    }


def _pages(subjects: dict) -> list[tuple[str, str | None, int, int, str]]:
    """(name, URL or None, target ms, target queries, note) of every page measured for one user."""
    partner, lead, customer = subjects["partner"], subjects["lead"], subjects["customer"]
    deep = subjects["deep"]
    pages = [
        ("leads: first page", _url("leads:list"), LIST_MS, LIST_QUERIES, f"{subjects['leads']:,} leads visible"),
        ("leads: stage qualified", _url("leads:list", stage=Lead.Stage.QUALIFIED), LIST_MS, LIST_QUERIES, ""),
    ]
    if partner is not None:
        pages.append(("leads: one partner's", _url("leads:list", partner=partner["partner"]), LIST_MS, LIST_QUERIES,
                      f"partner {partner['partner']}: {partner['n']:,} leads"))
    pages += [
        (f"leads: partner search '{PARTNER_SEARCH}'", _url("leads:list", partner_q=PARTNER_SEARCH), LIST_MS,
         LIST_QUERIES, ""),
        (f"leads: page {deep}" + ("" if deep == DEEP_PAGE else " (last)"), _url("leads:list", page=deep), LIST_MS,
         LIST_QUERIES, f"OFFSET {(deep - 1) * PER_PAGE:,}"),
        ("customers: first page", _url("customers:list"), LIST_MS, LIST_QUERIES, ""),
        ("customers: overdue", _url("customers:list", overdue="on"), LIST_MS, LIST_QUERIES, ""),
        ("customers: sorted by due date", _url("customers:list", sort="due"), LIST_MS, LIST_QUERIES, ""),
        ("tickets: default (open)", _url("tickets:list"), LIST_MS, LIST_QUERIES, ""),
        ("tickets: past a due time", _url("tickets:list", breached="on"), LIST_MS, LIST_QUERIES, ""),
        ("tickets: every status", _url("tickets:list", status="any"), LIST_MS, LIST_QUERIES, ""),
    ]
    if lead is not None:
        pages.append(("lead page", _url("leads:detail", lead.pk), PAGE_MS, PAGE_QUERIES,
                      f"lead {lead.pk} ({lead.get_stage_display().lower()})"))
    if customer is not None:
        pages.append(("customer page", _url("customers:detail", customer["customer"]), PAGE_MS, PAGE_QUERIES,
                      f"customer {customer['customer']}: {customer['n']} tickets"))
    return pages


def _measure(label: str, user, repeat: int, progress) -> list[dict]:
    rows = []
    client = Client()
    client.force_login(user)
    for name, url, target_ms, target_queries, note in _pages(_subjects(user)):
        progress(f"crm · {label} · {name}")
        if url is None:
            rows.append({"section": SECTION, "name": f"{label}: {name}", "ok": False,
                         "target": f"median ≤ {target_ms} ms, ≤ {target_queries} q",
                         "note": "the page is not there yet (its URL name does not resolve)"})
            continue
        rows.append(median_page_row(SECTION, f"{label}: {name}", client, url, repeat, target_ms=target_ms,
                                    target_queries=target_queries, note=f"{url} ({note})" if note else url))
    client.logout()  # deletes the session row the benchmark created
    return rows


def bench_crm(*, repeat, progress=_noop):
    manager, rep = _users()
    if manager is None or rep is None:
        return [{"section": SECTION, "name": "leads, customers, tickets", "ok": False,
                 "note": "no manager or no sales rep with partners: load the demo data (seed_demo) first"}]
    rows = []
    hosts = [*settings.ALLOWED_HOSTS, "testserver"]
    with override_settings(DEBUG=False, ALLOWED_HOSTS=hosts, SECURE_SSL_REDIRECT=False):
        rows += _measure("manager", manager, repeat, progress)
        try:
            with transaction.atomic():
                owned = _give_partners(rep, REP_PARTNERS)
                _follow_partners(rep)
                rows += _measure(f"rep {rep.username} ({owned:,} partners)", rep, repeat, progress)
                raise _Rollback
        except _Rollback:
            pass
    _vacuum(progress)
    return rows


def _vacuum(progress) -> None:
    """VACUUM (no ANALYZE: the statistics stay as they were) the tables the rolled-back reassignment wrote: its dead
    rows and index entries would otherwise stay on a server without autovacuum (this project's CI) and slow the next
    run's rep pages (measured: a few runs left 4× the rep's live lead index entries as dead ones). Not inside a
    transaction (the tests): there is nothing to clean there."""
    if connection.in_atomic_block:
        return
    progress("crm · VACUUM of the tables the rep's reassignment wrote")
    tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in (Partner, Lead, Customer, Ticket))
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {tables}")
