"""Bulk upload of achievements and targets (CSV/XLSX, columns ``partner_code,parameter,period,value``).

- ``reading``: the file as ``(row_number, cells)``, streamed; ``validation``: header and rows, every check total;
- ``writing``: the staging table (streamed ``COPY``), the SQL checks (unknown partner codes, duplicate keys), the
  dry run's counts and the upsert; ``specs``: one ``ImportSpec`` per kind (model, provenance, what counts as a change);
- ``service``: ``import_period_values`` (a file) and ``import_period_rows`` (rows as data: the API), one pipeline;
  ``uploads``: previewed files stored until confirmed.
"""

from business.imports.results import (
    BATCH_ERRORS,
    COLUMNS,
    FORMATS,
    MAX_ERRORS,
    PREVIEW_ROWS,
    ImportResult,
    PreviewRow,
    RowError,
)
from business.imports.service import format_for, import_period_rows, import_period_values, too_large_message
from business.imports.specs import KINDS, SPECS, ImportSpec
from business.imports.uploads import (
    CONFIRM_MAX_AGE,
    STORED_NAME,
    UPLOAD_DIR,
    upload_delete,
    upload_exists,
    upload_name_is_valid,
    upload_open,
    upload_store,
    uploads_delete_stale,
)

__all__ = [
    "BATCH_ERRORS",
    "COLUMNS",
    "CONFIRM_MAX_AGE",
    "FORMATS",
    "KINDS",
    "MAX_ERRORS",
    "PREVIEW_ROWS",
    "SPECS",
    "STORED_NAME",
    "UPLOAD_DIR",
    "ImportResult",
    "ImportSpec",
    "PreviewRow",
    "RowError",
    "format_for",
    "import_period_rows",
    "import_period_values",
    "too_large_message",
    "upload_delete",
    "upload_exists",
    "upload_name_is_valid",
    "upload_open",
    "upload_store",
    "uploads_delete_stale",
]
