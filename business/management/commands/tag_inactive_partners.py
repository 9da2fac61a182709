from django.core.management.base import BaseCommand

from business.services import partners_tag_inactive


class Command(BaseCommand):
    help = "Apply the inactivity rules (admin: Business › Inactivity rules) to every partner they govern."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Print what would change; write nothing.")
        parser.add_argument("--show", type=int, default=20, help="How many changed partners to list (default 20).")

    def handle(self, *args, dry_run=False, show=20, **options):
        result = partners_tag_inactive(dry_run=dry_run, sample=show)
        for code, name, status, reason in result.changes:
            self.stdout.write(f"{code}  {name}: → {status} ({reason})")
        shown = len(result.changes)
        if shown < result.deactivated + result.reactivated:
            self.stdout.write(f"… and {result.deactivated + result.reactivated - shown} more")
        prefix = "DRY RUN, nothing written: " if dry_run else ""
        self.stdout.write(self.style.SUCCESS(prefix + str(result)))
