"""The one module of PostgreSQL-specific helpers: advisory locks (one key scheme), COPY, per-transaction settings,
statistics. Every app that needs a dialect-level tool takes it from here; nothing else in the project talks about the
database's dialect.
"""

import io
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal

from django.core.management.color import no_style
from django.db import connection
from django.db.models import BooleanField, Func, JSONField, Model
from psycopg2.extras import Json

# Advisory locks: every key is the pair (LOCK_NAMESPACE, hashtext(name)), so the project's locks can neither collide
# with each other (distinct names) nor with another application's single-bigint locks on the same server.
LOCK_NAMESPACE = 0x50524D  # "PRM"


def advisory_xact_lock(name: str, *, wait: bool = True, shared: bool = False) -> bool:
    """Take the advisory lock called ``name`` until the current transaction ends; True when held.

    ``wait=False`` returns False at once when another transaction holds it. ``shared=True`` takes it in shared mode:
    any number of shared holders at once, none while someone holds it exclusively (and the other way round). Call
    inside ``transaction.atomic()``.
    """
    function = ("pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock") + ("_shared" if shared else "")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, hashtext(%s))::text", [LOCK_NAMESPACE, name])  # noqa: S608 (constant)
        answer = cursor.fetchone()[0]
    return wait or answer == "true"


def set_local(**settings: str) -> None:
    """``SET LOCAL name = value`` for the rest of the current transaction (e.g. ``jit="off"``, ``work_mem="64MB"``)."""
    with connection.cursor() as cursor:
        for name, value in settings.items():
            cursor.execute("SELECT set_config(%s, %s, true)", [name, str(value)])


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """``COPY table (columns) FROM STDIN`` from an iterable of tuples, streamed: memory does not grow with the rows.

    Values are plain Python values (None, str, int, Decimal, bool, aware datetime, date, dict/list for JSON).
    Returns the number of rows written.
    """
    reader = _CopyReader(rows)
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN", reader, size=1 << 16)
    return reader.count


def insert_rows(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """COPY ``rows`` into ``model``'s table (column names as in the table)."""
    return copy_rows(model._meta.db_table, columns, rows)


def insert_values(
    model: type[Model], columns: Sequence[str], rows: Iterable[Sequence], *, returning: str = "",
    conflict: Sequence[str] = (), update: Sequence[str] = (),
) -> list:
    """``INSERT INTO model's table (columns) VALUES …`` in statements of 1,000 rows, optionally ``ON CONFLICT
    (conflict) DO UPDATE SET`` each ``update`` column to the new value, optionally ``RETURNING`` one column (its values
    returned in the rows' order). Values are plain Python values as psycopg2 adapts them (None, str, int, Decimal,
    bool, aware datetime, date); dict/list go in as JSON.

    For the sync's pages: Django's ``bulk_create`` spends as long preparing each value of each row in Python as
    PostgreSQL spends writing them (a third of a CRM pull's time); this hands the values to psycopg2 as they are."""
    table, quote = connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name
    head = f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) VALUES "  # noqa: S608 (names, not values)
    tail = ""
    if conflict:
        sets = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in update)
        tail += f" ON CONFLICT ({', '.join(quote(c) for c in conflict)}) DO " + (f"UPDATE SET {sets}" if sets else "NOTHING")
    if returning:
        tail += f" RETURNING {quote(returning)}"
    values = [tuple(Json(v) if isinstance(v, dict | list) else v for v in row) for row in rows]
    template = "(" + ", ".join(["%s"] * len(columns)) + ")"
    answer: list = []
    with connection.cursor() as cursor:
        for start in range(0, len(values), 1000):
            # psycopg2 quotes the values (as its execute_values does); Django's cursor runs the statement without
            # parameters, so it is counted and logged like any other and its errors are django.db's (IntegrityError…).
            page = b", ".join(cursor.cursor.mogrify(template, row) for row in values[start:start + 1000])
            cursor.execute(head + page.decode() + tail)
            if returning:
                answer += [row[0] for row in cursor.fetchall()]
    return answer


def insert_objects(objects: Sequence[Model]) -> None:
    """``bulk_create`` of new model instances of one model through ``insert_values``: every concrete field but the
    auto primary key, each field's ``pre_save`` applied (``auto_now`` and the like), and the new primary keys set on
    the instances. The values are not converted further: for models whose fields hold plain values (no custom field
    types); a JSONField's value goes in as JSON. Validate before (``full_clean``), as with ``bulk_create``."""
    if not objects:
        return
    meta = type(objects[0])._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    rows = [[f.pre_save(obj, True) for f in fields] for obj in objects]
    for row in rows:
        for index, f in enumerate(fields):
            if isinstance(f, JSONField) and row[index] is not None:  # None: SQL NULL, as Django stores it
                row[index] = Json(row[index])
    ids = insert_values(type(objects[0]), [f.column for f in fields], rows, returning=meta.pk.column)
    for obj, pk in zip(objects, ids, strict=True):
        obj.pk = pk
        obj._state.adding, obj._state.db = False, connection.alias


def reset_sequences(*models: type[Model]) -> None:
    """After inserting explicit ids, move the id sequences past them."""
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(models)):
            cursor.execute(sql)


def analyze(*models: type[Model]) -> None:
    """Refresh the planner's statistics after a bulk load."""
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def vacuum_analyze(*models: type[Model]) -> None:
    """VACUUM (ANALYZE) the models' tables; inside a transaction (tests) only ANALYZE is possible."""
    if connection.in_atomic_block:
        analyze(*models)
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(model._meta.db_table)}")


def copy_text(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | Decimal | float):
        return str(value)
    if isinstance(value, dict | list):
        value = json.dumps(value)
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class _CopyReader(io.RawIOBase):
    """A read-only file over an iterator of rows, encoding them to COPY text lazily, a chunk at a time."""

    def __init__(self, rows: Iterable[Sequence]):
        self._lines: Iterator[bytes] = (
            ("\t".join(copy_text(value) for value in row) + "\n").encode() for row in rows
        )
        self._buffer = b""
        self.count = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        parts, length = [self._buffer], len(self._buffer)
        while size < 0 or length < size:
            line = next(self._lines, None)
            if line is None:
                break
            self.count += 1
            parts.append(line)
            length += len(line)
        data = b"".join(parts)
        if size < 0:
            size = len(data)
        chunk, self._buffer = data[:size], data[size:]
        return chunk


class AnyOf(Func):
    """The condition ``<column> = ANY(ARRAY(<subquery>))`` (``AnyOf(F("customer_id"), Subquery(ids))``): the subquery
    runs once (an InitPlan) and each id it returns probes the column's index. ``column IN (<subquery>)`` leaves
    PostgreSQL free to hash-join instead — and with a scope of a few hundred ids it read every row matching the other
    conditions (62k planned meetings, 57k overdue customers at 100k partners) to keep a few: 40-100 ms of Today's SQL
    instead of a few. For small id sets only (the array is built in memory)."""

    arg_joiner = " = ANY(ARRAY("
    template = "%(expressions)s))"
    output_field = BooleanField()
