"""Demo price books (devtools.demo_pricing) and the benchmark's generator (devtools.bench_pricing)."""

import pytest

from devtools import bench_pricing
from devtools.demo_pricing import pricing_seed
from partners.models import Partner
from pricing.models import PriceBook, Product
from pricing.selectors import price_list_for_partner
from tests.factories import PartnerFactory, tier

pytestmark = pytest.mark.django_db


def test_demo_seed_once_with_every_scope():
    partners = [PartnerFactory(tier=tier(name), country="") for name in ("Platinum", "Gold", "Silver")]
    assert pricing_seed() > 0
    assert pricing_seed() == 0  # once
    assert not Partner.objects.filter(country="").exists()
    assert Product.objects.count() == 40 and PriceBook.objects.count() == 8
    scopes = {p.scope for partner in partners for p in price_list_for_partner(partner=partner)}
    assert 5 in scopes and 1 in scopes  # the key account (first partner) and the list prices


def test_bench_generator_writes_books_of_every_scope():
    partner = PartnerFactory(tier=tier("Gold"), country="DE")
    for _ in range(30):
        PartnerFactory()
    entries = bench_pricing.generate(products=60, partner=partner)
    assert entries > 60 and PriceBook.objects.count() >= 25
    prices = price_list_for_partner(partner=partner)
    assert len(prices) == 60 and {p.scope for p in prices} == {5}  # with 60 products its partner books price all
    codes = set(PriceBook.objects.values_list("code", flat=True))
    assert {"BENCH-DEFAULT", "BENCH-C-DE", "BENCH-T-Gold", "BENCH-TC-Gold-DE", "BENCH-P-2", "BENCH-OLD-0"} <= codes
