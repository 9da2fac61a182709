"""``manage.py evaluate_insights [--partner ID …]``: evaluate the insight rules now (otherwise nightly at 01:45 and
for one partner right after its activities or figures change)."""

import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from business.periods import org_today
from insights.evaluate import insights_evaluate, insights_statistics_refresh
from insights.notify import insights_notify_new


class Command(BaseCommand):
    help = "Evaluate the insight rules for every partner, or only the given partners (ids)."

    def add_arguments(self, parser):
        parser.add_argument("--partner", type=int, action="append", dest="partners", metavar="ID",
                            help="Only this partner (repeatable).")

    def handle(self, *args, partners=None, **options):
        started, now = time.perf_counter(), timezone.now()
        counts = insights_evaluate(now=now, partner_ids=partners)
        insights_statistics_refresh(written=sum(count["written"] for count in counts.values()))
        for code, count in counts.items():
            self.stdout.write(f"{code}: {count['seen']} found, {count['written']} written, "
                              f"{count['resolved']} resolved")
        if not partners:  # the whole nightly job: tell the reps, as the beat task does
            notified = insights_notify_new(since=now, day=org_today())
            self.stdout.write(f"{notified} rep(s) told about new suggestions.")
        self.stdout.write(f"Done in {time.perf_counter() - started:.1f} s.")
