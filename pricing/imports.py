"""CSV/XLSX import of price book entries: columns ``price_book,sku,unit_price,min_quantity,currency`` (the last two
optional; ``min_quantity`` defaults to 1, ``currency``, when given, must be the book's).

The achievements' import machinery, reused rather than copied: the same reader (``business.imports.reading``: CSV
UTF-8 with or without BOM, or XLSX, streamed; a broken file named by row), the same result types and messages
(``ImportResult``, ``RowError`` naming row and column, ``PreviewRow``), the same size limit, the same stored uploads and
admin pages (``business.admin_views.ServiceImportMixin``: preview → signed confirm). The same guarantees: every row is
validated first (unknown books and SKUs, bad prices and quantities, a currency that is not the book's, a key given
twice) and nothing is written unless all are good; then one transaction, under an advisory lock, writes every entry
with one upsert (``pricing.services.entries_write``) and records a ``PriceBatch``; a re-upload changes nothing. A
failed real run records only a failed ``PriceBatch`` with its first errors.

Rows are held in memory while validated (a price list is thousands of rows, not millions; the file size is capped by
IMPORT_MAX_BYTES).
"""

from collections.abc import Iterator
from decimal import Decimal
from typing import BinaryIO

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import DatabaseError, connection, transaction

from business.imports import (
    FORMATS,
    MAX_ERRORS,
    PREVIEW_ROWS,
    ImportResult,
    PreviewRow,
    RowError,
    format_for,
    too_large_message,
)
from business.imports.reading import read_rows
from business.imports.results import FileError, preview_cell, shown
from pricing.models import PriceBook, PriceEntry, Product, Source
from pricing.services import entries_write, parse_price, parse_quantity, price_batch_create, price_batch_finish
from prm import pg

KIND = "prices"
COLUMNS = ("price_book", "sku", "unit_price", "min_quantity", "currency")
REQUIRED = ("price_book", "sku", "unit_price")
LOCK = "pricing.import"


class _HeaderError(FileError):
    """A header that is not this import's (its column is the names that are missing, unexpected or doubled)."""


class _Errors:
    """Errors into ``result`` (capped at MAX_ERRORS, counted beyond) and onto the rows' previews."""

    def __init__(self, result: ImportResult):
        self.result = result
        self.previews: dict[int, PreviewRow] = {}

    def add(self, row: int | None, column: str, message: str, cells: tuple[str, ...] | None = None) -> None:
        self.result.error_count += 1
        if len(self.result.errors) >= MAX_ERRORS:
            return
        error = RowError(row, column, message)
        self.result.errors.append(error)
        if row:
            preview = self.previews.get(row)
            if preview is None:
                preview = self.previews[row] = PreviewRow(row, tuple(preview_cell(c) for c in cells or ("",) * 5))
            preview.status = "error"
            preview.errors.append(str(error))


def import_prices(
    *, file: BinaryIO, file_name: str, user: AbstractBaseUser | None = None, dry_run: bool,
    file_format: str | None = None,
) -> ImportResult:
    """Validate, then (unless ``dry_run``) upsert all price entries of ``file``. Returns an ``ImportResult`` (kind
    "prices"); nothing is written unless ``result.ok`` and not ``dry_run``."""
    file_format = file_format or format_for(file_name)
    if file_format not in FORMATS:
        raise ValueError(f"file_format must be one of {', '.join(FORMATS)}, not {file_format!r}")
    result = ImportResult(kind=KIND, file_name=file_name, dry_run=dry_run)
    size = getattr(file, "size", None)
    if size is None:
        position = file.tell()
        size = file.seek(0, 2)
        file.seek(position)
    if size > settings.IMPORT_MAX_BYTES:
        result.error_count = 1
        result.errors.append(RowError(None, "", too_large_message(size)))
        return result
    errors = _Errors(result)
    try:
        with transaction.atomic():
            good = _validate(iter(()) if size == 0 else read_rows(file, file_format), errors)
            if dry_run:
                _compare(good, errors)
            elif result.ok:
                pg.advisory_xact_lock(LOCK)
                batch = price_batch_create(source=Source.UPLOAD, label=file_name, by=user, rows_total=result.rows_total)
                created, updated, _ids = entries_write(
                    rows=[(b, p, price, q, True) for _row, _cells, (b, p, q), price in good], source=Source.UPLOAD,
                    batch=batch, with_ids=False,
                )
                result.created, result.updated = created, updated
                result.unchanged = len(good) - created - updated
                price_batch_finish(batch=batch, created=created, updated=updated, unchanged=result.unchanged)
                result.batch = batch
    except DatabaseError as e:
        result.error_count += 1
        result.errors.append(RowError(None, "", f"The upload could not be {'checked' if dry_run else 'written'}: {e}"))
        result.batch = None
    result.errors.sort(key=lambda e: (e.row or 0, COLUMNS.index(e.column) if e.column in COLUMNS else len(COLUMNS)))
    result.preview = [errors.previews[r] for r in sorted(errors.previews)]
    if not dry_run and not result.ok:
        batch = price_batch_create(source=Source.UPLOAD, label=file_name, by=user, rows_total=result.rows_total)
        price_batch_finish(batch=batch, created=0, updated=0, unchanged=0,
                           errors=["".join("?" if c == "\x00" else c for c in str(e)) for e in result.errors[:100]])
        result.batch = batch
    return result


Good = list[tuple[int, tuple[str, ...], tuple[int, int, int], Decimal]]


def _validate(rows: Iterator[tuple[int, list[str]]], errors: _Errors) -> Good:
    """Every check; returns the valid rows as ``(row, cells, (book_id, product_id, min_quantity), price)``."""
    result = errors.result
    parsed: list[tuple[int, tuple[str, ...], str, str, Decimal, int, str]] = []
    try:
        header = next(rows, None)
        if header is None:
            raise FileError("The file is empty.")
        order = _header(header[1])
        width = len(header[1])
        for row_no, cells in rows:
            if len(cells) > width and any(c.strip() for c in cells[width:]):
                result.rows_total += 1
                errors.add(row_no, "", f"the row has {len(cells)} cells but the header has {width}")
                continue
            cells = [*cells, *[""] * (width - len(cells))]
            values = tuple(cells[i].strip() if i is not None else "" for i in order)
            if not any(values):
                continue
            result.rows_total += 1
            row = _row(row_no, values, errors)
            if row is not None:
                parsed.append(row)
    except _HeaderError as e:
        errors.add(e.error.row, e.error.column, e.error.message)
        return []
    except FileError as e:  # the reader names the achievements' columns: keep the row only
        errors.add(e.error.row, e.error.column if e.error.column in COLUMNS else "", e.error.message)
        return []
    if result.rows_total == 0 and result.ok:
        errors.add(None, "", "The file has no data rows (only a header).")
    books = {b.code: b for b in PriceBook.objects.filter(code__in={p[2] for p in parsed})}
    products = dict(Product.objects.filter(sku__in={p[3] for p in parsed}).values_list("sku", "pk"))
    good: Good = []
    first: dict[tuple[int, int, int], int] = {}
    for row_no, values, code, sku, price, quantity, currency in parsed:
        book = books.get(code)
        ok = True
        if book is None:
            errors.add(row_no, "price_book", f"no price book has the code {shown(code)}", values)
            ok = False
        if sku not in products:
            errors.add(row_no, "sku", f"no product has the SKU {shown(sku)}", values)
            ok = False
        if book is not None and currency and currency != book.currency:
            errors.add(row_no, "currency", f"{shown(currency)} is not the currency of {book.code} ({book.currency})",
                       values)
            ok = False
        if not ok:
            continue
        key = (book.pk, products[sku], quantity)
        if key in first:
            errors.add(row_no, "price_book, sku, min_quantity",
                       f"duplicate of row {first[key]}: rows {first[key]} and {row_no} have the same price book, SKU "
                       "and minimum quantity", values)
            continue
        first[key] = row_no
        good.append((row_no, values, key, price))
        if row_no <= PREVIEW_ROWS + 1 and row_no not in errors.previews:
            errors.previews[row_no] = PreviewRow(row_no, tuple(preview_cell(c) for c in values), status="ok")
    return good


def _header(cells: list[str]) -> list[int | None]:
    names = [c.strip().lower() for c in cells]
    while names and not names[-1]:
        names.pop()
    missing = [c for c in REQUIRED if c not in names]
    extra = [n or "(blank)" for n in names if n not in COLUMNS]
    doubled = sorted({n for n in names if n in COLUMNS and names.count(n) > 1})
    problems = []
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    if extra:
        problems.append(f"unexpected column(s): {', '.join(shown(e) if not e.isprintable() else e for e in extra)}")
    if doubled:
        problems.append(f"column(s) given twice: {', '.join(doubled)}")
    if problems:
        raise _HeaderError(
            f"the header must be {','.join(COLUMNS)} (min_quantity and currency optional); {'; '.join(problems)}.",
            row=1, column=", ".join([*missing, *extra, *doubled]),
        )
    return [names.index(c) if c in names else None for c in COLUMNS]


def _row(row_no: int, values: tuple[str, ...], errors: _Errors):
    code, sku, price_text, quantity_text, currency = values
    ok = True
    for column, text in zip(COLUMNS, values, strict=True):
        bad = next((ch for ch in text if ord(ch) < 32 or 127 <= ord(ch) < 160 or "\ud800" <= ch <= "\udfff"), None)
        if bad is not None:
            errors.add(row_no, column, f"contains the control character U+{ord(bad):04X}; remove it", values)
            ok = False
    if not ok:
        return None
    if not code:
        errors.add(row_no, "price_book", "a price book code is required", values)
        ok = False
    if not sku:
        errors.add(row_no, "sku", "a SKU is required", values)
        ok = False
    elif len(sku) > 64:
        errors.add(row_no, "sku", f"{shown(sku)} is longer than 64 characters", values)
        ok = False
    price = parse_price(price_text)
    if isinstance(price, str):
        errors.add(row_no, "unit_price", price.removeprefix("unit_price: "), values)
        ok = False
    quantity = parse_quantity(quantity_text)
    if isinstance(quantity, str):
        errors.add(row_no, "min_quantity", quantity.removeprefix("min_quantity: "), values)
        ok = False
    currency = currency.upper()
    if currency and (len(currency) != 3 or not currency.isascii() or not currency.isalpha()):
        errors.add(row_no, "currency", f"{shown(currency)} is not a three-letter currency code (e.g. EUR)", values)
        ok = False
    return (row_no, values, code, sku, price, quantity, currency) if ok else None


def _compare(good: Good, errors: _Errors) -> None:
    """Dry run: new / update / unchanged for each valid row (one query), on the result and the previews."""
    result = errors.result
    if not good:
        return
    keys = list(zip(*[key for _r, _v, key, _p in good], strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.book_id, e.product_id, e.min_quantity, e.unit_price, e.active FROM {PriceEntry._meta.db_table} e "  # noqa: S608
            "JOIN unnest(%s::bigint[], %s::bigint[], %s::integer[]) AS k(book_id, product_id, min_quantity) "
            "ON k.book_id = e.book_id AND k.product_id = e.product_id AND k.min_quantity = e.min_quantity",
            [list(k) for k in keys],
        )
        existing = {(b, p, q): (price, active) for b, p, q, price, active in cursor.fetchall()}
    for row_no, _values, key, price in good:
        old = existing.get(key)
        status = "new" if old is None else ("unchanged" if old == (price, True) else "update")
        if status == "new":
            result.created += 1
        elif status == "update":
            result.updated += 1
        else:
            result.unchanged += 1
        preview = errors.previews.get(row_no)
        if preview is not None and preview.status == "ok":
            preview.status = status
