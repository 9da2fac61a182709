"""``manage.py import_prices FILE [--dry-run] [--user USERNAME]``: the admin's price upload, from a shell."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pricing.imports import COLUMNS, import_prices


class Command(BaseCommand):
    help = (
        f"Import price book entries from a CSV or XLSX file with columns {','.join(COLUMNS)} (min_quantity and "
        "currency optional). Validates every row first; writes all rows or none. A re-upload changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="A .csv (UTF-8) or .xlsx file.")
        parser.add_argument("--dry-run", action="store_true", help="Validate and report; write nothing.")
        parser.add_argument("--user", help="Username recorded as the uploader (default: none).")

    def handle(self, *args, file: str, dry_run: bool, user: str | None, **options) -> None:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        uploader = None
        if user:
            uploader = get_user_model().objects.filter(username=user).first()
            if uploader is None:
                raise CommandError(f"no user named {user!r}")
        with path.open("rb") as handle:
            result = import_prices(file=handle, file_name=path.name, user=uploader, dry_run=dry_run)
        for error in result.errors:
            self.stderr.write(str(error))
        if result.error_count > len(result.errors):
            self.stderr.write(f"… {result.error_count - len(result.errors)} more errors not listed.")
        prefix = "Dry run, nothing written. " if dry_run else ""
        self.stdout.write(f"{prefix}Price entries from {path.name}: {result.summary()}")
        if not result.ok:
            raise CommandError(f"{result.error_count} errors; nothing was imported.")
        if result.batch is not None:
            self.stdout.write(self.style.SUCCESS(f"Recorded as price batch #{result.batch.pk}."))
