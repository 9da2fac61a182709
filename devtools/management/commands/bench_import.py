"""``manage.py bench_import [--rows 100000] [--partners 10000] [--drop]``: time the upload path.

Measures, on one CSV of ``--rows`` distinct keys (partners ``BENCH-…`` × months of parameter ``bench_import``):

(a) a fresh import and (b) a re-upload of the same file through ``business.imports.import_period_values`` (the code
the admin's confirm step runs), (c) the preview (dry run), and a raw baseline: ``COPY`` of the CSV into a staging
table followed by one ``INSERT … SELECT … ON CONFLICT DO UPDATE``, fresh and re-run. Each is run ``--repeat`` times
(the machine may be busy) and the best is reported, with the ratios
(target ≤ 2×) and peak memory. Leaves no achievements or upload batches behind; keeps the ``BENCH-`` partners and
the parameter for the next run unless ``--drop``.
"""

import csv
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from business.imports import import_period_values
from business.models import Achievement, Parameter, UploadBatch
from partners.models import Partner

PREFIX = "BENCH-"
PARAMETER = "bench_import"
FILE_NAME = "bench_import.csv"


class Command(BaseCommand):
    help = "Benchmark the achievement upload (service vs raw COPY + upsert) on PostgreSQL."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument("--partners", type=int, default=10_000)
        parser.add_argument("--repeat", type=int, default=3, help="Runs per measurement; the best is reported.")
        parser.add_argument("--drop", action="store_true", help="Also delete the BENCH- partners and the parameter.")

    def handle(self, *args, rows, partners, repeat, drop, **options):
        if rows < 1 or partners < 1:
            raise CommandError("--rows and --partners must be positive")
        partners = min(partners, rows)
        months = -(-rows // partners)
        parameter = self._setup(partners)
        self._clear(parameter)
        try:
            with tempfile.TemporaryDirectory(prefix="bench_import_") as tmp:
                path = Path(tmp) / FILE_NAME
                self._write_csv(path, rows, partners)
                self.stdout.write(
                    f"{rows} rows ({partners} partners × {months} months), CSV {path.stat().st_size / 1e6:.1f} MB"
                )
                rss_before = _maxrss_mb()
                runs = {"preview": [], "fresh": [], "again": [], "raw_fresh": [], "raw_again": []}
                for _ in range(repeat):
                    self._clear(parameter)
                    runs["preview"].append(self._timed(lambda: self._service(path, dry_run=True)))
                    runs["fresh"].append(self._timed(lambda: self._service(path, dry_run=False)))
                    runs["again"].append(self._timed(lambda: self._service(path, dry_run=False)))
                    self._check(runs["fresh"][-1][1], created=rows)
                    self._check(runs["again"][-1][1], unchanged=rows)
                    self._clear(parameter)
                    runs["raw_fresh"].append(self._timed(lambda: self._raw(path)))
                    runs["raw_again"].append(self._timed(lambda: self._raw(path)))
                rss_after = _maxrss_mb()
                best = {name: min(timings, key=lambda t: t[0]) for name, timings in runs.items()}
                preview, preview_result = best["preview"]
                fresh, fresh_result = best["fresh"]
                again, again_result = best["again"]
                raw_fresh, raw_again = best["raw_fresh"][0], best["raw_again"][0]

                self._clear(parameter)
                tracemalloc.start()
                self._service(path, dry_run=False)
                _, traced_peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
        finally:
            self._clear(parameter)
            if drop:
                Partner.objects.filter(code__startswith=PREFIX).delete()
                parameter.delete()

        out = self.stdout.write
        out(f"best of {repeat} runs each:")
        out(f"preview (dry run, service)      {preview:7.2f} s  {preview_result.summary()}")
        out(f"(a) fresh import (service)      {fresh:7.2f} s  {fresh_result.summary()}")
        out(f"(b) re-upload (service)         {again:7.2f} s  {again_result.summary()}")
        out(f"(c) raw COPY + upsert, fresh    {raw_fresh:7.2f} s")
        out(f"    raw COPY + upsert, re-run   {raw_again:7.2f} s")
        out(f"ratio fresh {fresh / raw_fresh:.2f}×, re-upload {again / raw_again:.2f}× (target ≤ 2×)")
        out(
            f"peak memory: process max RSS {rss_after:.0f} MB (before the imports {rss_before:.0f} MB); "
            f"Python allocations during one fresh import {traced_peak / 2**20:.0f} MB (tracemalloc)"
        )

    def _setup(self, partners):
        parameter, _ = Parameter.objects.get_or_create(
            code=PARAMETER,
            defaults={"name": "Bench import", "unit": "count", "frequency": "monthly", "source": "uploaded"},
        )
        existing = Partner.objects.filter(code__startswith=PREFIX).count()
        if existing < partners:
            self.stdout.write(f"creating {partners - existing} {PREFIX} partners…")
            Partner.objects.bulk_create(
                (Partner(code=_code(i), name=f"Bench partner {i}") for i in range(partners)),
                batch_size=5000,
                ignore_conflicts=True,
            )
        return parameter

    def _clear(self, parameter):
        Achievement.objects.filter(parameter=parameter).delete()
        UploadBatch.objects.filter(file_name=FILE_NAME).delete()

    def _write_csv(self, path, rows, partners):
        with path.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["partner_code", "parameter", "period", "value"])
            for n in range(rows):
                month = n // partners
                writer.writerow([_code(n % partners), PARAMETER, f"{2001 + month // 12}-{month % 12 + 1:02d}", f"{n % 997}.25"])

    def _service(self, path, *, dry_run):
        with path.open("rb") as f:
            return import_period_values(file=f, file_name=FILE_NAME, kind="achievements", user=None, dry_run=dry_run)

    def _raw(self, path):
        """The baseline: COPY the CSV into a staging table, then one set-based upsert."""
        achievement = Achievement._meta.db_table
        with transaction.atomic(), connection.cursor() as cursor, path.open() as f:
            cursor.execute(
                "CREATE TEMPORARY TABLE bench_raw (partner_code text, parameter text, period text, value numeric(18, 4)) "
                "ON COMMIT DROP"
            )
            cursor.copy_expert("COPY bench_raw FROM STDIN WITH (FORMAT csv, HEADER true)", f)
            cursor.execute(  # table names from the models
                f"INSERT INTO {achievement} (partner_id, parameter_id, period_start, value, source, updated_at) "  # noqa: S608
                "SELECT p.id, pa.id, to_date(r.period || '-01', 'YYYY-MM-DD'), r.value, 'upload', now() "
                f"FROM bench_raw r JOIN {Partner._meta.db_table} p ON p.code = r.partner_code "
                f"JOIN {Parameter._meta.db_table} pa ON pa.code = r.parameter "
                "ON CONFLICT (partner_id, parameter_id, period_start) DO UPDATE SET value = excluded.value, "
                "source = excluded.source, updated_at = excluded.updated_at "
                f"WHERE {achievement}.value <> excluded.value OR {achievement}.source <> excluded.source"
            )

    def _timed(self, fn):
        start = time.perf_counter()
        value = fn()
        return time.perf_counter() - start, value

    def _check(self, result, created=0, unchanged=0):
        if not result.ok or result.created != created or result.unchanged != unchanged:
            raise CommandError(f"unexpected result: {result.summary()} {[str(e) for e in result.errors[:5]]}")


def _code(i):
    return f"{PREFIX}{i:06d}"


def _maxrss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
