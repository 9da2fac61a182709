"""Writing: the staging table (a temporary table filled by a streamed ``COPY``), the checks that need the database,
the dry run's answer, and the upsert.

Every statement is built from an ``ImportSpec``; only table/column names from the spec and fixed SQL are formatted
in, every value is a query parameter.
"""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.utils import timezone

from business.imports.specs import ImportSpec
from business.models import UploadBatch
from partners.models import Partner
from prm import pg

STAGING = "business_import_staging"
STAGING_COLUMNS = (
    "row_no", "partner_code", "ok", "parameter_id", "period_start", "value", "parameter", "period", "value_text",
)
_FOUND = "s.partner_code, s.parameter_id, s.period_start, s.value, s.parameter, s.period, s.value_text"
_PARTNERS = Partner._meta.db_table

# Rows (row_no, first_row or None, partner_code, parameter_id, period_start, value, parameter, period, value_text,
# total) found by a check.
Found = list[tuple]


def stage(rows: Iterable[tuple]) -> int:
    """Stream ``rows`` into this connection's (empty) staging table; return how many.

    The table is created once per connection and emptied at every commit (``ON COMMIT DELETE ROWS``) and by
    ``clear_staging``: no catalog churn per import, and no lock per import held by a long outer transaction.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGING} (row_no integer NOT NULL, partner_code text NOT NULL, "
            "ok boolean NOT NULL, parameter_id bigint, period_start date, value numeric(18, 4), parameter text, "
            "period text, value_text text) ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"TRUNCATE {STAGING}")
    count = pg.copy_rows(STAGING, STAGING_COLUMNS, rows)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {STAGING}")
    return count


def clear_staging() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {STAGING}")


def unknown_codes(limit: int) -> Found:
    """The first ``limit`` staged rows whose partner code is no partner's (and, on each, how many there are).

    They are marked not ``ok``, so they are neither compared nor taken for duplicates (their code is the error).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH marked AS (UPDATE {STAGING} s SET ok = false WHERE NOT EXISTS (SELECT FROM {_PARTNERS} p "  # noqa: S608
            f"WHERE p.code = s.partner_code) RETURNING s.row_no, NULL::integer AS first_row, {_FOUND}) "
            "SELECT *, count(*) OVER () FROM marked ORDER BY row_no LIMIT %s",
            [max(limit, 1)],
        )
        return cursor.fetchall()


def duplicates(limit: int) -> Found:
    """Valid rows with the key (partner code, parameter, period) of an earlier valid row, each with that first row.

    They are marked not ``ok`` so a preview counts the first of them only.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH dup AS (SELECT partner_code, parameter_id, period_start, min(row_no) AS first_row FROM {STAGING} "  # noqa: S608
            "WHERE ok GROUP BY partner_code, parameter_id, period_start HAVING count(*) > 1), "
            f"marked AS (UPDATE {STAGING} s SET ok = false FROM dup d WHERE s.ok AND s.partner_code = d.partner_code "
            "AND s.parameter_id = d.parameter_id AND s.period_start = d.period_start AND s.row_no > d.first_row "
            f"RETURNING s.row_no, d.first_row, {_FOUND}) "
            "SELECT *, count(*) OVER () FROM marked ORDER BY row_no LIMIT %s",
            [max(limit, 1)],
        )
        return cursor.fetchall()


def _new_rows(spec: ImportSpec, user: AbstractBaseUser | None) -> tuple[str, list]:
    """A subquery ``n`` of the valid staged rows with their partner id and provenance, and its parameters."""
    provenance = spec.provenance(user)
    fields = {f.column: f for f in spec.model._meta.concrete_fields}
    extra = "".join(
        f", CAST(%s AS {fields[c].db_type(connection)}) AS {connection.ops.quote_name(c)}" for c in provenance
    )
    sql = (
        f"SELECT s.row_no, p.id AS partner_id, s.parameter_id, s.period_start, s.value{extra} "  # noqa: S608
        f"FROM {STAGING} s JOIN {_PARTNERS} p ON p.code = s.partner_code WHERE s.ok"
    )
    return sql, list(provenance.values())


def _differs(spec: ImportSpec, old: str, new: str) -> str:
    return " OR ".join(f"{old}.{c} IS DISTINCT FROM {new}.{c}" for c in ("value", *spec.compared))


def _compare(spec: ImportSpec) -> str:
    table = connection.ops.quote_name(spec.model._meta.db_table)
    return (
        f"LEFT JOIN {table} t ON t.partner_id = n.partner_id AND t.parameter_id = n.parameter_id "
        "AND t.period_start = n.period_start"
    )


def count_changes(spec: ImportSpec) -> tuple[int, int, int]:
    """(would be created, would be updated, unchanged) for the valid staged rows."""
    new_rows, params = _new_rows(spec, None)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FILTER (WHERE t.id IS NULL), count(*) FILTER (WHERE t.id IS NOT NULL AND "  # noqa: S608
            f"({_differs(spec, 't', 'n')})), count(*) FILTER (WHERE t.id IS NOT NULL AND NOT ({_differs(spec, 't', 'n')})) "
            f"FROM ({new_rows}) n {_compare(spec)}",
            params,
        )
        return tuple(int(n) for n in cursor.fetchone())


def row_statuses(spec: ImportSpec, last_row: int) -> dict[int, str]:
    """new / update / unchanged of the valid staged rows up to ``last_row``."""
    new_rows, params = _new_rows(spec, None)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT n.row_no, CASE WHEN t.id IS NULL THEN 'new' WHEN ({_differs(spec, 't', 'n')}) THEN 'update' "  # noqa: S608
            f"ELSE 'unchanged' END FROM ({new_rows} AND s.row_no <= %s) n {_compare(spec)}",
            [*params, last_row],
        )
        return dict(cursor.fetchall())


def upsert(spec: ImportSpec, batch: UploadBatch, user: AbstractBaseUser | None) -> tuple[int, int]:
    """Upsert the valid staged rows; return (created, updated). Rows whose values did not change are not touched."""
    table = connection.ops.quote_name(spec.model._meta.db_table)
    provenance = spec.provenance(user)
    columns = ["value", *provenance, "upload_batch_id", "updated_at"]
    new_rows, params = _new_rows(spec, user)
    sql = (
        f"INSERT INTO {table} (partner_id, parameter_id, period_start, {', '.join(columns)}) "  # noqa: S608
        f"SELECT n.partner_id, n.parameter_id, n.period_start, n.value, "
        f"{''.join(f'n.{connection.ops.quote_name(c)}, ' for c in provenance)}%s, %s FROM ({new_rows}) n "
        "ORDER BY n.partner_id, n.parameter_id, n.period_start "
        "ON CONFLICT (partner_id, parameter_id, period_start) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in columns)
        + f" WHERE {_differs(spec, table, 'excluded')}"
    )
    with connection.cursor() as cursor:
        # xmax = 0 on a row version this statement inserted; rows whose value did not change are not returned.
        cursor.execute(
            f"WITH upserted AS ({sql} RETURNING (xmax = 0) AS inserted) "  # noqa: S608
            "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM upserted",
            [batch.id, timezone.now(), *params],
        )
        created, updated = cursor.fetchone()
    return int(created), int(updated)
