"""Benchmark of the staff onboarding report (issue 15) at scale: 100,000 partners, 300,000 partner users, 2,000,000
progress rows: ``manage.py bench --only onboarding`` on a database seeded with the portal's demo data (``seed_demo``,
or ``seed_demo --portal-only`` on one seeded before the portal).

``onboarding_bench_seed`` adds seven published tracks of six steps and, set-based (one INSERT … SELECT), a walk for
95% of (partner user, track) pairs — about 2,000,000 rows at 300,000 users — at every stage from not begun to
completed, with their last progress spread over sixty days (so the stall report has idle walks), then ANALYZE.

Measured (``devtools.bench_measure``: one request counting queries, then ``repeat`` timed ones), target median
≤ 300 ms and ≤ 10 queries: the report (/onboarding/) of the busiest track for a manager (first page and a deep page,
and a partner-name search) and for the rep with the most partners, where partners stall (/onboarding/stalls/), one
partner's users (/onboarding/partners/<id>/) and the questions page.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse

from devtools.bench_measure import median_page_row
from library.models import Progress, Step, Track
from library.onboarding_services import step_save, track_save
from partners.models import Partner
from partners.roles import MANAGER, SALES_REP
from portal.models import Membership
from prm.pg import analyze

SECTION = "onboarding"
REPORT_MS, REPORT_QUERIES = 300, 10
TRACKS = 7
STEPS = 6
PREFIX = "Bench track"


def _noop(message):
    pass


def onboarding_bench_seed(*, tracks: int = TRACKS, progress=_noop) -> int:
    """Add the bench's tracks and walks (once: nothing when they exist). Returns how many walks were written."""
    if Track.objects.filter(name__startswith=PREFIX).exists():
        progress("onboarding bench data: already there")
        return 0
    with transaction.atomic():
        track_ids = []
        for n in range(1, tracks + 1):
            track = track_save(track=None, name=f"{PREFIX} {n}", published=True, stall_days=7)
            for order in range(1, STEPS + 1):
                step_save(step=None, track=track, kind=Step.Kind.ACKNOWLEDGE, title=f"Step {order}",
                          statement="Agreed.")
            track_ids.append(track.pk)
        table, steps, members = (connection.ops.quote_name(m._meta.db_table) for m in (Progress, Step, Membership))
        with connection.cursor() as cursor:
            cursor.execute(f"""
                INSERT INTO {table} (user_id, partner_id, track_id, current_step_id, steps_done, percent, started_at,
                                     updated_at, completed_at, reminded_at)
                SELECT w.user_id, w.partner_id, w.track_id, s.id, w.done, w.done * 100 / {STEPS},
                       now() - interval '90 days', w.updated_at,
                       CASE WHEN w.done = {STEPS} THEN w.updated_at END, NULL
                FROM (
                    SELECT m.user_id, m.partner_id, t.id AS track_id, (m.id * 31 + t.id * 17) %% ({STEPS} + 1) AS done,
                           now() - ((m.id * 7 + t.id * 13) %% 60) * interval '1 day' AS updated_at
                    FROM {members} m CROSS JOIN unnest(%(tracks)s::bigint[]) AS t(id)
                    WHERE (m.id * 7919 + t.id * 104729) %% 100 < 95
                ) w
                LEFT JOIN {steps} s ON s.track_id = w.track_id AND s."order" = w.done + 1
            """, {"tracks": track_ids})  # noqa: S608 (names from the models)
            written = cursor.rowcount
        analyze(Progress)
    progress(f"onboarding bench data: {written:,} walks on {tracks} tracks")
    return written


def _users():
    user_model = get_user_model()
    manager = user_model.objects.filter(groups__name=MANAGER, is_active=True).order_by("id").first()
    rep_id = (Partner.objects.filter(assigned_to__groups__name=SALES_REP).values("assigned_to")
              .annotate(n=Count("id")).order_by("-n").values_list("assigned_to", flat=True).first())
    rep = user_model.objects.filter(pk=rep_id).first() if rep_id else None
    return manager, rep


def bench_onboarding(*, repeat: int = 20, progress=_noop) -> list[dict]:
    """The rows of the report's benchmark (dicts of ``devtools.bench.Row`` fields)."""
    track = Track.objects.filter(name__startswith=PREFIX).order_by("id").first()
    if track is None:
        return [{"section": SECTION, "name": "onboarding report", "ok": False,
                 "target": f"median ≤ {REPORT_MS} ms, ≤ {REPORT_QUERIES} q",
                 "note": "no bench data: run onboarding_bench_seed() first"}]
    manager, rep = _users()
    walks = Progress.objects.filter(track=track).count()
    busiest = (Progress.objects.filter(track=track).values("partner").annotate(n=Count("id")).order_by("-n")
               .values_list("partner", flat=True).first())
    rows = []
    home = reverse("onboarding_staff:home")
    with override_settings(DEBUG=False, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"],
                           SECURE_SSL_REDIRECT=False):
        for label, user in (("manager", manager), ("rep", rep)):
            if user is None:
                continue
            client = Client()
            client.force_login(user)
            pages = [("report, first page", f"{home}?track={track.pk}"),
                     ("report, page 40", f"{home}?track={track.pk}&page=40"),
                     ("report, partner search", f"{home}?track={track.pk}&q=ab"),
                     ("stalls", f"{reverse('onboarding_staff:stalls')}?track={track.pk}"),
                     ("questions", reverse("onboarding_staff:questions"))]
            if label == "manager" and busiest:
                pages.append(("one partner's users", reverse("onboarding_staff:partner", args=[busiest])))
            for name, url in pages:
                progress(f"onboarding · {label} {name}")
                rows.append(median_page_row(SECTION, f"{label}: {name}", client, url, repeat,
                                            target_ms=REPORT_MS, target_queries=REPORT_QUERIES,
                                            note=f"{walks:,} walks of the track"))
    return rows
