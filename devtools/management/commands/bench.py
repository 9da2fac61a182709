import argparse
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from devtools import bench


def _sections(text):
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    unknown = sorted(set(chosen) - set(bench.SECTIONS))
    if unknown:
        raise CommandError(f"--only: unknown section(s) {', '.join(unknown)}; choose from {', '.join(bench.SECTIONS)}")
    return set(chosen)


class Command(BaseCommand):
    help = (
        "Benchmarks at scale on PostgreSQL (docs/benchmarks.md): partner list and page, metrics, tagging, import, "
        "throughput. Builds the demo dataset when the database is empty; reuses it otherwise."
    )

    def add_arguments(self, parser):
        parser.add_argument("--partners", type=int, default=100_000, help="Dataset size (default 100000).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed when the dataset is built.")
        parser.add_argument("--repeat", type=int, default=30, help="Timed requests/runs per measurement (default 30).")
        parser.add_argument("--only", default=",".join(bench.SECTIONS),
                            help=f"Comma-separated sections (default all): {','.join(bench.SECTIONS)}.")
        parser.add_argument("--skip-load", action="store_true", help="Leave out the gunicorn throughput section.")
        parser.add_argument("--duration", type=int, default=15,
                            help="Seconds of wrk per URL under load, after a warm-up run (default 15).")
        parser.add_argument("--concurrency", type=int, default=8,
                            help="Open connections under load (wrk -c, default 8).")
        parser.add_argument("--metrics-window", help=argparse.SUPPRESS)  # internal: metrics growth child

    def handle(self, *args, **options):
        try:
            if options["metrics_window"]:
                first, months = options["metrics_window"].split(":")
                bench.metrics_window_child(date.fromisoformat(first), int(months))
                return
            self._run(**options)
        except bench.BenchError as error:
            raise CommandError(str(error)) from error

    def _run(self, *, partners, seed, repeat, only, skip_load, duration, concurrency, **options):
        if repeat < 1 or partners < 1 or duration < 1 or concurrency < 1:
            raise CommandError("--partners, --repeat, --duration and --concurrency must be positive")
        sections = _sections(only)
        if skip_load:
            sections.discard("load")
        started = time.monotonic()
        progress = self._progress(started)
        counts = bench.ensure_dataset(partners=partners, seed=seed, progress=progress)
        rows = bench.run_benchmarks(only=sections, repeat=repeat, duration=duration, concurrency=concurrency,
                                    progress=progress)
        out = self.stdout.write
        out("")
        for line in bench.machine_description():
            out(f"- {line}")
        out(f"- dataset: {counts['partners']:,} partners, ≈{counts['activities']:,} activities, "
            f"{counts['leads']:,} leads; --repeat {repeat}")
        out("")
        out(bench.render_table(rows))
        missed = [row for row in rows if row.ok is False]
        out("")
        summary = f"{len(rows)} measurements in {time.monotonic() - started:.0f} s; {len(missed)} target(s) missed"
        out(self.style.WARNING(summary) if missed else self.style.SUCCESS(summary))

    def _progress(self, started):
        def report(message):
            self.stderr.write(f"[{time.monotonic() - started:6.1f} s] {message}")
            self.stderr.flush()

        return report
