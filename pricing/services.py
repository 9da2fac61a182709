"""Writes of the pricing tables: products, price books and their entries. The only module that writes them — the admin,
the CSV import (``pricing.imports``), the CRM sync (``integrations``) and the demo data all call these functions.

Natural keys, so an external system can upsert without knowing our ids: a product is its ``sku``; a book its ``code``;
an entry ``(book, product sku, min_quantity)``. Upserts are set-based (one ``INSERT … ON CONFLICT`` per call, rows sent
as arrays), count what they created / updated / left unchanged (a row whose values did not change is not touched), and
report a bad row in ``errors`` by its index without stopping the others (the sync logs it; the CSV import validates
first and writes only when every row is good). Entries and products are deactivated, never deleted.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from partners.models import Partner, Tier
from pricing.models import PriceBatch, PriceBook, PriceEntry, Product, Source

_PRICE_LIMIT = Decimal(10) ** 14  # numeric(18, 4)
_QUANTUM = Decimal("0.0001")
_MAX_QUANTITY = 2**31 - 1


@dataclass
class UpsertResult:
    """What an upsert did. ``errors`` maps the index of a rejected row in ``rows`` to "field: message"; ``ids`` maps
    each written (or unchanged) row's key — the SKU for products, ``(sku, min_quantity)`` for entries — to its id."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: dict[int, str] = field(default_factory=dict)
    ids: dict[object, int] = field(default_factory=dict)


# Batches ----------------------------------------------------------------------------------------------------------


def price_batch_create(
    *, source: str, label: str = "", by: AbstractBaseUser | None = None, rows_total: int = 0
) -> PriceBatch:
    """A provenance record for one write of many rows (an upload, a sync run); pass it as ``batch`` to the upserts."""
    if source not in Source.values:
        raise ValidationError({"source": f"must be one of {', '.join(Source.values)}"})
    return PriceBatch.objects.create(source=source, label=label[:255], created_by=by, rows_total=rows_total)


def price_batch_finish(
    *, batch: PriceBatch, created: int, updated: int, unchanged: int, errors: Sequence[str] = ()
) -> PriceBatch:
    """Record the counts (and, for a failed upload, its first errors) on ``batch``."""
    batch.rows_created, batch.rows_updated, batch.rows_unchanged = created, updated, unchanged
    batch.errors = list(errors)[:100]
    batch.status = PriceBatch.Status.FAILED if errors else PriceBatch.Status.DONE
    batch.save(update_fields=["rows_created", "rows_updated", "rows_unchanged", "errors", "status"])
    return batch


# Products ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def products_upsert(
    *, rows: Sequence[Mapping[str, object]], source: str, batch: PriceBatch | None = None
) -> UpsertResult:
    """Create or update products by SKU. Each row: ``sku`` and ``name`` (required), ``description`` and ``active``
    (optional: left as they are on an existing product when absent; a new product is active).

    One query (the upsert), whatever the number of rows. A row with a bad value, or repeating an earlier row's SKU,
    is reported in ``errors`` and skipped.
    """
    _check_source(source)
    result = UpsertResult()
    skus, names, descriptions, actives, seen = [], [], [], [], {}
    for index, row in enumerate(rows):
        sku, message = _text(row.get("sku"), "sku", 64)
        name, name_message = _text(row.get("name"), "name", 200)
        message = message or name_message
        description = row.get("description")
        if description is not None and not isinstance(description, str):
            message = message or "description: must be text"
        active = row.get("active")
        if active is not None and not isinstance(active, bool):
            message = message or "active: must be true or false"
        if not message and sku in seen:
            message = f"sku: {sku!r} is repeated (row {seen[sku]} has it)"
        if message:
            result.errors[index] = message
            continue
        seen[sku] = index
        skus.append(sku)
        names.append(name)
        descriptions.append(description)
        actives.append(active)
    if not skus:
        return result
    # Rows that give description / active set them; rows that do not leave an existing product's as they are. One
    # statement per shape (usually one: a caller sends the same fields for every row).
    shapes: dict[tuple[bool, bool], list[int]] = {}
    for position, (description, active) in enumerate(zip(descriptions, actives, strict=True)):
        shapes.setdefault((description is not None, active is not None), []).append(position)
    now = timezone.now()
    for (has_description, has_active), positions in shapes.items():
        sets = ["name = excluded.name"]
        compared = ["name"]
        if has_description:
            sets.append("description = excluded.description")
            compared.append("description")
        if has_active:
            sets.append("active = excluded.active")
            compared.append("active")
        sets += ["source = excluded.source", "batch_id = excluded.batch_id", "updated_at = excluded.updated_at"]
        old = ", ".join(f"t.{c}" for c in compared)
        new = ", ".join(f"excluded.{c}" for c in compared)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {Product._meta.db_table} AS t (sku, name, description, active, source, batch_id, "  # noqa: S608
                "created_at, updated_at) "
                "SELECT u.sku, u.name, coalesce(u.description, ''), coalesce(u.active, true), %s, %s, %s, %s "
                "FROM unnest(%s::text[], %s::text[], %s::text[], %s::boolean[]) AS u(sku, name, description, active) "
                "ORDER BY u.sku "
                f"ON CONFLICT (sku) DO UPDATE SET {', '.join(sets)} "
                f"WHERE ROW({old}) IS DISTINCT FROM ROW({new}) "
                "RETURNING t.sku, t.id, (xmax = 0)",
                [source, batch.pk if batch else None, now, now, [skus[i] for i in positions],
                 [names[i] for i in positions], [descriptions[i] for i in positions], [actives[i] for i in positions]],
            )
            for sku, pk, inserted in cursor.fetchall():
                result.ids[sku] = pk
                if inserted:
                    result.created += 1
                else:
                    result.updated += 1
    missing = [s for s in skus if s not in result.ids]
    if missing:  # unchanged rows are not returned by the upsert
        result.ids.update(Product.objects.filter(sku__in=missing).values_list("sku", "pk"))
    result.unchanged = len(skus) - result.created - result.updated
    return result


@transaction.atomic
def products_deactivate(*, skus: Iterable[str], source: str, batch: PriceBatch | None = None) -> int:
    """Mark these products inactive (a product deleted in the CRM: deals keep pointing at it); return how many changed.
    Their prices stop resolving. One query."""
    _check_source(source)
    return Product.objects.filter(sku__in=list(skus), active=True).update(
        active=False, source=source, batch=batch, updated_at=timezone.now()
    )


@transaction.atomic
def product_save(*, product: Product, source: str = Source.ADMIN) -> Product:
    """Create or update one product (the admin): validated, then saved."""
    _check_source(source)
    product.source = source
    product.full_clean()
    product.save()
    return product


# Price books ------------------------------------------------------------------------------------------------------


@transaction.atomic
def price_book_upsert(
    *,
    code: str,
    name: str,
    currency: str,
    source: str,
    valid_from: date | None = None,
    valid_to: date | None = None,
    is_default: bool = False,
    priority: int = 0,
    active: bool = True,
    countries: Sequence[str] | None = None,
    tier_names: Sequence[str] | None = None,
    partner_codes: Sequence[str] | None = None,
    batch: PriceBatch | None = None,
) -> tuple[PriceBook, bool]:
    """Create or update the book ``code``; return ``(book, created)``.

    The scope arguments replace the book's scope when given and leave it as it is when None: ``countries`` (ISO
    alpha-2 codes, upper-cased), ``tier_names`` (``partners.Tier`` names), ``partner_codes`` (``Partner.code``).
    Raises ``ValidationError`` naming the field (an unknown tier or partner code, a bad currency, valid_to before
    valid_from, …) and writes nothing then. At most 6 queries.
    """
    _check_source(source)
    book = PriceBook.objects.select_for_update().filter(code=code).first()
    created = book is None
    if created:
        book = PriceBook(code=code)
    book.name, book.currency = name, (currency or "").upper()
    book.valid_from, book.valid_to, book.is_default = valid_from, valid_to, is_default
    book.priority, book.active, book.source, book.batch = priority, active, source, batch
    if countries is not None:
        book.countries = sorted({c.strip().upper() for c in countries if c and c.strip()})
    tiers = _tiers(tier_names) if tier_names is not None else None
    partners = _partners(partner_codes) if partner_codes is not None else None
    book.full_clean()
    book.save()
    if tiers is not None:
        book.tiers.set(tiers)
    if partners is not None:
        book.partners.set(partners)
    return book, created


@transaction.atomic
def price_book_save(
    *, book: PriceBook, tiers: Iterable[Tier] | None = None, partners: Iterable[Partner] | None = None,
    source: str = Source.ADMIN,
) -> PriceBook:
    """Create or update one book from the admin form; ``tiers`` / ``partners`` replace its scope when given."""
    _check_source(source)
    book.source = source
    book.currency = (book.currency or "").upper()
    book.countries = sorted({c.strip().upper() for c in book.countries or [] if c and c.strip()})
    book.full_clean()
    book.save()
    if tiers is not None:
        book.tiers.set(list(tiers))
    if partners is not None:
        book.partners.set(list(partners))
    return book


def _tiers(names: Sequence[str]) -> list[Tier]:
    wanted = {n.strip() for n in names if n and n.strip()}
    found = {t.name.lower(): t for t in Tier.objects.all()}
    unknown = sorted(n for n in wanted if n.lower() not in found)
    if unknown:
        raise ValidationError({"tiers": f"unknown tier(s): {', '.join(unknown)} (known: "
                                        f"{', '.join(t.name for t in found.values())})"})
    return [found[n.lower()] for n in wanted]


def _partners(codes: Sequence[str]) -> list[Partner]:
    wanted = {c.strip() for c in codes if c and c.strip()}
    found = list(Partner.objects.filter(code__in=wanted))
    unknown = sorted(wanted - {p.code for p in found})
    if unknown:
        raise ValidationError({"partners": f"unknown partner code(s): {', '.join(unknown[:20])}"})
    return found


# Entries ----------------------------------------------------------------------------------------------------------


@transaction.atomic
def price_entries_upsert(
    *,
    book: PriceBook,
    rows: Sequence[Mapping[str, object]],
    source: str,
    batch: PriceBatch | None = None,
    deactivate_missing: bool = False,
) -> UpsertResult:
    """Create or update entries of ``book`` keyed by ``(sku, min_quantity)``. Each row: ``sku`` (an existing
    product), ``unit_price`` (Decimal/str/int, ≥ 0, at most 4 decimals), ``min_quantity`` (int ≥ 1, default 1),
    ``active`` (default true). ``deactivate_missing=True`` deactivates the book's active entries not in ``rows`` (a
    full copy of a remote price book); nothing is ever deleted.

    Bad rows (unknown SKU, bad price or quantity, a key repeated) are reported in ``errors`` by index and skipped.
    Queries: 1 for the SKUs, 1 upsert, 1 to deactivate (when asked), 1 for the ids of unchanged rows (when any).
    """
    _check_source(source)
    result = UpsertResult()
    parsed: list[tuple[int, str, Decimal, int, bool]] = []
    for index, row in enumerate(rows):
        sku, message = _text(row.get("sku"), "sku", 64)
        price = parse_price(row.get("unit_price"))
        quantity = parse_quantity(row.get("min_quantity", 1))
        active = row.get("active", True)
        message = message or (price if isinstance(price, str) else None) or (
            quantity if isinstance(quantity, str) else None)
        if not message and not isinstance(active, bool):
            message = "active: must be true or false"
        if message:
            result.errors[index] = message
            continue
        parsed.append((index, sku, price, quantity, active))
    products = dict(Product.objects.filter(sku__in={p[1] for p in parsed}).values_list("sku", "pk"))
    seen: dict[tuple[str, int], int] = {}
    good = []
    for index, sku, price, quantity, active in parsed:
        if sku not in products:
            result.errors[index] = f"sku: no product has the SKU {sku!r}"
        elif (sku, quantity) in seen:
            result.errors[index] = f"sku: {sku!r} with min_quantity {quantity} is repeated (row {seen[sku, quantity]})"
        else:
            seen[sku, quantity] = index
            good.append((book.pk, products[sku], price, quantity, active))
    created, updated, ids = entries_write(rows=good, source=source, batch=batch)
    result.created, result.updated = created, updated
    result.unchanged = len(good) - created - updated
    by_product = {pk: sku for sku, pk in products.items()}
    for (_book, product_id, quantity), pk in ids.items():
        result.ids[by_product[product_id], quantity] = pk
    if deactivate_missing:
        keep = [(product_id, quantity) for _b, product_id, _p, quantity, _a in good]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {PriceEntry._meta.db_table} e SET active = false, source = %s, batch_id = %s, updated_at = %s "  # noqa: S608
                "WHERE e.book_id = %s AND e.active AND NOT EXISTS (SELECT FROM unnest(%s::bigint[], %s::integer[]) "
                "AS k(product_id, min_quantity) WHERE k.product_id = e.product_id AND k.min_quantity = e.min_quantity)",
                [source, batch.pk if batch else None, timezone.now(), book.pk, [k[0] for k in keep],
                 [k[1] for k in keep]],
            )
            result.updated += cursor.rowcount
    return result


def entries_write(
    *, rows: Sequence[tuple[int, int, Decimal, int, bool]], source: str, batch: PriceBatch | None,
    with_ids: bool = True,
) -> tuple[int, int, dict[tuple[int, int, int], int]]:
    """The one upsert of entries, for rows already validated: ``(book_id, product_id, unit_price, min_quantity,
    active)`` with unique keys. Returns (created, updated, {(book_id, product_id, min_quantity): id}) — ids of the rows
    written, plus (``with_ids``) those left unchanged. Used by ``price_entries_upsert`` and the CSV import."""
    if not rows:
        return 0, 0, {}
    now = timezone.now()
    table = PriceEntry._meta.db_table
    columns = list(zip(*rows, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} AS t (book_id, product_id, unit_price, min_quantity, active, source, batch_id, "  # noqa: S608
            "updated_at) SELECT u.book_id, u.product_id, u.unit_price, u.min_quantity, u.active, %s, %s, %s "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::numeric[], %s::integer[], %s::boolean[]) "
            "AS u(book_id, product_id, unit_price, min_quantity, active) "
            "ORDER BY u.book_id, u.product_id, u.min_quantity "
            "ON CONFLICT (book_id, product_id, min_quantity) DO UPDATE SET unit_price = excluded.unit_price, "
            "active = excluded.active, source = excluded.source, batch_id = excluded.batch_id, "
            "updated_at = excluded.updated_at "
            "WHERE (t.unit_price, t.active) IS DISTINCT FROM (excluded.unit_price, excluded.active) "
            "RETURNING t.book_id, t.product_id, t.min_quantity, t.id, (xmax = 0)",
            [source, batch.pk if batch else None, now, *[list(c) for c in columns]],
        )
        written = cursor.fetchall()
    created = sum(1 for *_k, inserted in written if inserted)
    ids = {(b, p, q): pk for b, p, q, pk, _i in written}
    if with_ids and len(ids) < len(rows):
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT e.book_id, e.product_id, e.min_quantity, e.id FROM {table} e "  # noqa: S608
                "JOIN unnest(%s::bigint[], %s::bigint[], %s::integer[]) AS k(book_id, product_id, min_quantity) "
                "ON k.book_id = e.book_id AND k.product_id = e.product_id AND k.min_quantity = e.min_quantity",
                [list(columns[0]), list(columns[1]), list(columns[3])],
            )
            ids.update({(b, p, q): pk for b, p, q, pk in cursor.fetchall()})
    return created, len(written) - created, ids


@transaction.atomic
def price_entries_deactivate(
    *, book: PriceBook, keys: Iterable[tuple[str, int]], source: str, batch: PriceBatch | None = None
) -> int:
    """Deactivate the entries ``(sku, min_quantity)`` of ``book`` (never deleted); return how many changed."""
    _check_source(source)
    keys = list(keys)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {PriceEntry._meta.db_table} e SET active = false, source = %s, batch_id = %s, updated_at = %s "  # noqa: S608
            f"FROM {Product._meta.db_table} p, unnest(%s::text[], %s::integer[]) AS k(sku, min_quantity) "
            "WHERE e.book_id = %s AND e.active AND p.id = e.product_id AND p.sku = k.sku "
            "AND e.min_quantity = k.min_quantity",
            [source, batch.pk if batch else None, timezone.now(), [k[0] for k in keys], [int(k[1]) for k in keys],
             book.pk],
        )
        return cursor.rowcount


@transaction.atomic
def price_entry_save(*, entry: PriceEntry, source: str = Source.ADMIN) -> PriceEntry:
    """Create or update one entry (the admin): validated (unique key, price ≥ 0, quantity ≥ 1), then saved."""
    _check_source(source)
    entry.source = source
    entry.full_clean()
    entry.save()
    return entry


# Values -----------------------------------------------------------------------------------------------------------


def parse_price(value: object) -> Decimal | str:
    """A unit price as Decimal (≥ 0, < 10**14, at most 4 decimals), or an error message "unit_price: …"."""
    if value is None or value == "":
        return "unit_price: a price is required"
    if isinstance(value, bool | float):
        value = str(value) if isinstance(value, float) else "bad"
    try:
        price = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return f"unit_price: {str(value)[:50]!r} is not a number"
    if not price.is_finite():
        return f"unit_price: {str(value)[:50]!r} is not a number"
    if price < 0:
        return f"unit_price: {str(value)[:50]!r} is negative"
    if price >= _PRICE_LIMIT:
        return f"unit_price: {str(value)[:50]!r} is too large (at most 14 digits before the decimal point)"
    if price.quantize(_QUANTUM) != price:
        return f"unit_price: {str(value)[:50]!r} has more than 4 decimal places"
    return price.quantize(_QUANTUM) + 0


def parse_quantity(value: object) -> int | str:
    """A minimum quantity (int 1 … 2**31-1), or an error message "min_quantity: …"."""
    if value is None or value == "":
        return 1
    if isinstance(value, bool):
        return "min_quantity: must be a whole number"
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return f"min_quantity: {text[:50]!r} is not a whole number of at least 1"
    quantity = int(text)
    if not 1 <= quantity <= _MAX_QUANTITY:
        return f"min_quantity: {text!r} must be between 1 and {_MAX_QUANTITY}"
    return quantity


def _text(value: object, name: str, max_length: int) -> tuple[str, str | None]:
    if not isinstance(value, str) or not value.strip():
        return "", f"{name}: is required"
    value = value.strip()
    if len(value) > max_length:
        return "", f"{name}: at most {max_length} characters ({len(value)} given)"
    if "\x00" in value:
        return "", f"{name}: contains a NUL character"
    return value, None


def _check_source(source: str) -> None:
    if source not in Source.values:
        raise ValueError(f"source must be one of {', '.join(Source.values)}, not {source!r}")
