"""pricing.services: set-based upserts by natural key (what the CRM sync and the import call)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from pricing import services
from pricing.models import PriceBatch, PriceBook, PriceEntry, Product, Source
from tests.factories import PartnerFactory
from tests.pricing.conftest import book

pytestmark = pytest.mark.django_db


def test_products_upsert_counts_and_is_idempotent(django_assert_num_queries):
    rows = [{"sku": "A", "name": "Alpha", "description": "first"}, {"sku": "B", "name": "Beta"}]
    first = services.products_upsert(rows=rows, source=Source.CRM)
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    again = services.products_upsert(rows=rows, source=Source.CRM)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert again.ids == first.ids
    # Absent description / active are kept on an existing product.
    changed = services.products_upsert(rows=[{"sku": "A", "name": "Alpha 2"}], source=Source.CRM)
    assert (changed.created, changed.updated) == (0, 1)
    assert Product.objects.values_list("name", "description", "active").get(sku="A") == ("Alpha 2", "first", True)
    with django_assert_num_queries(3):  # savepoint, one statement for 500 rows (all new: no id lookup), release
        services.products_upsert(rows=[{"sku": f"X{n}", "name": "x"} for n in range(500)], source=Source.CRM)


def test_products_upsert_reports_bad_rows_by_index_and_writes_the_rest():
    result = services.products_upsert(
        rows=[{"sku": "", "name": "x"}, {"sku": "A", "name": "Alpha"}, {"sku": "A", "name": "again"},
              {"sku": "C" * 65, "name": "long"}, {"sku": "D", "name": "d", "active": "yes"}],
        source=Source.CRM)
    assert set(result.errors) == {0, 2, 3, 4}
    assert "sku" in result.errors[0] and "row 1" in result.errors[2] and "active" in result.errors[4]
    assert list(Product.objects.values_list("sku", flat=True)) == ["A"]


def test_products_deactivate_never_deletes():
    services.products_upsert(rows=[{"sku": "A", "name": "Alpha"}], source=Source.CRM)
    assert services.products_deactivate(skus=["A", "missing"], source=Source.CRM) == 1
    assert services.products_deactivate(skus=["A"], source=Source.CRM) == 0
    assert Product.objects.get(sku="A").active is False


def test_price_book_upsert_by_code_with_scope():
    partner = PartnerFactory()
    created, is_new = services.price_book_upsert(
        code="EU", name="Europe", currency="eur", countries=["de", " fr", ""], tier_names=["gold"],
        partner_codes=[partner.code], source=Source.CRM)
    assert is_new and created.currency == "EUR" and created.countries == ["DE", "FR"]
    assert [t.name for t in created.tiers.all()] == ["Gold"] and list(created.partners.all()) == [partner]
    again, is_new = services.price_book_upsert(code="EU", name="Europe 2", currency="EUR", source=Source.CRM)
    assert not is_new and again.pk == created.pk and again.countries == ["DE", "FR"]  # None leaves the scope
    assert again.tiers.count() == 1


@pytest.mark.parametrize(("fields", "field"), [
    ({"tier_names": ["Tin"]}, "tiers"),
    ({"partner_codes": ["nobody"]}, "partners"),
    ({"currency": "EURO"}, "currency"),
    ({"countries": ["DEU"]}, "countries"),
])
def test_price_book_upsert_names_the_bad_field_and_writes_nothing(fields, field):
    with pytest.raises(ValidationError) as error:
        services.price_book_upsert(**{"code": "B", "name": "B", "currency": "EUR", "source": Source.CRM, **fields})
    assert field in error.value.message_dict
    assert not PriceBook.objects.exists()


def test_price_book_dates_must_be_in_order():
    from datetime import date
    with pytest.raises(ValidationError):
        services.price_book_upsert(code="B", name="B", currency="EUR", source=Source.CRM, valid_from=date(2026, 2, 1),
                                   valid_to=date(2026, 1, 1))


def test_entries_upsert_idempotent_errors_and_deactivate_missing(django_assert_num_queries):
    services.products_upsert(rows=[{"sku": s, "name": s} for s in ("A", "B", "C")], source=Source.CRM)
    target = book("LIST", is_default=True)
    batch = services.price_batch_create(source=Source.CRM, label="sync run")
    rows = [{"sku": "A", "unit_price": "10.50"}, {"sku": "A", "unit_price": 9, "min_quantity": 10},
            {"sku": "B", "unit_price": Decimal("5")}]
    result = services.price_entries_upsert(book=target, rows=rows, source=Source.CRM, batch=batch)
    assert (result.created, result.updated, result.unchanged, result.errors) == (3, 0, 0, {})
    assert set(result.ids) == {("A", 1), ("A", 10), ("B", 1)}
    with django_assert_num_queries(5):  # savepoint, SKUs, the upsert, the ids of the unchanged rows, release
        again = services.price_entries_upsert(book=target, rows=rows, source=Source.CRM)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    bad = services.price_entries_upsert(book=target, rows=[
        {"sku": "Z", "unit_price": 1}, {"sku": "A", "unit_price": "-1"}, {"sku": "A", "unit_price": "1.00001"},
        {"sku": "A", "unit_price": 1, "min_quantity": 0}, {"sku": "C", "unit_price": 3},
        {"sku": "C", "unit_price": 4}], source=Source.CRM)
    assert bad.created == 1 and set(bad.errors) == {0, 1, 2, 3, 5}
    assert "unit_price" in bad.errors[1] and "min_quantity" in bad.errors[3] and "row 4" in bad.errors[5]
    # A full copy of the remote book: what is not in it is deactivated, never deleted.
    full = services.price_entries_upsert(book=target, rows=[{"sku": "A", "unit_price": "11"}], source=Source.CRM,
                                         deactivate_missing=True)
    assert (full.created, full.updated) == (0, 1 + 3)  # A changed; A×10, B, C deactivated
    assert PriceEntry.objects.count() == 4
    assert list(PriceEntry.objects.filter(active=True).values_list("product__sku", "unit_price")) == [
        ("A", Decimal("11"))]
    assert PriceEntry.objects.filter(batch=batch).count() == 0  # the later writes took over the provenance
    # Reactivated by the next upsert that sends it.
    services.price_entries_upsert(book=target, rows=[{"sku": "B", "unit_price": "5"}], source=Source.CRM)
    assert PriceEntry.objects.get(product__sku="B").active


def test_batches_record_counts():
    batch = services.price_batch_create(source=Source.UPLOAD, label="f.csv", rows_total=3)
    services.price_batch_finish(batch=batch, created=1, updated=1, unchanged=1)
    assert PriceBatch.objects.values_list("status", "rows_created").get() == ("done", 1)
    with pytest.raises(ValueError, match="source"):
        services.products_upsert(rows=[], source="elsewhere")
