"""Pricing test data, written through pricing.services (the services are what every other writer uses)."""

from decimal import Decimal

import pytest

from pricing import services
from pricing.models import Source
from tests.factories import PartnerFactory, tier


def book(code, *, prices=None, **fields):
    """A price book (default currency EUR) with ``prices`` ({sku: price} or {(sku, min_quantity): price})."""
    fields.setdefault("name", code.title())
    fields.setdefault("currency", "EUR")
    created, _ = services.price_book_upsert(code=code, source=Source.ADMIN, **fields)
    if prices:
        rows = [{"sku": key[0], "min_quantity": key[1], "unit_price": Decimal(str(value))} if isinstance(key, tuple)
                else {"sku": key, "unit_price": Decimal(str(value))} for key, value in prices.items()]
        result = services.price_entries_upsert(book=created, rows=rows, source=Source.ADMIN)
        assert not result.errors, result.errors
    return created


def products(*skus):
    result = services.products_upsert(rows=[{"sku": sku, "name": f"Product {sku}"} for sku in skus], source=Source.ADMIN)
    assert not result.errors
    return result.ids


@pytest.fixture
def gold_de(db, rep):
    """A Gold partner in Germany, assigned to ``rep``."""
    return PartnerFactory(name="Gold DE", tier=tier("Gold"), country="DE", assigned_to=rep)


@pytest.fixture
def skus(db):
    return products("P1", "P2", "P3")


# The portal's two partner organisations (Acme: Gold, assigned to ``rep``; Globex: Silver) and their people.
from tests.portal.conftest import acme, acme_admin, acme_member, globex, globex_admin  # noqa: E402, F401
