"""``manage.py refresh_team_figures``: recompute the team dashboard's attainment and movers now (they are otherwise
refreshed nightly, after the business metrics)."""

import time

from django.core.management.base import BaseCommand

from insights.team_refresh import team_figures_refresh


class Command(BaseCommand):
    help = "Recompute the team dashboard's pre-aggregated figures (attainment per tier, biggest movers)."

    def handle(self, *args, **options):
        started = time.perf_counter()
        result = team_figures_refresh()
        self.stdout.write(
            f"Team figures refreshed: {result.attainment_rows} attainment rows, {result.mover_rows} movers "
            f"in {time.perf_counter() - started:.1f} s."
        )
