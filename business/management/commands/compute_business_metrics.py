from django.core.management.base import BaseCommand, CommandError

from business import periods
from business.metrics import metrics_compute_period, metrics_compute_range, metrics_compute_recent
from business.models import Frequency


def _month(text):
    try:
        return periods.parse(text, Frequency.MONTHLY)
    except periods.PeriodError as exc:
        raise CommandError(str(exc)) from None


class Command(BaseCommand):
    help = (
        "Compute the generated values (leads generated/converted, revenue) of every partner. Without options: the "
        "current and the previous period, like the nightly task."
    )

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--period", help="One month, YYYY-MM (a quarterly parameter: the quarter containing it).")
        group.add_argument("--since", help="Every period from this month, YYYY-MM, up to the current one.")
        parser.add_argument("--no-wait", action="store_true", help="Skip instead of waiting when another run holds the lock.")

    def handle(self, *args, period=None, since=None, no_wait=False, **options):
        wait = not no_wait
        if period:
            result = metrics_compute_period(day=_month(period), wait=wait)
        elif since:
            result = metrics_compute_range(since=_month(since), wait=wait)
        else:
            result = metrics_compute_recent(wait=wait)
        for line in result.lines():
            self.stdout.write(line)
        total = sum(result.written.values())
        self.stdout.write(self.style.SUCCESS(f"done: {len(result.written)} parameter-periods, {total} rows written"))
