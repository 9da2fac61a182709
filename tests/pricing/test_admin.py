"""The pricing admin: saves go through pricing.services (validated, provenance "admin"); nothing can be deleted."""

import pytest
from django.urls import reverse

from pricing.models import PriceBook, PriceEntry, Product
from tests.factories import PartnerFactory, tier
from tests.pricing.conftest import book, products

pytestmark = pytest.mark.django_db


def test_manager_adds_a_product_and_a_scoped_book(manager_client):
    response = manager_client.post(reverse("admin:pricing_product_add"),
                                   {"sku": "NEW-1", "name": "New", "description": "", "active": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Product.objects.get().source == "admin"
    partner = PartnerFactory()
    response = manager_client.post(reverse("admin:pricing_pricebook_add"), {
        "code": "DE-GOLD", "name": "Germany gold", "currency": "eur", "priority": "1", "active": "on",
        "countries": "de,at", "tiers": [tier("Gold").pk], "partners": str(partner.pk),
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    created = PriceBook.objects.get()
    assert (created.currency, created.countries) == ("EUR", ["AT", "DE"])
    assert list(created.tiers.values_list("name", flat=True)) == ["Gold"] and list(created.partners.all()) == [partner]


def test_bad_values_are_form_errors(manager_client):
    response = manager_client.post(reverse("admin:pricing_pricebook_add"), {
        "code": "X", "name": "X", "currency": "EU", "priority": "0", "countries": "DEU"})
    assert response.status_code == 200 and not PriceBook.objects.exists()


def test_entry_changelist_and_no_delete(manager_client, django_assert_max_num_queries):
    products(*[f"S{n}" for n in range(60)])
    book("LIST", is_default=True, prices={f"S{n}": n + 1 for n in range(60)})
    with django_assert_max_num_queries(12):  # constant: the rows come with their book and product
        assert manager_client.get(reverse("admin:pricing_priceentry_changelist")).status_code == 200
    entry = PriceEntry.objects.first()
    assert manager_client.get(reverse("admin:pricing_priceentry_delete", args=[entry.pk])).status_code == 403
    assert manager_client.get(reverse("admin:pricing_priceentry_export")).status_code == 200


def test_reps_have_no_pricing_admin(rep_client):
    assert rep_client.get(reverse("admin:pricing_product_add")).status_code in (302, 403)
