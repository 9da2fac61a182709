"""The price upload (pricing.imports): the achievements' machinery and guarantees — every error named by row and
column, nothing written unless every row is good, a re-upload idempotent — through the service, the command and the
admin's preview → confirm."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from pricing.imports import import_prices
from pricing.models import PriceBatch, PriceEntry
from tests.pricing.conftest import book, products

pytestmark = pytest.mark.django_db

HEADER = "price_book,sku,unit_price,min_quantity,currency\n"


@pytest.fixture
def catalogue(db):
    products("A", "B", "C")
    book("LIST", is_default=True)
    book("USD", currency="USD", countries=["US"])


def run(text, *, dry_run=False, name="prices.csv"):
    return import_prices(file=io.BytesIO(text.encode()), file_name=name, dry_run=dry_run)


def entries():
    return sorted(PriceEntry.objects.values_list("book__code", "product__sku", "min_quantity", "unit_price", "active"))


def test_import_writes_and_a_reupload_changes_nothing(catalogue):
    text = HEADER + "LIST,A,10.50,1,EUR\nLIST,A,9,10,\nUSD,B,12,,usd\n"
    result = run(text)
    assert result.ok, result.errors
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    assert entries() == [("LIST", "A", 1, Decimal("10.5"), True), ("LIST", "A", 10, Decimal("9"), True),
                         ("USD", "B", 1, Decimal("12"), True)]
    assert result.batch.status == "done" and result.batch.rows_created == 3
    again = run(text)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    changed = run(HEADER + "LIST,A,11,1,EUR\n")
    assert (changed.created, changed.updated) == (0, 1)


def test_optional_columns_may_be_left_out(catalogue):
    result = run("sku,price_book,unit_price\nC,LIST,3\n")
    assert result.ok and entries() == [("LIST", "C", 1, Decimal("3"), True)]


def test_every_error_names_row_and_column_and_nothing_is_written(catalogue):
    text = HEADER + (
        "LIST,A,10,1,EUR\n"  # row 2: fine
        "NOPE,A,1,1,\n"  # row 3: unknown book
        "LIST,ZZZ,1,1,\n"  # row 4: unknown SKU
        "LIST,B,-1,1,\n"  # row 5: negative price
        "LIST,B,abc,1,\n"  # row 6: not a number
        "LIST,B,1,0,\n"  # row 7: quantity 0
        "LIST,B,1,1,USD\n"  # row 8: not the book's currency
        "LIST,A,12,1,\n"  # row 9: duplicate of row 2
        ",B,1,1,\n"  # row 10: no book
        "LIST,B,1.00001,1,\n"  # row 11: too many decimals
    )
    result = run(text)
    assert not result.ok
    found = [(e.row, e.column) for e in result.errors]
    assert found == [(3, "price_book"), (4, "sku"), (5, "unit_price"), (6, "unit_price"), (7, "min_quantity"),
                     (8, "currency"), (9, "price_book, sku, min_quantity"), (10, "price_book"), (11, "unit_price")]
    assert "duplicate of row 2" in str(result.errors[6])
    assert str(result.errors[0]).startswith("Row 3, column price_book: no price book has the code 'NOPE'")
    assert entries() == []  # the good row 2 was not written either
    assert PriceBatch.objects.get().status == "failed"  # the failed upload is recorded with its errors
    assert len(PriceBatch.objects.get().errors) == 9


@pytest.mark.parametrize(("text", "message"), [
    ("", "The file is empty."),
    ("price_book,sku\n", "missing column(s): unit_price"),
    (HEADER.strip() + ",extra\n", "unexpected column(s): extra"),
    (HEADER, "no data rows"),
    (HEADER + "LIST,A,1,1,EUR,surplus\n", "cells but the header has"),
    (HEADER + "LIST,A\x01,1,1,EUR\n", "control character U+0001"),
])
def test_bad_files_get_a_clear_error(catalogue, text, message):
    result = run(text)
    assert not result.ok and message in str(result.errors[0])
    assert entries() == []


def test_a_bad_header_names_the_columns(catalogue):
    error = run("price_book,sku,price\n").errors[0]
    assert (error.row, error.column) == (1, "unit_price, price")


def test_not_utf8_is_reported_not_raised(catalogue):
    result = import_prices(file=io.BytesIO(HEADER.encode() + b"LIST,\xff,1,1,\n"), file_name="p.csv", dry_run=True)
    assert not result.ok and "not UTF-8" in str(result.errors[0])


def test_dry_run_counts_and_writes_nothing(catalogue):
    run(HEADER + "LIST,A,10,1,\n")
    result = run(HEADER + "LIST,A,10,1,\nLIST,A,11,5,\nLIST,B,2,1,\n", dry_run=True)
    assert (result.created, result.updated, result.unchanged) == (2, 0, 1)
    assert [p.status for p in result.preview] == ["unchanged", "new", "new"]
    assert len(entries()) == 1 and PriceBatch.objects.count() == 1


def test_the_import_reactivates_a_deactivated_entry(catalogue):
    run(HEADER + "LIST,A,10,1,\n")
    PriceEntry.objects.update(active=False)
    result = run(HEADER + "LIST,A,10,1,\n")
    assert result.updated == 1 and entries()[0][-1] is True


def test_command(catalogue, tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text(HEADER + "LIST,A,10,1,\n")
    out = io.StringIO()
    call_command("import_prices", str(path), "--dry-run", stdout=out)
    assert "Dry run" in out.getvalue() and entries() == []
    call_command("import_prices", str(path), stdout=out)
    assert "1 new" in out.getvalue() and len(entries()) == 1
    path.write_text(HEADER + "LIST,ZZZ,10,1,\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_prices", str(path), stdout=out, stderr=err)
    assert "Row 2, column sku" in err.getvalue()
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_prices", str(tmp_path / "missing.csv"))


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_admin_upload_preview_then_confirm(catalogue, manager_client, media):
    url = reverse("admin:pricing_priceentry_import")
    file = SimpleUploadedFile("p.csv", (HEADER + "LIST,A,10,1,\nLIST,B,<b>5</b>,1,\n").encode(), "text/csv")
    page = manager_client.post(url, {"import_file": file, "format": "0", "resource": "0"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "Row 3, column unit_price" in body and "&lt;b&gt;5&lt;/b&gt;" in body and "confirm-import" not in body
    assert "<th>price_book</th>" in body
    file = SimpleUploadedFile("p.csv", (HEADER + "LIST,A,10,1,\n").encode(), "text/csv")
    page = manager_client.post(url, {"import_file": file, "format": "0", "resource": "0"})
    assert "confirm-import" in page.content.decode() and entries() == []
    token = page.context["confirm_form"].initial["token"]
    done = manager_client.post(reverse("admin:pricing_priceentry_process_import"), {"token": token})
    assert done.status_code == 302 and len(entries()) == 1
    again = manager_client.post(reverse("admin:pricing_priceentry_process_import"), {"token": token})
    assert again.status_code == 302 and len(entries()) == 1  # the stored file is gone: nothing imported twice


def test_reps_cannot_upload(catalogue, rep_client, media):
    assert rep_client.get(reverse("admin:pricing_priceentry_import")).status_code == 403


def test_xlsx(catalogue):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["price_book", "sku", "unit_price", "min_quantity"])
    sheet.append(["LIST", "A", 10.25, 5])
    data = io.BytesIO()
    workbook.save(data)
    data.seek(0)
    result = import_prices(file=data, file_name="prices.xlsx", dry_run=False)
    assert result.ok, result.errors
    assert entries() == [("LIST", "A", 5, Decimal("10.25"), True)]
