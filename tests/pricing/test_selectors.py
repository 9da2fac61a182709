"""Price resolution (pricing.selectors): scope order, priority, newest, validity, inactive rows, quantity breaks."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from pricing import selectors, services
from pricing.models import Source
from tests.factories import PartnerFactory, tier
from tests.pricing.conftest import book, products

pytestmark = pytest.mark.django_db


def price(partner, sku_ids, sku, quantity=1, on=None):
    found = selectors.price_for_partner(partner=partner, product_id=sku_ids[sku], quantity=quantity, on=on)
    return None if found is None else (found.unit_price, found.book_code)


def test_each_scope_level_wins_over_the_less_specific_ones(gold_de, skus):
    book("DEFAULT", is_default=True, prices={"P1": 100})
    assert price(gold_de, skus, "P1") == (Decimal("100"), "DEFAULT")
    book("COUNTRY", countries=["DE"], prices={"P1": 90})
    assert price(gold_de, skus, "P1") == (Decimal("90"), "COUNTRY")
    book("TIER", tier_names=["Gold"], prices={"P1": 80})
    assert price(gold_de, skus, "P1") == (Decimal("80"), "TIER")
    book("TIER-COUNTRY", tier_names=["Gold"], countries=["DE", "AT"], prices={"P1": 70})
    assert price(gold_de, skus, "P1") == (Decimal("70"), "TIER-COUNTRY")
    book("PARTNER", partner_codes=[gold_de.code], prices={"P1": 60})
    assert price(gold_de, skus, "P1") == (Decimal("60"), "PARTNER")
    assert selectors.price_for_partner(partner=gold_de, product_id=skus["P1"]).scope_label == "Partner"


def test_a_scope_that_does_not_match_is_ignored(gold_de, skus):
    other = PartnerFactory(tier=tier("Silver"), country="FR")
    book("DEFAULT", is_default=True, prices={"P1": 100})
    book("FR", countries=["FR"], prices={"P1": 1})
    book("SILVER", tier_names=["Silver"], prices={"P1": 2})
    book("GOLD-FR", tier_names=["Gold"], countries=["FR"], prices={"P1": 3})  # tier matches, country does not
    book("OTHER-PARTNER", partner_codes=[other.code], prices={"P1": 4})
    book("NO-SCOPE", prices={"P1": 5})  # not default, no scope: nobody
    assert price(gold_de, skus, "P1") == (Decimal("100"), "DEFAULT")
    assert price(other, skus, "P1") == (Decimal("4"), "OTHER-PARTNER")


def test_a_partner_without_tier_or_country_gets_the_default(skus):
    bare = PartnerFactory(tier=None, country="")
    book("DEFAULT", is_default=True, prices={"P1": 100})
    book("GOLD", tier_names=["Gold"], prices={"P1": 1})
    book("DE", countries=["DE"], prices={"P1": 2})
    assert price(bare, skus, "P1") == (Decimal("100"), "DEFAULT")


def test_priority_then_newest_within_a_scope(gold_de, skus):
    today = timezone.localdate()
    book("DE-OLD", countries=["DE"], valid_from=today - timedelta(days=100), prices={"P1": 10})
    book("DE-NEW", countries=["DE"], valid_from=today - timedelta(days=10), prices={"P1": 11})
    assert price(gold_de, skus, "P1") == (Decimal("11"), "DE-NEW")  # newest
    book("DE-ALWAYS", countries=["DE"], prices={"P1": 12})  # valid since always counts as oldest
    assert price(gold_de, skus, "P1") == (Decimal("11"), "DE-NEW")
    book("DE-PRIO", countries=["DE"], priority=5, valid_from=today - timedelta(days=1000), prices={"P1": 13})
    assert price(gold_de, skus, "P1") == (Decimal("13"), "DE-PRIO")  # priority before newest


def test_validity_dates(gold_de, skus):
    today = timezone.localdate()
    book("DEFAULT", is_default=True, prices={"P1": 100})
    book("EXPIRED", countries=["DE"], valid_to=today - timedelta(days=1), prices={"P1": 1})
    book("FUTURE", countries=["DE"], valid_from=today + timedelta(days=1), prices={"P1": 2})
    book("LAST-DAY", tier_names=["Gold"], valid_from=today - timedelta(days=5), valid_to=today, prices={"P1": 3})
    assert price(gold_de, skus, "P1") == (Decimal("3"), "LAST-DAY")
    assert price(gold_de, skus, "P1", on=today + timedelta(days=1)) == (Decimal("2"), "FUTURE")
    assert price(gold_de, skus, "P1", on=today - timedelta(days=6)) == (Decimal("1"), "EXPIRED")


def test_inactive_books_entries_and_products_do_not_price(gold_de, skus):
    book("DEFAULT", is_default=True, prices={"P1": 100, "P2": 50})
    book("OFF", countries=["DE"], active=False, prices={"P1": 1})
    assert price(gold_de, skus, "P1") == (Decimal("100"), "DEFAULT")
    tier_book = book("GOLD", tier_names=["Gold"], prices={"P1": 2})
    assert price(gold_de, skus, "P1") == (Decimal("2"), "GOLD")
    services.price_entries_deactivate(book=tier_book, keys=[("P1", 1)], source=Source.ADMIN)
    assert price(gold_de, skus, "P1") == (Decimal("100"), "DEFAULT")
    services.products_deactivate(skus=["P2"], source=Source.ADMIN)
    assert price(gold_de, skus, "P2") is None
    assert [p.sku for p in selectors.price_list_for_partner(partner=gold_de)] == ["P1"]


def test_the_largest_quantity_break_not_above_the_quantity(gold_de, skus):
    book("DEFAULT", is_default=True, prices={("P1", 1): 100, ("P1", 10): 90, ("P1", 100): 80})
    assert price(gold_de, skus, "P1", 1) == (Decimal("100"), "DEFAULT")
    assert price(gold_de, skus, "P1", 9) == (Decimal("100"), "DEFAULT")
    assert price(gold_de, skus, "P1", 10) == (Decimal("90"), "DEFAULT")
    assert price(gold_de, skus, "P1", 5000) == (Decimal("80"), "DEFAULT")


def test_a_book_without_a_fitting_entry_falls_through_to_the_next(gold_de, skus):
    book("DEFAULT", is_default=True, prices={"P1": 100, "P2": 200})
    book("PARTNER", partner_codes=[gold_de.code], prices={("P1", 50): 40})  # only from 50 units, only P1
    assert price(gold_de, skus, "P1", 10) == (Decimal("100"), "DEFAULT")
    assert price(gold_de, skus, "P1", 50) == (Decimal("40"), "PARTNER")
    assert price(gold_de, skus, "P2", 50) == (Decimal("200"), "DEFAULT")
    assert price(gold_de, skus, "P3") is None


def test_price_list_is_one_query_and_pages(gold_de, django_assert_num_queries):
    ids = products(*[f"S{n:03d}" for n in range(120)])
    book("DEFAULT", is_default=True, prices={sku: 10 + n for n, sku in enumerate(sorted(ids))})
    book("PARTNER", partner_codes=[gold_de.code], prices={"S005": 1})
    with django_assert_num_queries(1):  # the whole list, one statement
        rows = selectors.price_list_for_partner(partner=gold_de)
    assert len(rows) == 120 and {r.sku: r.unit_price for r in rows}["S005"] == Decimal("1")
    with django_assert_num_queries(1):  # a page with its total
        page = selectors.price_list_page(partner=gold_de, page=2, per_page=50)
    assert (page.total, page.pages, len(page.rows), page.rows[0].sku) == (120, 3, 50, "S050")
    with django_assert_num_queries(1):
        page = selectors.price_list_page(partner=gold_de, search="s11", per_page=50)
    assert [r.sku for r in page.rows] == [f"S11{n}" for n in range(10)]
    with django_assert_num_queries(3):  # past the end: the count, then the last page
        page = selectors.price_list_page(partner=gold_de, page=99, per_page=50)
    assert page.page == 3 and len(page.rows) == 20
    assert selectors.price_list_page(partner=gold_de, search="100%_\\").total == 0  # LIKE characters are literal


def test_prices_for_several_products_in_one_query(gold_de, skus, django_assert_num_queries):
    book("DEFAULT", is_default=True, prices={("P1", 1): 100, ("P1", 10): 90, "P2": 5})
    with django_assert_num_queries(1):
        found = selectors.prices_for_partner(partner=gold_de, lines=[(skus["P1"], 12), (skus["P2"], 1), (skus["P3"], 1)])
    assert {k: v.unit_price for k, v in found.items()} == {skus["P1"]: Decimal("90"), skus["P2"]: Decimal("5")}
