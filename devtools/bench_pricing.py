"""Benchmark of price resolution (issue 17): one partner's price for one product (target ≤ 5 ms) and a partner's whole
price list of 5,000 products (target ≤ 100 ms), plus the rep's price-list page query (a page of 50, and a search).

The data is generated through ``pricing.services`` inside a transaction that is rolled back at the end (nothing stays
behind): ``PRODUCTS`` products; ``BOOKS`` price books of mixed scopes — the default list (every product at 1, 10 and
100 units), 6 country books, 3 tier books, 8 tier + country books, 8 partner books (20 partners each, the measured
partner in 2 of them), 2 expired and 2 inactive books — each pricing a slice of the products (1,000–3,000, one or two
quantity breaks). The measured partner is Gold in DE, so nearly every scope level applies to it. Times are the SQL
round trip of the selector, in-process (median and p95 of ``repeat`` runs, after one warm-up).

Run it: ``manage.py bench --only pricing`` (it returns dicts of ``devtools.bench.Row`` fields).
"""

import random
import statistics
import time
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from devtools.bench_measure import ms, p95
from partners.models import Partner, Tier
from pricing import selectors, services
from pricing.models import PriceBook, PriceEntry, Product, Source
from prm import pg

SECTION = "pricing"
PRODUCTS = 5_000
ONE_MS, LIST_MS, PAGE_MS = 5, 100, 100
COUNTRIES = ["DE", "FR", "US", "GB", "IT", "ES"]


class _Rollback(Exception):
    pass


def _noop(message):
    print(message, flush=True)  # noqa: T201 (a command-line helper)


def generate(*, products: int = PRODUCTS, partner: Partner, seed: int = 17) -> int:
    """Products and ~30 books of mixed scopes through the services (in the caller's transaction); returns the number
    of entries written."""
    rng = random.Random(seed)
    skus = [f"BENCH-{n:05d}" for n in range(products)]
    services.products_upsert(
        rows=[{"sku": sku, "name": f"Bench product {rng.choice('ABCDEFGH')} {n:05d}"} for n, sku in enumerate(skus)],
        source=Source.DEMO,
    )
    tiers = list(Tier.objects.values_list("name", flat=True))
    others = list(Partner.objects.exclude(pk=partner.pk).order_by("?").values_list("code", flat=True)[:200])
    today = timezone.localdate()
    books: list[tuple[dict, int, tuple[int, ...]]] = [
        ({"code": "BENCH-DEFAULT", "is_default": True}, products, (1, 10, 100)),
    ]
    books += [({"code": f"BENCH-C-{c}", "countries": [c]}, 3000, (1,)) for c in COUNTRIES]
    books += [({"code": f"BENCH-T-{t}", "tier_names": [t], "priority": 1}, 2000, (1, 50)) for t in tiers]
    books += [({"code": f"BENCH-TC-{t}-{c}", "tier_names": [t], "countries": [c], "priority": n % 3}, 1500, (1,))
              for n, (t, c) in enumerate((t, c) for t in tiers for c in COUNTRIES[:3])][:8]
    for n in range(8):
        codes = rng.sample(others, min(20, len(others)))
        if n in (2, 5):
            codes.append(partner.code)
        books.append(({"code": f"BENCH-P-{n}", "partner_codes": codes, "priority": n}, 1000, (1, 20)))
    books += [({"code": f"BENCH-OLD-{n}", "is_default": True, "valid_to": today - timedelta(days=30)}, 2000, (1,))
              for n in range(2)]
    books += [({"code": f"BENCH-OFF-{n}", "countries": ["DE"], "active": False}, 2000, (1,)) for n in range(2)]
    entries = 0
    for fields, count, breaks in books:
        book, _ = services.price_book_upsert(name=fields["code"].title(), currency="EUR", source=Source.DEMO, **fields)
        chosen = skus if count >= products else rng.sample(skus, count)
        rows = [{"sku": sku, "unit_price": Decimal(rng.randint(100, 99_999)) / 100 * (Decimal(1) - Decimal(b) / 1000),
                 "min_quantity": b} for sku in chosen for b in breaks]
        for row in rows:
            row["unit_price"] = row["unit_price"].quantize(Decimal("0.0001"))
        entries += len(services.price_entries_upsert(book=book, rows=rows, source=Source.DEMO).ids)
    pg.analyze(Product, PriceBook, PriceEntry, PriceBook.partners.through, PriceBook.tiers.through)
    return entries


def _measured_partner() -> Partner:
    partner = Partner.objects.filter(tier__name="Gold").order_by("id").first() or Partner.objects.order_by("id").first()
    if partner is None:
        partner = Partner.objects.create(code="BENCH-PRICING", name="Bench pricing partner")
    partner.tier = Tier.objects.filter(name="Gold").first()
    partner.country = "DE"
    Partner.objects.filter(pk=partner.pk).update(tier=partner.tier, country="DE")
    return partner


def _time(function, repeat: int) -> list[float]:
    function()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


def _row(name: str, times: list[float], target_ms: int, note: str) -> dict:
    median = statistics.median(times)
    return {"section": SECTION, "name": name, "median": ms(median), "p95": ms(p95(times)), "queries": "1",
            "target": f"median ≤ {target_ms} ms", "ok": median * 1000 <= target_ms, "note": note}


def bench_pricing(*, repeat: int, progress=_noop) -> list[dict]:
    rows: list[dict] = []
    try:
        with transaction.atomic():
            partner = _measured_partner()
            started = time.monotonic()
            entries = generate(partner=partner)
            progress(f"pricing: {PRODUCTS} products, {PriceBook.objects.count()} books, {entries} entries written "
                     f"in {time.monotonic() - started:.1f} s")
            ids = list(Product.objects.filter(sku__startswith="BENCH-").values_list("id", flat=True))
            rng = random.Random(1)
            prices = selectors.price_list_for_partner(partner=partner)
            scopes = statistics.multimode(p.scope for p in prices)
            rows.append(_row("one product, one partner", _time(
                lambda: selectors.price_for_partner(partner=partner, product_id=rng.choice(ids),
                                                    quantity=rng.choice((1, 15, 120))), max(repeat, 100)),
                ONE_MS, "a random product and quantity each run"))
            rows.append(_row(f"whole price list ({len(prices)} products)", _time(
                lambda: selectors.price_list_for_partner(partner=partner), repeat), LIST_MS,
                f"most common scope {scopes}; {entries} entries in {PriceBook.objects.count()} books"))
            rows.append(_row("price-list page 1 (50 rows + total)", _time(
                lambda: selectors.price_list_page(partner=partner, page=1), repeat), PAGE_MS, "the rep's page"))
            rows.append(_row("price-list search 'product a'", _time(
                lambda: selectors.price_list_page(partner=partner, page=1, search="product a"), repeat), PAGE_MS,
                "the rep's page, searched"))
            rows.append(_row("10 deal lines", _time(
                lambda: selectors.prices_for_partner(partner=partner, lines=[(i, 5) for i in rng.sample(ids, 10)]),
                repeat), ONE_MS, "a deal's products priced at once"))
            raise _Rollback
    except _Rollback:
        pass
    return rows
