import time

from django.core.management.base import BaseCommand, CommandError

from devtools import demo, demo_portal
from devtools.demo_library import library_seed
from devtools.demo_onboarding import onboarding_seed
from devtools.demo_pricing import pricing_seed
from insights.evaluate import insights_evaluate, insights_statistics_refresh
from insights.team_refresh import team_figures_refresh
from partners.models import Partner


class Command(BaseCommand):
    help = ("Load a realistic, deterministic demo dataset (reps, a manager, partners, two years of history, leads, "
            "customers and their service tickets).")

    def add_arguments(self, parser):
        parser.add_argument("--partners", type=int, default=200, help="How many partners (default 200).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed; the same seed gives the same data.")
        parser.add_argument("--replace", action="store_true", help="Delete existing partners and their history first.")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when there are partners already.")
        parser.add_argument("--portal-only", action="store_true",
                            help="Only add the partner portal's demo data (partner users, deal registrations, feed) "
                                 "to the partners already there.")

    def handle(self, *args, partners, seed, replace, if_empty, portal_only=False, **options):
        if partners < 1:
            raise CommandError("--partners must be at least 1")
        if portal_only:
            self._seed_portal(seed, self._progress(time.monotonic()))
            return
        if Partner.objects.exists():
            if if_empty:
                if not demo_portal.Membership.objects.exists():  # seeded before the portal (issue 14): add it
                    self._seed_portal(seed, self._progress(time.monotonic()), logins=False)
                library_seed(progress=self._progress(time.monotonic()))  # issue 15, when missing (each runs once)
                onboarding_seed(progress=self._progress(time.monotonic()))
                pricing_seed(progress=self._progress(time.monotonic()))  # issue 17, when missing (once)
                self.stdout.write("Demo data already loaded; nothing to do.")
                self._print_logins()
                return
            if not replace:
                raise CommandError("The database already has partners. Use --replace to delete them first.")
            self.stdout.write("Deleting existing partners and their history…")
            demo_portal.portal_clear()  # the partner users first (demo_clear's TRUNCATE takes their memberships)
            demo.demo_clear()
        started = time.monotonic()
        try:
            summary = demo.demo_seed(partners=partners, seed=seed, progress=self._progress(started))
        except ValueError as error:
            raise CommandError(str(error)) from error
        library_seed(progress=self._progress(started))  # issue 15: a few categories, tags and resources (once)
        onboarding_seed(progress=self._progress(started))  # issue 15: content pages, a track of every step kind
        pricing_seed(progress=self._progress(started))  # issue 17: products and price books of every scope (once)
        # What the nightly jobs would have done, so a new user finds suggestions on Today and figures on /team/.
        progress = self._progress(started)
        step = time.monotonic()
        found = sum(counts["seen"] for counts in insights_evaluate().values())
        insights_statistics_refresh(written=found)  # as the nightly run does: the pages plan with the real size
        progress(f"insights: {found:,} suggestions (insights_evaluate) in {time.monotonic() - step:.1f} s")
        step = time.monotonic()
        team_figures_refresh()
        progress(f"team dashboard figures (team_figures_refresh) in {time.monotonic() - step:.1f} s")
        self._seed_portal(seed, progress, logins=False)  # issue 14: partner users, registrations, the feed
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(
            f"Loaded {summary.partners:,} partners, {summary.contacts:,} contact points, {summary.locations:,} "
            f"locations, {summary.activities:,} activities, {summary.leads:,} leads, {summary.customers:,} customers "
            f"({summary.customer_contacts:,} contacts, {summary.customer_locations:,} locations), {summary.tickets:,} "
            f"tickets ({summary.ticket_comments:,} comments, {summary.ticket_changes:,} status changes), "
            f"{summary.targets:,} targets and {summary.achievements:,} achievements in {elapsed:.1f} s."
        ))
        self._print_logins()

    def _seed_portal(self, seed, progress, *, logins=True):
        step = time.monotonic()
        try:
            portal = demo_portal.portal_seed(seed=seed, progress=progress)
        except ValueError as error:
            raise CommandError(str(error)) from error
        progress(f"partner portal: {portal.users:,} partner users, {portal.registrations:,} deal registrations, "
                 f"{portal.deal_events:,} deal events, {portal.portal_events:,} feed events, {portal.announcements} "
                 f"announcements in {time.monotonic() - step:.1f} s")
        if logins:
            self._print_portal_logins()

    def _print_portal_logins(self):
        self.stdout.write(
            f"Partner portal logins (password {demo.DEMO_PASSWORD!r}): 'partner1', 'partner2', 'partner3' (the partner "
            "admins of the first three partners; /portal/)."
        )

    def _progress(self, started):
        def report(message):
            self.stdout.write(f"[{time.monotonic() - started:6.1f} s] {message}")
            self.stdout.flush()

        return report

    def _print_logins(self):
        self.stdout.write(
            f"Demo logins (password {demo.DEMO_PASSWORD!r} for all): manager '{demo.MANAGER_USERNAME}' "
            "(sees every partner, uses /admin/), reps 'rep1', 'rep2', … (see their own partners)."
        )
        self._print_portal_logins()
