"""Set-based inserts for bulk loads (demo data, benchmarks): COPY on PostgreSQL, bulk_create elsewhere."""

import io
import json
from datetime import date, datetime
from decimal import Decimal

from django.db import connection


def insert_rows(model, columns, rows):
    """Insert ``rows`` (tuples in ``columns`` order, column names as in the table) into ``model``'s table.

    Values are plain Python values (None, str, int, Decimal, bool, aware datetime, date, dict/list for JSON).
    Returns the number of rows written.
    """
    rows = list(rows)
    if not rows:
        return 0
    if connection.vendor == "postgresql":
        return _copy(model._meta.db_table, columns, rows)
    attnames = [_attname(model, column) for column in columns]
    objs = [model(**dict(zip(attnames, row, strict=True))) for row in rows]
    model.objects.bulk_create(objs, batch_size=500)
    return len(objs)


def reset_sequences(*models):
    """After inserting explicit ids, move the id sequences past them (PostgreSQL; SQLite needs nothing)."""
    from django.core.management.color import no_style

    statements = connection.ops.sequence_reset_sql(no_style(), list(models))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def analyze(*models):
    """Refresh the planner's statistics after a bulk load (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _attname(model, column):
    for field in model._meta.concrete_fields:
        if field.column == column:
            return field.attname
    raise ValueError(f"{model.__name__} has no column {column!r}")


def _copy(table, columns, rows):
    buffer = io.StringIO()
    write = buffer.write
    for row in rows:
        write("\t".join(_text(value) for value in row))
        write("\n")
    buffer.seek(0)
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN", buffer)
    return len(rows)


def _text(value):
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
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
