"""What an import returns: ``ImportResult`` with its ``RowError`` list and ``PreviewRow`` rows, and the limits."""

from dataclasses import dataclass, field

from business.models import UploadBatch

COLUMNS = ("partner_code", "parameter", "period", "value")
FORMATS = ("csv", "xlsx")

PREVIEW_ROWS = 200  # rows shown in the admin preview (plus every row with an error)
MAX_ERRORS = 1000  # errors kept in the result; the rest are only counted
BATCH_ERRORS = 100  # errors stored on a failed UploadBatch
SHOWN_CHARS = 100  # a cell longer than this is cut in messages and in the preview


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
    status: str = "error"  # new / update / unchanged / ok / error ("valid" while checking)
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
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def error_rows(self) -> int:
        return len({e.row for e in self.errors if e.row})

    def summary(self) -> str:
        return (
            f"{self.rows_total} rows: {self.created} new, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.error_count} errors."
        )


class FileError(Exception):
    """The file cannot be read further (encoding, format, columns, no rows)."""

    def __init__(self, message: str, row: int | None = None, column: str = ""):
        super().__init__(message)
        self.error = RowError(row, column, message)


def shown(text: str) -> str:
    """A cell quoted for a message: ``repr`` (control characters escaped), cut after SHOWN_CHARS characters."""
    if len(text) > SHOWN_CHARS:
        return repr(text[:SHOWN_CHARS]) + f" (cut; {len(text)} characters)"
    return repr(text)


def preview_cell(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"
