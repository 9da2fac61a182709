"""Cursor pagination by (updated_at, id), for syncs — or by another (timestamp, id) pair: ``column`` (the deletions
list pages its tombstones by (deleted_at, id)).

The cursor is the last row's (updated_at, id), signed (django.core.signing) so it is opaque and cannot be forged
into anything but a position. The next page is ``WHERE (updated_at, id) > cursor ORDER BY updated_at, id``: a row
changed while a client pages gets a new updated_at and moves to the end, so it is read (again, in its new state)
before the sync ends, and no unchanged row is ever missed or repeated. A page asks for ``limit + 1`` rows to know
whether there is a next one (no COUNT). A cursor is signed for its column, so one list's cursor is refused by a list
ordered by another column.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core import signing
from django.db.models import BooleanField, DateTimeField, ExpressionWrapper, F, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.utils.dateparse import parse_datetime

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
_SALT = "api.cursor"


class BadCursor(ValueError):
    pass


def _salt(column: str) -> str:
    return _SALT if column == "updated_at" else f"{_SALT}.{column}"


def cursor_encode(updated_at: datetime, pk: int, *, column: str = "updated_at") -> str:
    return signing.dumps([updated_at.isoformat(), pk], salt=_salt(column), compress=True)


def cursor_decode(cursor: str, *, column: str = "updated_at") -> tuple[datetime, int]:
    try:
        stamp, pk = signing.loads(cursor, salt=_salt(column))
        when = parse_datetime(stamp)
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise BadCursor("Not a cursor of this API (use next_cursor as given).") from error
    if when is None or when.tzinfo is None or not isinstance(pk, int) or isinstance(pk, bool):
        raise BadCursor("Not a cursor of this API (use next_cursor as given).")
    return when, pk


def opaque_order(column: str = "updated_at") -> ExpressionWrapper:
    """``column`` as an expression of the same value and order that no index provides: ordering by it makes
    PostgreSQL sort the rows it was given rather than walk the (column, id) index (see ``cursor_page``)."""
    return ExpressionWrapper(F(column) + Value(timedelta(0)), output_field=DateTimeField())


@dataclass
class CursorPage:
    rows: list
    next_cursor: str | None


def cursor_page(
    queryset: QuerySet, *, cursor: str | None, limit: int, column: str = "updated_at", narrowed: bool = False
) -> CursorPage:
    """One page of ``queryset`` after ``cursor``, in (``column``, id) order (``column``: a timestamp field of the
    model). One query (plus the queryset's prefetches). The table's columns are named through the queryset's own
    table and the model's field.

    ``narrowed``: ``queryset`` holds only candidates after the cursor already (api.resources.page_candidates, a few
    hundred ids): no cursor condition, and the order is an expression, so PostgreSQL reads those ids by primary key
    rather than walking the (column, id) index from the cursor — with many rows sharing one timestamp (a bulk upsert)
    it misjudged that walk as short and read 40k rows to keep a rep's 101."""
    if narrowed:
        order = opaque_order(column)
    else:
        order = column
        if cursor:
            table = queryset.model._meta.db_table
            name = queryset.model._meta.get_field(column).column  # a field of the model, never request text
            when, pk = cursor_decode(cursor, column=column)
            after = RawSQL(f'("{table}"."{name}", "{table}"."id") > (%s, %s)', [when, pk],  # noqa: S611 (our table)
                           output_field=BooleanField())
            queryset = queryset.filter(after)
    rows = list(queryset.order_by(order, "id")[: limit + 1])
    has_next, rows = len(rows) > limit, rows[:limit]
    next_cursor = cursor_encode(getattr(rows[-1], column), rows[-1].pk, column=column) if has_next else None
    return CursorPage(rows, next_cursor)
    table = queryset.model._meta.db_table
    name = queryset.model._meta.get_field(column).column  # a field of the model, never request text
    if cursor:
        when, pk = cursor_decode(cursor, column=column)
        after = RawSQL(f'("{table}"."{name}", "{table}"."id") > (%s, %s)', [when, pk],  # noqa: S611 (our table)
                       output_field=BooleanField())
        queryset = queryset.filter(after)
    rows = list(queryset.order_by(column, "id")[: limit + 1])
    has_next, rows = len(rows) > limit, rows[:limit]
    next_cursor = cursor_encode(getattr(rows[-1], column), rows[-1].pk, column=column) if has_next else None
    return CursorPage(rows, next_cursor)
