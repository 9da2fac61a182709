"""Products, price books and price entries pulled from the local Salesforce (Product2, Pricebook2, PricebookEntry)
through the real connector, written through pricing.services."""

from decimal import Decimal

from integrations.models import Connection, ExternalRef, SyncCursor, SyncLog
from integrations.services import connection_pull, connection_resync
from integrations.sync import PRODUCT, Context, Counts, pull_page_commit
from pricing.models import PriceBook, PriceEntry, Product, Source
from tests.integrations.fake_salesforce import PAGE_SIZE


def _catalogue(fake_sf, count):
    """``count`` products, the standard book with a price for each, and a partner book pricing the first 10."""
    fake_sf.bulk_load("Product2", [{"Name": f"Product {i}", "ProductCode": f"SKU-{i:05d}", "Description": f"About {i}",
                                    "IsActive": True} for i in range(count)])
    standard = fake_sf.put("Pricebook2", Name="Standard Price Book", IsActive=True, IsStandard=True)
    partner = fake_sf.put("Pricebook2", Name="Partner prices", IsActive=True, IsStandard=False)
    products = list(fake_sf.records["Product2"])
    fake_sf.bulk_load("PricebookEntry", [{"Pricebook2Id": standard, "Product2Id": pid, "UnitPrice": 100 + i,
                                          "IsActive": True} for i, pid in enumerate(products)])
    fake_sf.bulk_load("PricebookEntry", [{"Pricebook2Id": partner, "Product2Id": pid, "UnitPrice": 80.5,
                                          "IsActive": True} for pid in products[:10]])
    return standard, partner, products


def _entry_id(fake_sf, book, product):
    return next(rid for rid, r in fake_sf.records["PricebookEntry"].items()
                if r["Pricebook2Id"] == book and r["Product2Id"] == product)


def test_initial_pull_pages_and_creates_products_books_and_entries_once(sf_connection, fake_sf):
    standard, partner, products = _catalogue(fake_sf, 2100)
    run = connection_pull(connection_id=sf_connection.pk).run
    assert (run.status, run.errors, run.message) == ("ok", 0, "")
    # Product2: 2 pages, Pricebook2: 1, PricebookEntry: 2 (2,110 rows); no Account changed (empty page not counted).
    assert run.pages == 5 and PAGE_SIZE == 2000
    assert run.received == 2100 + 2 + 2110 and run.created == 2100 + 2 + 2110
    assert Product.objects.count() == 2100 and PriceEntry.objects.count() == 2110
    product = Product.objects.get(sku="SKU-00007")
    assert (product.name, product.description, product.active, product.source) == (
        "Product 7", "About 7", True, Source.CRM)
    books = {b.name: b for b in PriceBook.objects.all()}
    assert books["Standard Price Book"].is_default and not books["Partner prices"].is_default
    assert books["Partner prices"].code == f"SF-{partner}" and books["Partner prices"].currency == "EUR"
    entry = PriceEntry.objects.get(book=books["Partner prices"], product=product)
    assert entry.unit_price == Decimal("80.5") and entry.min_quantity == 1 and entry.active
    assert PriceEntry.objects.get(book=books["Standard Price Book"], product=product).unit_price == 107
    assert ExternalRef.objects.filter(object="product").count() == 2100
    assert ExternalRef.objects.get(object="price_entry", remote_id=_entry_id(fake_sf, partner, products[7])
                                   ).local_id == entry.pk
    assert set(SyncCursor.objects.values_list("object", flat=True)) == {"product", "price_book", "price_entry"}
    # A second run: nothing new, nothing written.
    again = connection_pull(connection_id=sf_connection.pk).run
    assert (again.received, again.created, again.updated, again.pages) == (0, 0, 0, 0)


def test_changes_are_pulled_and_unchanged_values_not_rewritten(sf_connection, fake_sf):
    standard, partner, products = _catalogue(fake_sf, 20)
    connection_pull(connection_id=sf_connection.pk)
    fake_sf.put("Product2", products[3], Name="Renamed 3", ProductCode="NEW-CODE")  # the SKU is kept (our key)
    fake_sf.put("PricebookEntry", _entry_id(fake_sf, partner, products[4]), UnitPrice=70)
    fake_sf.put("Pricebook2", partner, Name="Partner prices 2027")
    run = connection_pull(connection_id=sf_connection.pk).run
    assert (run.received, run.updated, run.created, run.errors) == (3, 3, 0, 0)
    renamed = Product.objects.get(name="Renamed 3")
    assert renamed.sku == "SKU-00003" and not Product.objects.filter(sku="NEW-CODE").exists()
    book = PriceBook.objects.get(code=f"SF-{partner}")
    assert book.name == "Partner prices 2027"
    assert PriceEntry.objects.get(book=book, product__sku="SKU-00004").unit_price == 70
    # Read everything again: nothing differs, nothing is written.
    before = dict(Product.objects.values_list("pk", "updated_at"))
    connection_resync(connection=sf_connection)
    run = connection_pull(connection_id=sf_connection.pk).run
    assert run.received == 20 + 2 + 30 and (run.created, run.updated, run.skipped) == (0, 0, 52)
    assert dict(Product.objects.values_list("pk", "updated_at")) == before


def test_resume_after_crash_mid_products(sf_connection, fake_sf):
    fake_sf.bulk_load("Product2", [{"Name": f"P {i}", "ProductCode": f"C{i}", "IsActive": True} for i in range(4100)])
    original = fake_sf._page

    def crash_on_second(locator, offset):
        if offset == 2000:
            raise ConnectionResetError("worker lost")
        return original(locator, offset)

    fake_sf._page = crash_on_second
    run = connection_pull(connection_id=sf_connection.pk).run
    assert run.status == "failed" and Product.objects.count() == 2000
    fake_sf._page = original
    Connection.objects.filter(pk=sf_connection.pk).update(next_attempt_at=None)
    run = connection_pull(connection_id=sf_connection.pk).run
    assert (run.status, run.received, run.created) == ("ok", 2100, 2100)
    assert Product.objects.count() == 4100 and ExternalRef.objects.filter(object="product").count() == 4100


def test_deleted_records_deactivate_product_entry_and_book(sf_connection, fake_sf):
    standard, partner, products = _catalogue(fake_sf, 5)
    connection_pull(connection_id=sf_connection.pk)
    fake_sf.delete("Product2", products[0])
    fake_sf.delete("PricebookEntry", _entry_id(fake_sf, standard, products[1]))
    fake_sf.delete("Pricebook2", partner)
    run = connection_pull(connection_id=sf_connection.pk).run
    assert (run.status, run.received, run.updated, run.errors) == ("ok", 3, 3, 0)
    assert not Product.objects.get(sku="SKU-00000").active  # kept (deals point at it), inactive
    book = PriceBook.objects.get(is_default=True)
    assert not PriceEntry.objects.get(book=book, product__sku="SKU-00001").active
    assert PriceEntry.objects.filter(book=book, active=True).count() == 4
    assert not PriceBook.objects.get(code=f"SF-{partner}").active
    assert ExternalRef.objects.filter(deleted_remotely=True).count() == 3
    # Seen again (resync): nothing more happens.
    connection_resync(connection=sf_connection)
    again = connection_pull(connection_id=sf_connection.pk).run
    assert (again.updated, again.created, again.errors) == (0, 0, 0)


def test_existing_product_of_that_sku_is_linked_not_duplicated(sf_connection, fake_sf):
    from pricing.services import products_upsert

    products_upsert(rows=[{"sku": "SKU-1", "name": "Ours"}], source=Source.ADMIN)
    fake_sf.put("Product2", Name="Theirs", ProductCode="SKU-1", IsActive=True)
    twin = fake_sf.put("Product2", Name="Twin", ProductCode="SKU-1", IsActive=True)
    run = connection_pull(connection_id=sf_connection.pk).run
    assert Product.objects.count() == 1 and Product.objects.get().name == "Theirs"
    assert run.errors == 1 and SyncLog.objects.get(run=run).record == twin


def test_bad_records_go_to_the_log_and_the_rest_is_written(sf_connection, fake_sf):
    standard, partner, products = _catalogue(fake_sf, 3)
    long_name = fake_sf.put("Product2", Name="x" * 250, ProductCode="LONG", IsActive=True)  # Product.name: 200
    orphan = fake_sf.put("PricebookEntry", Pricebook2Id=standard, Product2Id="01t000000000999", UnitPrice=5,
                         IsActive=True)
    negative = fake_sf.put("PricebookEntry", Pricebook2Id=partner, Product2Id=products[2], UnitPrice=-1,
                           IsActive=True)
    fake_sf.put("PricebookEntry", _entry_id(fake_sf, partner, products[1]), UnitPrice="abc")
    run = connection_pull(connection_id=sf_connection.pk).run
    assert run.status == "ok"
    logs = {log.record: log for log in SyncLog.objects.filter(run=run)}
    assert logs[long_name].error_code == "INVALID_VALUE" and "name" in logs[long_name].message
    assert logs[orphan].error_code == "UNKNOWN_REFERENCE" and "Product2Id" in logs[orphan].message
    assert logs[negative].error_code == "INVALID_VALUE" and "unit_price" in logs[negative].message
    assert run.errors == 4 and len(logs) == 4
    assert Product.objects.count() == 3 and PriceEntry.objects.count() == 3 + 2  # the good ones written


def test_an_object_the_org_refuses_is_logged_and_the_others_sync(sf_connection, fake_sf):
    fake_sf.put("Account", Name="Still synced")
    del fake_sf.records["Product2"]  # describe and query answer 404: no access to products
    run = connection_pull(connection_id=sf_connection.pk).run
    assert run.status == "ok" and run.created == 1
    log = SyncLog.objects.get(run=run, object="product")
    assert log.error_code == "NOT_FOUND" and "Product2" in log.message


def test_missing_column_skips_the_object(sf_connection, fake_sf):
    del fake_sf.schemas["Product2"]["ProductCode"]
    fake_sf.put("Product2", Name="Unread", IsActive=True)
    run = connection_pull(connection_id=sf_connection.pk).run
    assert run.status == "ok" and not Product.objects.exists()
    assert SyncLog.objects.get(run=run).error_code == "INVALID_FIELD"


def test_a_page_costs_a_constant_number_of_queries(sf_connection, fake_sf, django_assert_num_queries):
    ctx = Context(connection=sf_connection, run=None, spec=PRODUCT, mappings=[])

    def page(count, offset):
        return [{"Id": f"01t{offset + i:015d}", "LastModifiedDate": "2026-01-01T00:00:00.000+0000", "IsDeleted": False,
                 "Name": f"P {i}", "ProductCode": f"C{offset + i}", "Description": "", "IsActive": True}
                for i in range(count)]

    pull_page_commit(ctx, page(5, 0), Counts())  # warm up (content types, savepoint names)
    for count, offset in ((10, 100), (400, 1000)):
        # SAVEPOINT + RELEASE (the page's transaction) = 2; ExternalRefs of the page = 1; products of those SKUs
        # already in PRM = 1; products_upsert: SAVEPOINT, the INSERT … ON CONFLICT, RELEASE = 3; ExternalRefs upsert
        # = 1; the cursor's update_or_create: SAVEPOINT, SELECT FOR UPDATE, UPDATE, RELEASE = 4. Not queried: the
        # linked SKUs and their refs (none linked yet), the SyncLog insert (no errors).
        with django_assert_num_queries(12):
            pull_page_commit(ctx, page(count, offset), Counts())
    assert Product.objects.count() == 415
