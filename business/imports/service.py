"""``import_period_values``: the one service behind the admin upload, ``manage.py import_achievements`` and the
benchmark.

The file streams through reading → validation → a temporary staging table (``COPY``), so memory stays flat whatever
the number of rows; partner codes and duplicate keys are then checked in SQL on that table. A dry run (the admin
preview) answers from a read-only join and writes nothing (no signals, no tasks). A real run upserts all rows in the
same transaction, under a transaction-level advisory lock per kind so overlapping files cannot lose an update, and
records an ``UploadBatch`` (who, when, which file, created / updated / unchanged) — or, when anything is wrong, only a
failed ``UploadBatch`` with the first errors, and writes no row.

``import_period_rows`` is the same pipeline for rows that arrive as data rather than a file (the API's bulk upserts):
the same validation, staging, checks and upsert, with ``rows[0]`` as row 1 and the batch's source "api".
"""

import dataclasses
import itertools
import os
from collections.abc import Callable, Iterable, Sequence
from typing import BinaryIO

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.postgres.aggregates import ArrayAgg
from django.db import DatabaseError, transaction
from django.db.models import Count, Max, Min

from business.imports import writing
from business.imports.reading import read_rows
from business.imports.results import BATCH_ERRORS, COLUMNS, FORMATS, PREVIEW_ROWS, ImportResult, RowError, shown
from business.imports.specs import SPECS, ImportSpec
from business.imports.validation import KEY_COLUMNS, Validator
from business.models import UploadBatch
from business.tasks import tag_inactive_partners
from outbox.services import event_emit
from prm import pg
from prm.tasks import enqueue_on_commit

LARGE_FILE = 10_000  # staged rows from which the statements are planned for bulk (hash joins)
# Rows sent through the API record their provenance as "api" (achievements' source; the batch's source for both).
API_SPECS = {
    UploadBatch.Kind.ACHIEVEMENTS: dataclasses.replace(SPECS[UploadBatch.Kind.ACHIEVEMENTS],
                                                       provenance=lambda user: {"source": "api"}),
    UploadBatch.Kind.TARGETS: SPECS[UploadBatch.Kind.TARGETS],
}


def too_large_message(size: int) -> str:
    limit = settings.IMPORT_MAX_BYTES
    return f"The file is {_megabytes(size)}; the limit is {_megabytes(limit)} (setting IMPORT_MAX_BYTES)."


def format_for(file_name: str) -> str:
    """The format a file name implies: ``xlsx`` for ``*.xlsx``, otherwise ``csv``."""
    return "xlsx" if file_name.lower().endswith(".xlsx") else "csv"


def import_period_values(
    *,
    file: BinaryIO,
    file_name: str,
    kind: str,
    user: AbstractBaseUser | None = None,
    dry_run: bool,
    file_format: str | None = None,
) -> ImportResult:
    """Validate, then (unless ``dry_run``) upsert all rows of ``file`` as achievements or targets.

    ``file`` is a binary file object (an uploaded or stored file, or ``open(path, "rb")``); ``kind`` is
    ``"achievements"`` or ``"targets"``; ``file_format`` is ``"csv"`` or ``"xlsx"`` (default: from the file name).
    Returns an ImportResult; nothing is written unless ``result.ok`` and not ``dry_run``.
    """
    spec = SPECS.get(kind)
    if spec is None:
        raise ValueError(f"kind must be one of {', '.join(SPECS)}, not {kind!r}")
    file_format = file_format or format_for(file_name)
    if file_format not in FORMATS:
        raise ValueError(f"file_format must be one of {', '.join(FORMATS)}, not {file_format!r}")
    result = ImportResult(kind=kind, file_name=file_name, dry_run=dry_run)

    size = _size(file)
    if size > settings.IMPORT_MAX_BYTES:
        result.error_count = 1
        result.errors.append(RowError(None, "", too_large_message(size)))
        return result

    rows = iter(()) if size == 0 else read_rows(file, file_format)  # no rows at all: "The file is empty."
    _run(spec, result, rows, user=user, dry_run=dry_run, source=UploadBatch.Source.UPLOAD, row_name=_file_row)
    if not dry_run and not result.ok:
        _record_failure(result, user)
    return result


def import_period_rows(
    *,
    rows: Iterable[Sequence[str]],
    kind: str,
    label: str,
    user: AbstractBaseUser | None = None,
    dry_run: bool,
    row_name: Callable[[int], str] | None = None,
) -> ImportResult:
    """``import_period_values`` for rows given as data: each row is the four cells (text) in ``COLUMNS`` order,
    ``rows[0]`` being row 1 (no header). The same checks, staging and upsert; achievements are recorded with source
    "api", the ``UploadBatch`` with source "api" and ``label`` as its name. ``row_name(n)`` names row n in messages
    that point to another row (duplicates). Nothing is written unless ``result.ok`` and not ``dry_run``; no failed
    batch is recorded (the caller answers with the errors and its transaction is rolled back)."""
    spec = API_SPECS.get(kind)
    if spec is None:
        raise ValueError(f"kind must be one of {', '.join(SPECS)}, not {kind!r}")
    result = ImportResult(kind=kind, file_name=label, dry_run=dry_run)
    numbered = ((number, list(cells)) for number, cells in enumerate(rows, start=1))
    header = iter([(0, list(COLUMNS))])
    _run(spec, result, itertools.chain(header, numbered), user=user, dry_run=dry_run, source=UploadBatch.Source.API,
         row_name=row_name or _file_row)
    return result


def _file_row(row: int) -> str:
    return f"row {row}"


def _run(spec: ImportSpec, result: ImportResult, rows, *, user: AbstractBaseUser | None, dry_run: bool, source: str,
         row_name: Callable[[int], str]) -> None:
    """Validate ``rows`` (header first), then count (dry run) or upsert them, in one savepoint."""
    try:
        with transaction.atomic():
            _validate(rows, result, row_name)
            if dry_run:
                result.created, result.updated, result.unchanged = writing.count_changes(spec)
                _set_statuses(spec, result)
            elif result.ok:
                _write(spec, result, user, source)
            writing.clear_staging()
    except DatabaseError as e:
        doing = "checked" if dry_run else "written, nothing was changed"
        result.error_count += 1
        result.errors.append(RowError(None, "", f"The upload could not be {doing}: {e}"))
        result.batch = None
    else:
        for preview in result.preview:
            if preview.status == "valid":  # valid on its own but not compared (the file had errors elsewhere)
                preview.status = "ok"


def _validate(rows, result: ImportResult, row_name: Callable[[int], str]) -> None:
    """Stream the rows into the staging table, then run the checks that need the database."""
    validator = Validator(result)
    if writing.stage(validator.staged_rows(rows)) > LARGE_FILE:
        # Hash joins are right for a large file; with stale statistics (right after a bulk load) the planner can pick
        # nested loops over partners/achievements and take minutes (seen: 9 minutes for a 670k-row preview).
        pg.set_local(enable_nestloop="off")
    validator.report(
        writing.unknown_codes(validator.room()), "partner_code", lambda code, first, row: f"unknown partner code {shown(code)}"
    )
    validator.report(
        writing.duplicates(validator.room()),
        KEY_COLUMNS,
        lambda code, first, row: _duplicate_message(first, row, row_name),
    )
    validator.finish()


def _duplicate_message(first: int, row: int, row_name: Callable[[int], str]) -> str:
    if row_name is _file_row:
        return f"duplicate of row {first}: rows {first} and {row} have the same partner, parameter and period"
    return (f"duplicate of {row_name(first)}: {row_name(first)} and {row_name(row)} have the same partner, parameter "
            "and period")


def _set_statuses(spec: ImportSpec, result: ImportResult) -> None:
    statuses = writing.row_statuses(spec, PREVIEW_ROWS + 1)
    for preview in result.preview:
        if preview.status == "valid" and preview.row in statuses:
            preview.status = statuses[preview.row]


def _write(spec: ImportSpec, result: ImportResult, user: AbstractBaseUser | None, source: str) -> None:
    pg.advisory_xact_lock(spec.lock_name)
    batch = UploadBatch.objects.create(
        kind=result.kind, source=source, uploaded_by=user, file_name=_printable(result.file_name)[:255],
        rows_total=result.rows_total,
    )
    result.created, result.updated = writing.upsert(spec, batch, user)
    result.unchanged = result.rows_total - result.created - result.updated
    batch.rows_created, batch.rows_updated, batch.rows_unchanged = result.created, result.updated, result.unchanged
    batch.save(update_fields=["rows_created", "rows_updated", "rows_unchanged"])
    result.batch = batch
    if spec.kind == UploadBatch.Kind.ACHIEVEMENTS and result.created + result.updated:
        # New figures can break or meet the business inactivity rule: apply the rules once the rows are committed
        # (the nightly run would otherwise be the first to notice).
        enqueue_on_commit(tag_inactive_partners)
        _emit_uploaded(spec, batch)


def _emit_uploaded(spec: ImportSpec, batch: UploadBatch) -> None:
    """One achievements.uploaded event per batch that changed rows (outbox, issue 16), never one per row: the counts,
    and the parameters, periods and partners of the rows it wrote (one aggregate over the batch's rows)."""
    summary = spec.model.objects.filter(upload_batch=batch).aggregate(
        parameters=ArrayAgg("parameter__code", distinct=True), partners=Count("partner_id", distinct=True),
        period_from=Min("period_start"), period_to=Max("period_start"),
    )
    event_emit(topic="achievements.uploaded", subject_type="upload_batch", subject_id=batch.pk, payload={
        "id": batch.pk, "source": batch.source, "file_name": batch.file_name, "uploaded_by_id": batch.uploaded_by_id,
        "uploaded_at": batch.created_at, "rows_total": batch.rows_total, "rows_created": batch.rows_created,
        "rows_updated": batch.rows_updated, "rows_unchanged": batch.rows_unchanged,
        "parameters": sorted(summary["parameters"] or []), "partners": summary["partners"],
        "period_from": summary["period_from"], "period_to": summary["period_to"],
    })


def _record_failure(result: ImportResult, user: AbstractBaseUser | None) -> None:
    result.batch = UploadBatch.objects.create(
        kind=result.kind,
        status=UploadBatch.Status.FAILED,
        uploaded_by=user,
        file_name=_printable(result.file_name)[:255],
        rows_total=result.rows_total,
        # Messages quote cells with repr; the header's and the file's names may still hold odd characters.
        errors=[_printable(str(e)) for e in result.errors[:BATCH_ERRORS]],
    )


def _size(file: BinaryIO) -> int:
    size = getattr(file, "size", None)
    if size is None:
        position = file.tell()
        file.seek(0, os.SEEK_END)
        size = file.tell()
        file.seek(position)
    return size


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _printable(text: str) -> str:
    """PostgreSQL text cannot hold U+0000 (nor lone surrogates): such characters become "?"."""
    return "".join("?" if ch == "\x00" or "\ud800" <= ch <= "\udfff" else ch for ch in text)
