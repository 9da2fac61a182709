"""Validation: the header, then each row as it streams in, into rows for the staging table.

Checks that need the database (known partner codes, duplicate keys) run in SQL on the staging table afterwards
(``writing.unknown_codes`` / ``writing.duplicates``); their errors are added here with ``add_error`` so every error
goes through one place (capped at MAX_ERRORS, sorted by row and column, marked on the row's preview).

Every check is total: a cell of any content gives either a value or an error message, never an exception.
"""

import operator
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from decimal import Decimal, InvalidOperation

from business.imports import results
from business.imports.reading import Rows
from business.imports.results import (
    COLUMNS,
    PREVIEW_ROWS,
    FileError,
    ImportResult,
    PreviewRow,
    RowError,
    preview_cell,
    shown,
)
from business.models import Parameter
from business.periods import parse as parse_period

KEY_COLUMNS = "partner_code, parameter, period"
NO_ROWS = "The file has no data rows (only a header)."

# Control characters (C0, DEL, C1) and lone surrogates (an XLSX can spell them as _xD800_): no column may hold them.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# ASCII digits only: \d would take "２０２６" or "٢٠٢٥" and int() would read them.
_PERIOD_SHAPE = re.compile(r"[0-9]{4}-(?:[0-9]{2}|[Qq][0-9]|[0-9]{2}-[0-9]{2})", re.ASCII)
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,6})?", re.ASCII)
_QUANTUM = Decimal("0.0001")  # 4 decimal places, as the model's DecimalField(18, 4)
_TOO_LARGE = Decimal(10) ** 14  # 18 digits - 4 decimal places
_PERIOD_CACHE = 1000  # distinct (period text, frequency) pairs remembered; periods repeat a lot

_CLEAN = (None,) * len(COLUMNS)

# One row of the staging table (see writing.STAGING_COLUMNS): row_no, partner_code, ok, then parameter_id,
# period_start and value of a valid row, or the parameter, period and value cells of an invalid one (for messages).
StagedRow = tuple[int, str, bool, int | None, date | None, Decimal | None, str | None, str | None, str | None]


class Validator:
    """Checks the header, then rows one at a time, keeping only what is bounded (errors, preview rows)."""

    def __init__(self, result: ImportResult):
        self.result = result
        self.parameters = {p.code: p for p in Parameter.objects.all()}
        self.periods: dict[tuple[str, str], date | str] = {}
        self.previews: dict[int, PreviewRow] = {}

    # Errors --------------------------------------------------------------------------------------------------------

    def add_error(self, row: int | None, column: str, message: str, cells: Iterable[str] | None = None) -> None:
        result = self.result
        result.error_count += 1
        if len(result.errors) >= results.MAX_ERRORS:
            return
        error = RowError(row, column, message)
        result.errors.append(error)
        if row:
            preview = self.previews.get(row)
            if preview is None:
                values = tuple(preview_cell(c) for c in cells) if cells else ("",) * len(COLUMNS)
                preview = self.previews[row] = PreviewRow(row, values)
            preview.status = "error"
            preview.errors.append(str(error))

    def room(self) -> int:
        """How many more errors are kept."""
        return max(results.MAX_ERRORS - len(self.result.errors), 0)

    def report(self, found: list[tuple], column: str, message: Callable[[str, int | None, int], str]) -> None:
        """Errors found in SQL: ``(row, first_row, <staged columns but row_no>, total)`` tuples, the first ``room()``
        of ``total``."""
        if not found:
            return
        kept = found[: self.room()]
        codes = {p.id: p.code for p in self.parameters.values()}
        for row_no, first, code, parameter_id, start, value, parameter, period, value_text in (f[:-1] for f in kept):
            if parameter_id is not None:  # a valid row: its cells as read (the preview has them if it is shown)
                parameter, period, value_text = codes.get(parameter_id, ""), start.isoformat(), str(value)
            self.add_error(row_no, column, message(code, first, row_no), (code, parameter, period, value_text))
        self.result.error_count += found[0][-1] - len(kept)

    # Rows ----------------------------------------------------------------------------------------------------------

    def staged_rows(self, rows: Rows) -> Iterator[StagedRow]:
        """The rows to stage, as they stream in; errors of the file and of single rows are recorded, not raised.

        A row is staged when it has a partner code (so an unknown code is reported even on a row with other errors);
        ``ok`` says whether it is valid on its own.
        """
        try:
            header = next(rows, None)
            if header is None:
                raise FileError("The file is empty.")
            order = self._header(header[1])
            for row_no, cells in rows:
                staged = self._row(row_no, cells, order)
                if staged is not None:
                    yield staged
        except FileError as e:
            self.add_error(e.error.row, e.error.column, e.error.message)

    def _header(self, cells: list[str]) -> list[int]:
        names = [c.strip().lower() for c in cells]
        while names and not names[-1]:
            names.pop()
        missing = [c for c in COLUMNS if c not in names]
        extra = [_name(n) for n in names if n not in COLUMNS]
        doubled = sorted({n for n in names if n in COLUMNS and names.count(n) > 1})
        problems = []
        if missing:
            problems.append(f"missing column(s): {', '.join(missing)}")
        if extra:
            problems.append(f"unexpected column(s): {', '.join(extra)}")
        if doubled:
            problems.append(f"column(s) given twice: {', '.join(doubled)}")
        if problems:
            raise FileError(
                f"the header must be exactly {','.join(COLUMNS)}; {'; '.join(problems)}.",
                row=1,
                column=", ".join(missing + extra + doubled),
            )
        return [names.index(c) for c in COLUMNS]

    def _row(self, row_no: int, cells: list[str], order: list[int]) -> StagedRow | None:
        width = len(order)
        if len(cells) != width:
            if len(cells) > width and any(c.strip() for c in cells[width:]):
                self.result.rows_total += 1
                values = tuple(cells[i] for i in order)
                self.add_error(row_no, "", f"the row has {len(cells)} cells but the header has {width}", values)
                return None
            cells = [*cells[:width], *[""] * (width - len(cells))]
        values = tuple(map(str.strip, operator.itemgetter(*order)(cells)))
        if not any(values):
            return None  # a blank line
        self.result.rows_total += 1

        bad = [_CONTROL.search(text) for text in values] if _CONTROL.search("".join(values)) else _CLEAN
        for column, match in zip(COLUMNS, bad, strict=True):
            if match:
                self.add_error(row_no, column, f"contains the control character U+{ord(match[0]):04X}; remove it", values)
        ok = not any(bad)
        code, parameter_code, period_text, value_text = values
        if not code and not bad[0]:
            self.add_error(row_no, "partner_code", "a partner code is required", values)
            ok = False
        parameter = None
        if not bad[1]:
            parameter = self.parameters.get(parameter_code)
            if parameter is None:
                message = f"unknown parameter {shown(parameter_code)}" if parameter_code else "a parameter code is required"
                self.add_error(row_no, "parameter", message, values)
                ok = False
        start = None
        if parameter is not None and not bad[2]:
            start = self._period(period_text, parameter.frequency)
            if isinstance(start, str):
                self.add_error(row_no, "period", start, values)
                ok = False
        value = None
        if not bad[3]:
            value = parse_value(value_text)
            if isinstance(value, str):
                self.add_error(row_no, "value", value, values)
                ok = False

        if ok and row_no <= PREVIEW_ROWS + 1:
            self.previews[row_no] = PreviewRow(row_no, tuple(preview_cell(c) for c in values), status="valid")
        if not code or bad[0]:
            return None  # nothing to look up
        if ok:
            return (row_no, code, True, parameter.id, start, value, None, None, None)
        texts = ["" if match else preview_cell(text) for text, match in zip(values[1:], bad[1:], strict=True)]
        return (row_no, code, False, None, None, None, *texts)

    def _period(self, text: str, frequency: str) -> date | str:
        key = (text, frequency)
        start = self.periods.get(key)
        if start is None:
            start = parse_period_text(text, frequency)
            if len(self.periods) >= _PERIOD_CACHE:
                self.periods.clear()
            self.periods[key] = start
        return start

    # The end ------------------------------------------------------------------------------------------------------

    def finish(self) -> None:
        """After the SQL checks: a file without data rows is an error; errors and preview in row order."""
        if self.result.rows_total == 0 and self.result.error_count == 0:
            self.add_error(None, "", NO_ROWS)
        self.result.errors.sort(key=_error_order)
        self.result.preview = [self.previews[r] for r in sorted(self.previews)]


def parse_period_text(text: str, frequency: str) -> date | str:
    """The first day of the period ``text`` names for ``frequency``, or an error message (str)."""
    if not text:
        return "a period is required (YYYY-MM, YYYY-Qn or YYYY-MM-DD)"
    if not _PERIOD_SHAPE.fullmatch(text):
        return f"{shown(text)} is not a period (use YYYY-MM, YYYY-Qn or the period's first day YYYY-MM-DD)"
    try:
        return parse_period(text, frequency)
    except ValueError as e:  # PeriodError (a ValueError) has a message for users; date() says "year 0 is out of range"
        message = str(e)
        return message if message.startswith(repr(text)) else f"{shown(text)} is not a date (years 1 to 9999)"


def parse_value(text: str) -> Decimal | str:
    """A Decimal with at most 4 decimal places, ≥ 0 and < 10**14; or an error message (str)."""
    if not text:
        return "a value is required"
    if not _NUMBER.fullmatch(text):
        return f"{shown(text)} is not a number (use digits and a decimal point, e.g. 1234.5)"
    try:
        value = Decimal(text)
        if value < 0:
            return f"{shown(text)} is negative; values must be 0 or more"
        if value >= _TOO_LARGE:
            return f"{shown(text)} is too large (at most 14 digits before the decimal point)"
        quantized = value.quantize(_QUANTUM)
    except (InvalidOperation, ValueError, ArithmeticError):
        return f"{shown(text)} is not a number (use digits and a decimal point, e.g. 1234.5)"
    if quantized != value:
        return f"{shown(text)} has more than 4 decimal places"
    return quantized + 0  # + 0 turns -0 into 0


def _name(text: str) -> str:
    if not text:
        return "(blank)"
    return text if text.isprintable() and len(text) <= 100 else shown(text)


def _error_order(error: RowError) -> tuple[int, int]:
    first_column = error.column.split(",")[0]
    return (error.row or 0, COLUMNS.index(first_column) if first_column in COLUMNS else len(COLUMNS))
