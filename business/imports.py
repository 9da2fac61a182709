"""Bulk upload of achievements and targets: the one service behind the admin import and ``manage.py import_achievements``.

``import_period_values()`` reads the file as a stream (CSV or XLSX, columns ``partner_code,parameter,period,value``),
validates every row before writing anything, then writes all rows in one transaction or none:

1. the validated rows go to a temporary staging table (``COPY`` on PostgreSQL, batched INSERTs on SQLite);
2. one ``INSERT … SELECT … ON CONFLICT (partner_id, parameter_id, period_start) DO UPDATE … WHERE <value differs>``
   upserts them, so re-uploading a file changes nothing;
3. an ``UploadBatch`` records who, when, which file and what it did (created / updated / unchanged).

A dry run (the admin preview) does steps 1 and a read-only join instead of 2 and 3: it reports what each row would do
and writes nothing (no signals, no tasks). Concurrent uploads of one kind are serialised by a transaction-level
advisory lock on PostgreSQL (SQLite serialises writers itself), so overlapping files cannot lose an update.
"""

import csv
import io
import operator
import os
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from business.models import Achievement, Parameter, Target, UploadBatch
from business.periods import PeriodError
from business.periods import parse as parse_period
from partners.models import Partner

COLUMNS = ("partner_code", "parameter", "period", "value")
KINDS = {UploadBatch.Kind.ACHIEVEMENTS: Achievement, UploadBatch.Kind.TARGETS: Target}
FORMATS = ("csv", "xlsx")

PREVIEW_ROWS = 200  # rows shown in the admin preview (plus every row with an error)
MAX_ERRORS = 1000  # errors kept in the result; the rest are only counted
BATCH_ERRORS = 100  # errors stored on a failed UploadBatch
SQLITE_BATCH = 5000

STAGING = "business_import_staging"
_BOM = b"\xef\xbb\xbf"
_QUANTUM = Decimal("0.0001")  # 4 decimal places, as the model's DecimalField(18, 4)
_TOO_LARGE = Decimal(10) ** 14  # 18 digits - 4 decimal places
_KEY_COLUMNS = "partner_code, parameter, period"


@dataclass
class RowError:
    row: int | None  # as in the file, the header being row 1; None for the file as a whole
    column: str  # a column name, several joined by ", ", or "" for the row / file as a whole
    message: str

    def __str__(self):
        where = [f"Row {self.row}"] if self.row else []
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass
class PreviewRow:
    row: int
    values: tuple  # the four cells as text, in COLUMNS order
    status: str = "error"  # new / update / unchanged / error
    errors: list = field(default_factory=list)


@dataclass
class ImportResult:
    kind: str
    file_name: str
    dry_run: bool
    rows_total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list = field(default_factory=list)  # RowError, at most MAX_ERRORS, in row order
    error_count: int = 0  # all errors, including those not kept
    preview: list = field(default_factory=list)  # PreviewRow, in row order
    batch: UploadBatch | None = None

    @property
    def ok(self):
        return self.error_count == 0

    @property
    def error_rows(self):
        return len({e.row for e in self.errors if e.row})

    def summary(self):
        return (
            f"{self.rows_total} rows: {self.created} new, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.error_count} errors."
        )


class _FileError(Exception):
    """The file cannot be read further (encoding, format, columns)."""

    def __init__(self, message, row=None, column=""):
        super().__init__(message)
        self.error = RowError(row, column, message)


def too_large_message(size):
    limit = settings.IMPORT_MAX_BYTES
    return f"The file is {_megabytes(size)}; the limit is {_megabytes(limit)} (setting IMPORT_MAX_BYTES)."


def format_for(file_name):
    """The format a file name implies: ``xlsx`` for ``*.xlsx``, otherwise ``csv``."""
    return "xlsx" if file_name.lower().endswith(".xlsx") else "csv"


def import_period_values(*, file, file_name, kind, user=None, dry_run, file_format=None):
    """Validate, then (unless ``dry_run``) upsert all rows of ``file`` as achievements or targets.

    ``file`` is a binary file object (an uploaded or stored file, or ``open(path, "rb")``); ``kind`` is
    ``"achievements"`` or ``"targets"``; ``file_format`` is ``"csv"`` or ``"xlsx"`` (default: from the file name).
    Returns an ImportResult; nothing is written unless ``result.ok`` and not ``dry_run``.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    file_format = file_format or format_for(file_name)
    if file_format not in FORMATS:
        raise ValueError(f"file_format must be one of {', '.join(FORMATS)}, not {file_format!r}")
    result = ImportResult(kind=kind, file_name=file_name, dry_run=dry_run)

    size = _size(file)
    if size > settings.IMPORT_MAX_BYTES:
        result.error_count = 1
        result.errors.append(RowError(None, "", too_large_message(size)))
        return result

    validator = _Validator(result)
    try:
        if size == 0:
            raise _FileError("The file is empty.")
        rows = _xlsx_rows(file) if file_format == "xlsx" else _csv_rows(file)
        validator.read(rows)
    except _FileError as e:
        validator.add_error(e.error.row, e.error.column, e.error.message)
    staged = validator.finish()

    if dry_run:
        if staged:
            _preview(KINDS[kind], staged, result)
        _finish_preview(result)
        return result
    if not result.ok:
        _record_failure(result, user)
        return result
    try:
        _write(KINDS[kind], staged, result, user)
    except DatabaseError as e:
        result.error_count += 1
        result.errors.append(RowError(None, "", f"The upload could not be written, nothing was changed: {e}"))
        _record_failure(result, user)
    return result


# Reading ------------------------------------------------------------------------------------------------------------


def _csv_rows(file):
    """Yield ``(row_number, cells)`` from a UTF-8 CSV (BOM or not), decoded as a stream.

    On a byte that is not UTF-8 the file is read again, line by line, to say which row and byte.
    """
    start = file.tell()
    text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        yield from enumerate(reader, start=1)
    except UnicodeDecodeError:
        text.detach()
        text = None
        raise _encoding_error(file, start) from None
    except csv.Error as e:
        raise _FileError(f"the file is not valid CSV ({e})", row=reader.line_num) from None
    finally:
        if text is not None:
            text.detach()  # leave the caller's file open


def _encoding_error(file, start):
    file.seek(start)
    offset = 0
    for line_no, raw in enumerate(file, start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as e:
            column = _column_at(raw[: e.start].count(b","))
            return _FileError(
                f"the file is not UTF-8: byte 0x{raw[e.start]:02X} at byte offset {offset + e.start} cannot be "
                'decoded. Save the file as "CSV UTF-8" and upload it again.',
                row=line_no,
                column=column,
            )
        offset += len(raw)
    return _FileError("the file is not UTF-8. Save it as \"CSV UTF-8\" and upload it again.")


def _xlsx_rows(file):
    """Yield ``(row_number, cells)`` from the first sheet of an XLSX workbook, read-only (streamed)."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise _FileError(f"The file is not a valid XLSX workbook ({e.__class__.__name__}).") from None
    try:
        for row_no, values in enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1):
            yield row_no, [_xlsx_text(v) for v in values]
    finally:
        workbook.close()


def _xlsx_text(value):
    """A spreadsheet cell as text, without float rounding (0.1 stays "0.1") and with dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _error_order(error):
    first_column = error.column.split(",")[0]
    return (error.row or 0, COLUMNS.index(first_column) if first_column in COLUMNS else len(COLUMNS))


def _column_at(index):
    return COLUMNS[index] if index < len(COLUMNS) else ""


# Validation ---------------------------------------------------------------------------------------------------------


class _Validator:
    """Checks rows one by one as they stream in; partner codes are resolved in bulk at the end (``finish``)."""

    def __init__(self, result):
        self.result = result
        self.parameters = {p.code: p for p in Parameter.objects.all()}
        self.periods = {}  # (text, frequency) -> date or error message; periods repeat a lot
        self.seen = {}  # (partner_code, parameter_id, period_start) -> first row number
        self.pending = []  # (row, partner_code, parameter_id, period_start, value) of rows valid so far
        self.unchecked = []  # (row, partner_code, cells) of rows with other errors
        self.previews = {}  # row -> PreviewRow
        self.error_rows = set()

    def add_error(self, row, column, message, cells=None):
        result = self.result
        result.error_count += 1
        if len(result.errors) >= MAX_ERRORS:
            return
        error = RowError(row, column, message)
        result.errors.append(error)
        if row:
            self.error_rows.add(row)
            preview = self.previews.get(row)
            if preview is None:
                preview = self.previews[row] = PreviewRow(row, tuple(cells or ("",) * 4))
            preview.status = "error"
            preview.errors.append(str(error))

    def read(self, rows):
        rows = iter(rows)
        header_row = next(rows, None)
        if header_row is None:
            raise _FileError("The file is empty.")
        order = self._header(header_row[1])
        width = len(order)
        pick = operator.itemgetter(*order)
        for row_no, cells in rows:
            if len(cells) != width:
                if len(cells) > width and any(c.strip() for c in cells[width:]):
                    self.result.rows_total += 1
                    values = tuple(cells[i] for i in order)
                    self.add_error(row_no, "", f"the row has {len(cells)} cells but the header has {width}", values)
                    continue
                cells = [*cells[:width], *[""] * (width - len(cells))]
            values = tuple(map(str.strip, pick(cells)))
            if not any(values):
                continue  # a blank line
            self.result.rows_total += 1
            self._row(row_no, values)

    def _header(self, cells):
        names = [c.strip().lower() for c in cells]
        while names and not names[-1]:
            names.pop()
        missing = [c for c in COLUMNS if c not in names]
        extra = [n or "(blank)" for n in names if n not in COLUMNS]
        doubled = sorted({n for n in names if n in COLUMNS and names.count(n) > 1})
        problems = []
        if missing:
            problems.append(f"missing column(s): {', '.join(missing)}")
        if extra:
            problems.append(f"unexpected column(s): {', '.join(extra)}")
        if doubled:
            problems.append(f"column(s) given twice: {', '.join(doubled)}")
        if problems:
            raise _FileError(
                f"the header must be exactly {','.join(COLUMNS)}; {'; '.join(problems)}.",
                row=1,
                column=", ".join(missing + extra + doubled),
            )
        return [names.index(c) for c in COLUMNS]

    def _row(self, row_no, values):
        code, parameter_code, period_text, value_text = values
        ok = True
        if not code:
            self.add_error(row_no, "partner_code", "a partner code is required", values)
            ok = False
        parameter = self.parameters.get(parameter_code)
        if parameter is None:
            message = "a parameter code is required" if not parameter_code else f"unknown parameter {parameter_code!r}"
            self.add_error(row_no, "parameter", message, values)
            ok = False
        else:
            start = self._period(period_text, parameter.frequency)
            if isinstance(start, str):
                self.add_error(row_no, "period", start, values)
                ok = False
        value = _parse_value(value_text)
        if isinstance(value, str):
            self.add_error(row_no, "value", value, values)
            ok = False
        if not ok:
            if code and len(self.unchecked) < MAX_ERRORS:
                self.unchecked.append((row_no, code, values))  # its partner code is checked in finish() too
            return
        key = (code, parameter.id, start)
        first = self.seen.setdefault(key, row_no)
        if first != row_no:
            self.add_error(
                row_no,
                _KEY_COLUMNS,
                f"duplicate of row {first}: rows {first} and {row_no} have the same partner, parameter and period",
                values,
            )
            return
        self.pending.append((row_no, code, parameter.id, start, value))
        if row_no <= PREVIEW_ROWS + 1:
            self.previews[row_no] = PreviewRow(row_no, values, status="valid")

    def _period(self, text, frequency):
        key = (text, frequency)
        start = self.periods.get(key)
        if start is None:
            try:
                start = parse_period(text, frequency)
            except PeriodError as e:
                start = str(e) if text else "a period is required (YYYY-MM, YYYY-Qn or YYYY-MM-DD)"
            self.periods[key] = start
        return start

    def finish(self):
        """Resolve partner codes (one query per chunk the database allows), report unknown ones.

        Returns the staged rows ``(row, partner_id, parameter_id, period_start, value)``.
        """
        codes = list({row[1] for row in self.pending} | {row[1] for row in self.unchecked})
        ids = {}
        chunk = connection.features.max_query_params or len(codes) or 1
        for i in range(0, len(codes), chunk):
            ids.update(Partner.objects.filter(code__in=codes[i : i + chunk]).values_list("code", "id"))
        staged = []
        code_of = {p.id: p.code for p in self.parameters.values()}
        for row_no, code, parameter_id, start, value in self.pending:
            partner_id = ids.get(code)
            if partner_id is None:
                values = (code, code_of[parameter_id], start.isoformat(), str(value))
                if row_no in self.previews:
                    values = self.previews[row_no].values
                self.add_error(row_no, "partner_code", f"unknown partner code {code!r}", values)
            else:
                staged.append((row_no, partner_id, parameter_id, start, value))
        for row_no, code, values in self.unchecked:
            if code not in ids:
                self.add_error(row_no, "partner_code", f"unknown partner code {code!r}", values)
        self.pending = self.unchecked = []
        self.result.errors.sort(key=_error_order)
        self.result.preview = [self.previews[r] for r in sorted(self.previews)]
        return staged


def _parse_value(text):
    """A Decimal with at most 4 decimal places, ≥ 0 and < 10**14; or an error message (str)."""
    if not text:
        return "a value is required"
    try:
        value = Decimal(text)
    except InvalidOperation:
        return f"{text!r} is not a number (use digits and a decimal point, e.g. 1234.5)"
    if not value.is_finite():
        return f"{text!r} is not a number"
    if value < 0:
        return f"{text!r} is negative; values must be 0 or more"
    if value >= _TOO_LARGE:
        return f"{text!r} is too large (at most 14 digits before the decimal point)"
    quantized = value.quantize(_QUANTUM)
    if quantized != value:
        return f"{text!r} has more than 4 decimal places"
    return quantized + 0  # + 0 turns -0 into 0


# Writing ------------------------------------------------------------------------------------------------------------


def _write(model, staged, result, user):
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"business.import.{result.kind}"])
        batch = UploadBatch.objects.create(
            kind=result.kind, uploaded_by=user, file_name=result.file_name[:255], rows_total=len(staged)
        )
        _stage(staged)
        result.created, result.updated = _upsert(model, batch, user)
        result.unchanged = len(staged) - result.created - result.updated
        _drop_staging()
        batch.rows_created, batch.rows_updated, batch.rows_unchanged = result.created, result.updated, result.unchanged
        batch.save(update_fields=["rows_created", "rows_updated", "rows_unchanged"])
    result.batch = batch


def _record_failure(result, user):
    result.batch = UploadBatch.objects.create(
        kind=result.kind,
        status=UploadBatch.Status.FAILED,
        uploaded_by=user,
        file_name=result.file_name[:255],
        rows_total=result.rows_total,
        errors=[str(e) for e in result.errors[:BATCH_ERRORS]],
    )


def _stage(staged):
    """Load the validated rows into a temporary table of this connection."""
    ops = connection.ops
    _drop_staging()
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGING} (row_no integer NOT NULL, partner_id bigint NOT NULL, "
            "parameter_id bigint NOT NULL, period_start date NOT NULL, value numeric(18, 4) NOT NULL)"
        )
        if connection.vendor == "postgresql":
            buffer = io.StringIO()
            days = {}  # period_start -> "YYYY-MM-DD"; a file has few distinct periods
            for row_no, partner_id, parameter_id, start, value in staged:
                day = days.get(start) or days.setdefault(start, start.isoformat())
                buffer.write(f"{row_no}\t{partner_id}\t{parameter_id}\t{day}\t{value}\n")
            buffer.seek(0)
            cursor.copy_expert(f"COPY {STAGING} (row_no, partner_id, parameter_id, period_start, value) FROM STDIN", buffer)
        else:
            sql = f"INSERT INTO {STAGING} VALUES (%s, %s, %s, %s, %s)"  # noqa: S608 (a constant name)
            for i in range(0, len(staged), SQLITE_BATCH):
                cursor.executemany(
                    sql,
                    [
                        (row_no, partner_id, parameter_id, ops.adapt_datefield_value(start), str(value))
                        for row_no, partner_id, parameter_id, start, value in staged[i : i + SQLITE_BATCH]
                    ],
                )


def _drop_staging():
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")


def _sql_parts(model):
    """Table name, the "row differs" condition over ``t`` (existing) and ``s`` (staged), and the upsert statement."""
    table = connection.ops.quote_name(model._meta.db_table)
    if model is Achievement:
        differs = "t.value <> s.value OR t.source <> 'upload'"
        extra_columns, extra_values = "source", "'upload'"
        update = "source = excluded.source"
        update_when = f"{table}.value <> excluded.value OR {table}.source <> excluded.source"
    else:
        differs = "t.value <> s.value"
        extra_columns, extra_values = "set_by_id", "%s"
        update = "set_by_id = excluded.set_by_id"
        update_when = f"{table}.value <> excluded.value"
    # Only table/column names and fixed SQL are formatted in; every value is a query parameter.
    upsert = (
        f"INSERT INTO {table} (partner_id, parameter_id, period_start, value, {extra_columns}, upload_batch_id, "  # noqa: S608
        f"updated_at) SELECT s.partner_id, s.parameter_id, s.period_start, s.value, {extra_values}, %s, %s "
        f"FROM {STAGING} s WHERE true ORDER BY s.partner_id, s.parameter_id, s.period_start "
        "ON CONFLICT (partner_id, parameter_id, period_start) DO UPDATE SET value = excluded.value, "
        f"{update}, upload_batch_id = excluded.upload_batch_id, updated_at = excluded.updated_at "
        f"WHERE {update_when}"
    )
    return table, differs, upsert


def _join(table):
    return (
        f"FROM {STAGING} s LEFT JOIN {table} t ON t.partner_id = s.partner_id AND t.parameter_id = s.parameter_id "
        "AND t.period_start = s.period_start"
    )


def _count_changes(model):
    """(would be created, would be updated) for the staged rows."""
    table, differs, _ = _sql_parts(model)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) - COUNT(t.id), COALESCE(SUM(CASE WHEN t.id IS NOT NULL AND ({differs}) THEN 1 ELSE 0 END), 0) "
            + _join(table)
        )
        created, updated = cursor.fetchone()
    return int(created), int(updated)


def _upsert(model, batch, user):
    """Upsert the staged rows; return (created, updated)."""
    _, _, upsert = _sql_parts(model)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = [batch.id, now] if model is Achievement else [user.pk if user else None, batch.id, now]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # xmax = 0 on a row version this statement inserted; rows whose value did not change are not returned.
            cursor.execute(
                f"WITH upserted AS ({upsert} RETURNING (xmax = 0) AS inserted) "  # noqa: S608
                "SELECT COUNT(*) FILTER (WHERE inserted), COUNT(*) FILTER (WHERE NOT inserted) FROM upserted",
                params,
            )
            created, updated = cursor.fetchone()
        else:
            created, updated = _count_changes(model)  # SQLite: this connection holds the write lock
            cursor.execute(upsert, params)
    return int(created), int(updated)


def _preview(model, staged, result):
    """Dry run: what each staged row would do, and the totals; writes nothing."""
    table, differs, _ = _sql_parts(model)
    with transaction.atomic():
        _stage(staged)
        result.created, result.updated = _count_changes(model)
        result.unchanged = len(staged) - result.created - result.updated
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT s.row_no, CASE WHEN t.id IS NULL THEN 'new' WHEN ({differs}) THEN 'update' "
                f"ELSE 'unchanged' END {_join(table)} WHERE s.row_no <= %s",
                [PREVIEW_ROWS + 1],
            )
            statuses = dict(cursor.fetchall())
        _drop_staging()
    for preview in result.preview:
        if preview.row in statuses:
            preview.status = statuses[preview.row]


def _finish_preview(result):
    for preview in result.preview:
        if preview.status == "valid":  # valid on its own but not staged (the file had errors elsewhere)
            preview.status = "ok"


# Helpers ------------------------------------------------------------------------------------------------------------


def _size(file):
    size = getattr(file, "size", None)
    if size is None:
        position = file.tell()
        file.seek(0, os.SEEK_END)
        size = file.tell()
        file.seek(position)
    return size


def _megabytes(size):
    return f"{size / (1024 * 1024):.1f} MB"

