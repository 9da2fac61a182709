"""Cursor pagination by (updated_at, id), for syncs.

The cursor is the last row's (updated_at, id), signed (django.core.signing) so it is opaque and cannot be forged
into anything but a position. The next page is ``WHERE (updated_at, id) > cursor ORDER BY updated_at, id``: a row
changed while a client pages gets a new updated_at and moves to the end, so it is read (again, in its new state)
before the sync ends, and no unchanged row is ever missed or repeated. A page asks for ``limit + 1`` rows to know
whether there is a next one (no COUNT).
"""

from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.dateparse import parse_datetime

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
_SALT = "api.cursor"


class BadCursor(ValueError):
    pass


def cursor_encode(updated_at: datetime, pk: int) -> str:
    return signing.dumps([updated_at.isoformat(), pk], salt=_SALT, compress=True)


def cursor_decode(cursor: str) -> tuple[datetime, int]:
    try:
        stamp, pk = signing.loads(cursor, salt=_SALT)
        when = parse_datetime(stamp)
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise BadCursor("Not a cursor of this API (use next_cursor as given).") from error
    if when is None or when.tzinfo is None or not isinstance(pk, int) or isinstance(pk, bool):
        raise BadCursor("Not a cursor of this API (use next_cursor as given).")
    return when, pk


@dataclass
class CursorPage:
    rows: list
    next_cursor: str | None


def cursor_page(queryset: QuerySet, *, cursor: str | None, limit: int) -> CursorPage:
    """One page of ``queryset`` after ``cursor``, in (updated_at, id) order. One query (plus the queryset's
    prefetches). The table's columns are named through the queryset's own table."""
    table = queryset.model._meta.db_table
    if cursor:
        when, pk = cursor_decode(cursor)
        after = RawSQL(f'("{table}"."updated_at", "{table}"."id") > (%s, %s)', [when, pk],  # noqa: S611 (our table)
                       output_field=BooleanField())
        queryset = queryset.filter(after)
    rows = list(queryset.order_by("updated_at", "id")[: limit + 1])
    has_next, rows = len(rows) > limit, rows[:limit]
    next_cursor = cursor_encode(rows[-1].updated_at, rows[-1].pk) if has_next else None
    return CursorPage(rows, next_cursor)
