"""Demo price books (issue 17): 40 products, a default list with quantity breaks, country books (DACH in EUR, the US
in USD), tier books (Gold, Platinum), a Platinum + Germany book, a book for one partner and an expired promotion —
written through ``pricing.services``, once. Demo partners get a country (DE, AT, FR, US, GB, …) so every scope shows."""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Case, Value, When
from django.db.models.functions import Mod
from django.utils import timezone

from partners.models import Partner
from pricing import services
from pricing.models import Product, Source

COUNTRIES = ["DE", "DE", "AT", "CH", "FR", "US", "US", "GB", "NL", "IT"]
FAMILIES = [("LIC", "Licence", 240), ("SUP", "Support plan", 90), ("HW", "Appliance", 1200), ("TRN", "Training day", 650)]


def pricing_seed(*, progress=None) -> int:
    """Create the demo catalogue and books (once). Returns how many price entries were written."""
    progress = progress or (lambda message: None)
    if Product.objects.exists():
        progress("pricing: already there")
        return 0
    with transaction.atomic():
        # Demo partners have no country yet: spread them over COUNTRIES by id (one UPDATE; demo tooling only).
        Partner.objects.filter(country="").annotate(slot=Mod("id", len(COUNTRIES))).update(country=Case(
            *[When(slot=n, then=Value(code)) for n, code in enumerate(COUNTRIES)], default=Value("DE")))
        rows, base = [], {}
        for prefix, label, price in FAMILIES:
            for n in range(1, 11):
                sku = f"{prefix}-{n:03d}"
                rows.append({"sku": sku, "name": f"{label} {chr(64 + n)}",
                             "description": f"{label} {chr(64 + n)}, demo product."})
                base[sku] = Decimal(price) * (1 + Decimal(n) / 10)
        services.products_upsert(rows=rows, source=Source.DEMO)
        today = timezone.localdate()
        first_partner = Partner.objects.order_by("id").values_list("code", flat=True).first()
        books = [
            ({"code": "LIST-EUR", "name": "List prices", "is_default": True}, Decimal(1), (1, 10, 50)),
            ({"code": "DACH", "name": "DACH partners", "countries": ["DE", "AT", "CH"]}, Decimal("0.95"), (1, 25)),
            ({"code": "US", "name": "US partners", "currency": "USD", "countries": ["US"]}, Decimal("1.08"), (1,)),
            ({"code": "GOLD", "name": "Gold partners", "tier_names": ["Gold"]}, Decimal("0.9"), (1, 10)),
            ({"code": "PLATINUM", "name": "Platinum partners", "tier_names": ["Platinum"]}, Decimal("0.85"), (1, 10)),
            ({"code": "PLATINUM-DE", "name": "Platinum Germany", "tier_names": ["Platinum"], "countries": ["DE"]},
             Decimal("0.8"), (1,)),
            ({"code": "PROMO-SPRING", "name": "Spring promotion (ended)", "is_default": True, "priority": 10,
              "valid_from": today - timedelta(days=120), "valid_to": today - timedelta(days=30)}, Decimal("0.7"), (1,)),
        ]
        if first_partner:
            books.append(({"code": "KEY-ACCOUNT", "name": "Key account agreement", "partner_codes": [first_partner]},
                          Decimal("0.75"), (1, 100)))
        written = 0
        for fields, factor, breaks in books:
            fields.setdefault("currency", "EUR")
            book, _ = services.price_book_upsert(source=Source.DEMO, **fields)
            entries = [{"sku": sku, "min_quantity": q,
                        "unit_price": (price * factor * (1 - Decimal(index) / 20)).quantize(Decimal("0.01"))}
                       for sku, price in base.items() for index, q in enumerate(breaks)
                       if fields["code"] != "DACH" or sku.startswith(("LIC", "SUP"))]
            written += len(services.price_entries_upsert(book=book, rows=entries, source=Source.DEMO).ids)
    progress(f"pricing: {len(rows)} products, {len(books)} price books, {written} entries")
    return written
