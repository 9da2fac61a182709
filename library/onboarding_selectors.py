"""Reads of content pages and onboarding (portal and staff). What a partner sees is decided here and only here:
``pages_for`` (the most specific published page of each kind) and ``tracks_for`` (the published tracks of its
audience); a partner user's own walk is ``progress_get_for_member`` (another user's progress is a 404, on every verb).
Staff reads are scoped by ``partners.selectors.partner_visible_to`` (a rep sees their partners' people only).
Query budgets are in each docstring (asserted in tests/onboarding).

The audience rule (pages and tracks): a row is for a partner when its tier is empty or the partner's tier, and its
partner kind is empty or the partner's kind. Specificity (pages): tier + kind (3), tier (2), kind (1), everyone (0).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Avg, Case, Count, Exists, IntegerField, Max, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Lower
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from library.models import ContentPage, Progress, QuizQuestion, Step, StepDone, StepQuestion, Track
from partners.models import Partner
from partners.selectors import partner_visible_to, user_sees_all_partners
from portal.models import Membership
from prm.paging import Page, page_number

PAGE_SIZE = 25
KIND_RANK = {ContentPage.Kind.GETTING_STARTED: 0, ContentPage.Kind.FAQ: 1, ContentPage.Kind.OTHER: 2}


def _audience(partner: Partner) -> Q:
    tier = Q(tier__isnull=True) | Q(tier_id=partner.tier_id) if partner.tier_id else Q(tier__isnull=True)
    return tier & (Q(partner_kind="") | Q(partner_kind=partner.kind))


# --- Content pages ----------------------------------------------------------------------------------------------------


def pages_for(*, partner: Partner) -> list[ContentPage]:
    """The published pages ``partner`` sees, Getting Started first, then the FAQ, then the others (by order, title):
    of each kind the most specific page (tier + kind, then tier, then kind, then everyone); "other" pages are many, so
    for them the most specific page of each title. One query (``DISTINCT ON (kind, slot)`` by specificity)."""
    rows = (
        ContentPage.objects.filter(_audience(partner), published=True)
        .annotate(
            specificity=Case(When(tier__isnull=False, then=Value(2)), default=Value(0), output_field=IntegerField())
            + Case(When(~Q(partner_kind=""), then=Value(1)), default=Value(0), output_field=IntegerField()),
            slot=Case(When(kind=ContentPage.Kind.OTHER, then=Lower("title")), default=Value("")),
        )
        .order_by("kind", "slot", "-specificity", "order", "id")
        .distinct("kind", "slot")
        .defer("body")
    )
    return sorted(rows, key=lambda p: (KIND_RANK.get(p.kind, 3), p.order, p.title.lower(), p.pk))


def page_get_for_member(member: Membership, pk: int) -> tuple[ContentPage, list[ContentPage]]:
    """(the page ``pk``, the partner's pages) when ``pk`` is one of the pages meant for ``member``'s partner, else
    Http404 (a page of another audience, or a less specific one, is not theirs). Two queries: the partner's pages,
    the page's body."""
    pages = pages_for(partner=member.partner)
    if not any(p.pk == pk for p in pages):
        raise Http404("not a page for this partner")
    return ContentPage.objects.get(pk=pk), pages


# --- Tracks and a user's progress -------------------------------------------------------------------------------------


def tracks_for(*, partner: Partner) -> QuerySet[Track]:
    """The published tracks of ``partner``'s audience (by name), to filter further. No query of its own."""
    return Track.objects.filter(_audience(partner), published=True).order_by("name", "id")


@dataclass
class TrackRow:
    track: Track
    step_count: int
    progress: Progress | None


def member_tracks(*, member: Membership) -> list[TrackRow]:
    """``member``'s tracks with their step counts and the user's progress on each. Two queries: the tracks (with
    their step count), the user's progress rows."""
    tracks = list(tracks_for(partner=member.partner).annotate(step_count=Count("steps")))
    progress = {p.track_id: p for p in Progress.objects.filter(user_id=member.user_id,
                                                               track_id__in=[t.pk for t in tracks])}
    return [TrackRow(track=t, step_count=t.step_count, progress=progress.get(t.pk)) for t in tracks]


def progress_get_for_member(member: Membership, pk: int) -> Progress:
    """``member``'s own progress ``pk`` (with its track), else Http404 — another user's, even a colleague's, too.
    One query."""
    return get_object_or_404(
        Progress.objects.select_related("track"), pk=pk, user_id=member.user_id, partner_id=member.partner_id
    )


def step_is_complete(done: StepDone | None) -> bool:
    return done is not None and done.passed and done.review in (StepDone.Review.NONE, StepDone.Review.ACCEPTED)


@dataclass
class StepRow:
    step: Step
    done: StepDone | None
    open: bool  # may be opened: every earlier step is complete (or its upload waits for review)

    @property
    def complete(self) -> bool:
        return step_is_complete(self.done)

    @property
    def state(self) -> str:
        if self.complete:
            return "done"
        if self.done is not None and self.done.review == StepDone.Review.PENDING:
            return "pending"
        if self.done is not None and self.done.review == StepDone.Review.REJECTED:
            return "rejected"
        if self.done is not None and not self.done.passed:
            return "failed"
        return "open" if self.open else "locked"


def step_rows(*, progress: Progress) -> list[StepRow]:
    """The track's steps in order with what this user did on each. Two queries: the steps, the user's StepDone rows.

    A step is open when every earlier step is complete or waits for review (an upload does not hold up the walk)."""
    steps = list(Step.objects.filter(track_id=progress.track_id).order_by("order", "id"))
    done = {d.step_id: d for d in StepDone.objects.filter(progress_id=progress.pk)}
    rows, blocked = [], False
    for step in steps:
        row = StepRow(step=step, done=done.get(step.pk), open=not blocked)
        rows.append(row)
        if not row.complete and not (row.done is not None and row.done.review == StepDone.Review.PENDING):
            blocked = True
    return rows


def step_questions(*, step: Step) -> list[QuizQuestion]:
    """A quiz step's questions with their choices. Two queries."""
    return list(QuizQuestion.objects.filter(step=step).prefetch_related("choices").order_by("order", "id"))


def asked_by(*, user_id: int, step: Step) -> list[StepQuestion]:
    """The questions ``user_id`` asked on ``step`` (newest first) with their answers. One query."""
    return list(StepQuestion.objects.filter(step=step, user_id=user_id).order_by("-asked_at", "-id")[:20])


# --- Staff: report, stalls, questions, reviews ------------------------------------------------------------------------


def staff_tracks() -> list[Track]:
    """Every track (published or not) with its step count, by name. One query."""
    return list(Track.objects.annotate(step_count=Count("steps")).order_by("name", "id"))


def _visible(queryset: QuerySet, user: AbstractBaseUser, partner_field: str = "partner") -> QuerySet:
    """``queryset`` narrowed to the partners ``user`` sees; a manager's is left whole (no semi-join with every
    partner over millions of rows)."""
    if user.is_active and user_sees_all_partners(user):
        return queryset
    return queryset.filter(**{f"{partner_field}__in": partner_visible_to(user).values("pk")})


def _progress_visible_to(user: AbstractBaseUser) -> QuerySet[Progress]:
    return _visible(Progress.objects.all(), user)


@dataclass
class TrackTotals:
    users: int = 0
    completed: int = 0
    average: float = 0.0


def track_totals(*, track: Track, user: AbstractBaseUser) -> TrackTotals:
    """How many of the partners ``user`` sees started / completed ``track``, and the average percent. One query
    (an aggregate over the track's progress rows)."""
    found = _progress_visible_to(user).filter(track=track).aggregate(
        users=Count("id"), completed=Count("id", filter=Q(completed_at__isnull=False)), average=Avg("percent"),
    )
    return TrackTotals(users=found["users"], completed=found["completed"], average=float(found["average"] or 0))


@dataclass
class PartnerRow:
    partner: Partner
    users: int = 0
    completed: int = 0
    average: float = 0.0
    last: datetime | None = None


def partner_report_page(*, track: Track, user: AbstractBaseUser, page: object, query: str = "") -> Page:
    """The partners ``user`` sees that started ``track`` (by name, ``PAGE_SIZE`` a page; ``query`` filters names),
    each with its users started / completed, the average percent and the last progress. Two queries: the page of
    partners (an EXISTS probe of the (track, partner) index per partner, stopping after a page), their aggregates
    (GROUP BY partner over those partners' rows only)."""
    number = page_number(page)
    partners = partner_visible_to(user).filter(
        Exists(Progress.objects.filter(track_id=track.pk, partner_id=OuterRef("pk")))
    )
    if query:
        partners = partners.filter(name__icontains=query[:100])
    offset = (number - 1) * PAGE_SIZE
    found = list(partners.select_related("tier").order_by("name", "id")[offset:offset + PAGE_SIZE + 1])
    has_next = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    figures = {
        row["partner_id"]: row
        for row in Progress.objects.filter(track_id=track.pk, partner_id__in=[p.pk for p in found])
        .values("partner_id")
        .annotate(users=Count("id"), completed=Count("id", filter=Q(completed_at__isnull=False)),
                  average=Avg("percent"), last=Max("updated_at"))
        .order_by()
    } if found else {}
    rows = []
    for partner in found:
        f = figures.get(partner.pk, {})
        rows.append(PartnerRow(partner=partner, users=f.get("users", 0), completed=f.get("completed", 0),
                               average=float(f.get("average") or 0), last=f.get("last")))
    return Page(rows=rows, number=number, has_next=has_next)


def partner_progress(*, partner: Partner) -> list[Progress]:
    """Every progress row of ``partner``'s users (by track, then user), with user, track and current step. One
    query."""
    return list(
        Progress.objects.filter(partner=partner)
        .select_related("user", "track", "current_step")
        .order_by("track__name", "track_id", "user__first_name", "user__last_name", "user__username")
    )


@dataclass
class StallRow:
    step: Step | None
    stopped: int = 0  # users whose current step this is (not completed)
    idle: int = 0  # …of whom without progress for the track's stall_days
    shares: dict = field(default_factory=dict)


def stall_report(*, track: Track, user: AbstractBaseUser, now: datetime | None = None) -> list[StallRow]:
    """For each step of ``track``: how many users (of the partners ``user`` sees) stopped there (it is their current
    step and they have not completed) and how many of those are idle for the track's ``stall_days``. Two queries:
    the steps, one GROUP BY current_step."""
    now = now or timezone.now()
    steps = list(Step.objects.filter(track=track).order_by("order", "id"))
    idle_since = now - timedelta(days=track.stall_days or 0)
    counts = {
        row["current_step_id"]: row
        for row in _progress_visible_to(user).filter(track=track, completed_at__isnull=True)
        .values("current_step_id")
        .annotate(stopped=Count("id"), idle=Count("id", filter=Q(updated_at__lte=idle_since)))
        .order_by()
    }
    rows = [StallRow(step=s, stopped=counts.get(s.pk, {}).get("stopped", 0), idle=counts.get(s.pk, {}).get("idle", 0))
            for s in steps]
    if None in counts:  # started a track whose steps were removed since
        rows.append(StallRow(step=None, stopped=counts[None]["stopped"], idle=counts[None]["idle"]))
    return rows


def questions_page(*, user: AbstractBaseUser, page: object, open_only: bool = False) -> Page:
    """The questions asked by the people of the partners ``user`` sees: unanswered first (oldest first: they have
    waited longest), then answered (newest first). One query."""
    number = page_number(page)
    rows = (
        _visible(StepQuestion.objects.all(), user)
        .select_related("user", "partner", "step", "step__track", "answered_by")
        .annotate(is_open=Case(When(answered_at__isnull=True, then=Value(0)), default=Value(1),
                               output_field=IntegerField()))
    )
    if open_only:
        rows = rows.filter(answered_at__isnull=True)
    rows = rows.order_by("is_open", Case(When(answered_at__isnull=True, then="asked_at")).asc(nulls_last=True),
                         "-asked_at", "-id")
    offset = (number - 1) * PAGE_SIZE
    found = list(rows[offset:offset + PAGE_SIZE + 1])
    return Page(rows=found[:PAGE_SIZE], number=number, has_next=len(found) > PAGE_SIZE)


def question_get_for_user(user: AbstractBaseUser, pk: int) -> StepQuestion:
    """The question ``pk`` when its partner is visible to ``user``, else Http404 (with user, partner, step). One
    query (two for a rep: the manager check first)."""
    return get_object_or_404(
        StepQuestion.objects.filter(partner__in=partner_visible_to(user).values("pk"))
        .select_related("user", "partner", "step", "step__track"),
        pk=pk,
    )


def reviews_page(*, user: AbstractBaseUser, page: object) -> Page:
    """Uploads waiting for review from the partners ``user`` sees, oldest first. One query."""
    number = page_number(page)
    rows = (
        _visible(StepDone.objects.filter(review=StepDone.Review.PENDING), user, "progress__partner")
        .select_related("progress__user", "progress__partner", "step", "step__track")
        .order_by("at", "id")
    )
    offset = (number - 1) * PAGE_SIZE
    found = list(rows[offset:offset + PAGE_SIZE + 1])
    return Page(rows=found[:PAGE_SIZE], number=number, has_next=len(found) > PAGE_SIZE)


def upload_get_for_user(user: AbstractBaseUser, pk: int) -> StepDone:
    """An uploaded document (a StepDone with a file) of a partner ``user`` sees, else Http404. One query."""
    return get_object_or_404(
        StepDone.objects.filter(progress__partner__in=partner_visible_to(user).values("pk"))
        .exclude(upload="")
        .select_related("progress__user", "progress__partner", "step", "step__track"),
        pk=pk,
    )
