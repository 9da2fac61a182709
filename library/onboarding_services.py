"""Writes of onboarding: the only code that writes ``Track``, ``Step``, ``QuizQuestion``, ``QuizChoice``,
``Progress``, ``StepDone`` and ``StepQuestion``.

Decisions:
- A partner user walks a track at their own pace: ``progress_start`` makes their Progress row (once: the unique
  (user, track) and ON CONFLICT), each step is recorded by ``step_complete`` (read a resource, watch a video, read a
  page, acknowledge a statement), ``quiz_answer`` or ``upload_submit``, and ``_refresh`` recomputes the Progress row
  (steps done, percent, current step, completed at, updated at) in the same transaction, under the row's lock
  (``SELECT … FOR UPDATE``): two tabs or a double tap record a step once and count it once.
- A step is open when every earlier step is complete or its upload waits for review
  (``library.onboarding_selectors.step_rows``); a later one is refused. Complete = passed and not waiting for / refused
  at review. The current step is the first step not complete that is open (else the first waiting for review).
- A quiz passes with at least ``pass_mark`` correct answers; a failed attempt is recorded (``passed`` False, its
  answers and score) and may be retried; the last attempt is kept. Answers name choices of the step's own questions,
  anything else is refused.
- An upload is checked by type (extension AND content: ``service.attachments``' checkers; PDF, Word, Excel, PNG, JPEG)
  and size (``settings.ONBOARDING_UPLOAD_MAX_BYTES``, 10 MB by default), stored through ``default_storage`` under a
  random name, and waits for staff review: accepted completes the step, rejected asks for it again (the next upload
  replaces the file; the old one is deleted after commit).
- Completing a track records a PortalEvent (the partner's feed) and notifies the user and the partner's rep, once
  each (source keys). A question on a step notifies the partner's rep (``notifications_create``: in-app and emailed);
  the answer notifies the asker. Emails leave through ``notifications.tasks.send_pending_emails`` after commit.
- Stall reminders (``progress_remind_stalled``, the beat's): a conditional ``UPDATE … SET reminded_at = now …
  RETURNING`` over the unfinished walks idle for their track's ``stall_days`` whose last reminder (if any) is older
  than their last progress, in batches (``FOR UPDATE SKIP LOCKED``), each batch in one transaction with its
  notifications: once per stall; a second run finds nothing; progress after a reminder re-arms it.
- Changing a track's steps recomputes every walk of it in one set-based UPDATE (``_refresh_track``).
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from library.models import (
    ContentPage,
    Progress,
    QuizChoice,
    QuizQuestion,
    Resource,
    Step,
    StepDone,
    StepQuestion,
    Track,
)
from library.onboarding_selectors import step_rows, tracks_for
from notifications.models import Notification
from notifications.services import NotificationItem, notifications_create
from notifications.tasks import send_pending_emails
from partners.models import Partner, Tier
from portal.events import EventItem, portal_events_record
from portal.models import Membership, PortalEvent
from prm.tasks import enqueue_on_commit
from service.attachments import KINDS as FILE_KINDS
from service.attachments import CheckedFile, file_check

User = AbstractBaseUser
UPLOAD_EXTENSIONS = ("pdf", "docx", "xlsx", "png", "jpg", "jpeg")
UPLOAD_ACCEPT = ",".join(f".{ext}" for ext in UPLOAD_EXTENSIONS)
MAX_CHOICES = 6
REMIND_BATCH = 5000  # stall reminders claimed per statement (the beat's task runs batches until none is left)


def _notify(items: list[NotificationItem]) -> int:
    created = notifications_create(items=items)
    if created:
        enqueue_on_commit(send_pending_emails)
    return created


def _name(user: User) -> str:
    return (user.get_full_name() or user.get_username())[:150]


def progress_link(progress_id: int, step_id: int | None = None) -> str:
    if step_id:
        return reverse("onboarding:step", args=[progress_id, step_id])
    return reverse("onboarding:progress", args=[progress_id])


# --- Tracks, steps and quizzes (staff) --------------------------------------------------------------------------------


@transaction.atomic
def track_save(
    *, track: Track | None, name: str, description: str = "", tier: Tier | None = None, partner_kind: str = "",
    published: bool = False, stall_days: int = 7,
) -> Track:
    """Create (``track`` None) or update a track; ValidationError naming the field on bad input."""
    track = track or Track()
    track.name = (name or "").strip()
    track.description = (description or "").strip()
    track.tier = tier
    track.partner_kind = partner_kind or ""
    track.published = bool(published)
    track.stall_days = stall_days if stall_days is not None else 7
    if track.partner_kind and track.partner_kind not in Partner.Kind.values:
        raise ValidationError({"partner_kind": "Choose a partner kind from the list."})
    track.full_clean()
    track.save()
    return track


def _check_step(step: Step) -> None:
    kind = step.kind
    if kind in (Step.Kind.RESOURCE, Step.Kind.VIDEO) and step.resource_id is None:
        raise ValidationError({"resource": "Choose the resource to read or the video to watch."})
    if kind == Step.Kind.VIDEO and step.resource.kind not in (Resource.Kind.VIDEO, Resource.Kind.LINK):
        raise ValidationError({"resource": "Choose a video (or link) resource for a “watch a video” step."})
    if kind == Step.Kind.PAGE and step.page_id is None:
        raise ValidationError({"page": "Choose the page to read."})
    if kind == Step.Kind.ACKNOWLEDGE and not step.statement.strip():
        raise ValidationError({"statement": "Write the statement to acknowledge."})
    if kind == Step.Kind.QUIZ and step.pass_mark < 1:
        raise ValidationError({"pass_mark": "A quiz needs at least one correct answer to pass."})
    if kind != Step.Kind.QUIZ:
        step.pass_mark = 0
    if kind not in (Step.Kind.RESOURCE, Step.Kind.VIDEO):
        step.resource = None
    if kind != Step.Kind.PAGE:
        step.page = None
    if kind != Step.Kind.ACKNOWLEDGE:
        step.statement = ""


@transaction.atomic
def step_save(
    *, step: Step | None, track: Track, kind: str, title: str, resource: Resource | None = None,
    page: ContentPage | None = None, statement: str = "", pass_mark: int = 0,
) -> Step:
    """Create (added last) or update a step of ``track``; what the kind needs is required (see ``_check_step``). A
    new step, or a step of another kind (its records are dropped), changes every walk's percent and current step:
    recomputed for the whole track."""
    Track.objects.select_for_update().filter(pk=track.pk).first()  # serialises order numbers of one track
    new = step is None
    old_kind = None if new else Step.objects.filter(pk=step.pk).values_list("kind", flat=True).first()
    step = step or Step(track=track)
    step.kind = kind
    step.title = (title or "").strip()
    step.resource = resource
    step.page = page
    step.statement = (statement or "").strip()
    step.pass_mark = pass_mark or 0
    if new:
        step.order = (Step.objects.filter(track=track).aggregate(m=Max("order"))["m"] or 0) + 1
    step.full_clean(exclude=["track", "resource", "page"], validate_unique=False)
    _check_step(step)
    step.save()
    if not new and old_kind != step.kind:  # what was done for the old kind (a quiz attempt, an upload) no longer applies
        StepDone.objects.filter(step=step).delete()
    if new or old_kind != step.kind:
        _refresh_track(track.pk)
    return step


@transaction.atomic
def step_move(*, step: Step, direction: str) -> bool:
    """Move ``step`` one place "up" or "down" in its track (swapping orders). Returns whether it moved."""
    Track.objects.select_for_update().filter(pk=step.track_id).first()
    step = Step.objects.get(pk=step.pk)
    siblings = Step.objects.filter(track_id=step.track_id)
    other = (siblings.filter(order__lt=step.order).order_by("-order") if direction == "up"
             else siblings.filter(order__gt=step.order).order_by("order")).first()
    if other is None:
        return False
    mine, theirs = step.order, other.order
    Step.objects.filter(pk=step.pk).update(order=32000)
    Step.objects.filter(pk=other.pk).update(order=mine)
    Step.objects.filter(pk=step.pk).update(order=theirs)
    _refresh_track(step.track_id)
    return True


@transaction.atomic
def step_delete(*, step: Step) -> None:
    """Remove a step (its records go with it) and recompute every walk of its track."""
    track_id = step.track_id
    Track.objects.select_for_update().filter(pk=track_id).first()
    step.delete()
    _refresh_track(track_id)


@transaction.atomic
def quiz_question_add(*, step: Step, text: str, choices: list[str], correct: list[int]) -> QuizQuestion:
    """Add a question to a quiz step: 2 to ``MAX_CHOICES`` choices (empty ones ignored), at least one correct
    (``correct``: indexes into ``choices``)."""
    if step.kind != Step.Kind.QUIZ:
        raise ValidationError({"text": "Only a quiz step has questions."})
    text = (text or "").strip()
    kept = [(i, (c or "").strip()) for i, c in enumerate(choices[:MAX_CHOICES])]
    kept = [(i, c) for i, c in kept if c]
    if len(kept) < 2:
        raise ValidationError({"choices": "Write at least two choices."})
    if not any(i in correct for i, _c in kept):
        raise ValidationError({"correct": "Mark at least one written choice correct."})
    if any(len(c) > 300 for _i, c in kept):
        raise ValidationError({"choices": "A choice is at most 300 characters."})
    order = (QuizQuestion.objects.filter(step=step).aggregate(m=Max("order"))["m"] or 0) + 1
    question = QuizQuestion(step=step, order=order, text=text)
    question.full_clean(exclude=["step"])
    question.save()
    QuizChoice.objects.bulk_create([QuizChoice(question=question, text=c, correct=i in correct) for i, c in kept])
    return question


@transaction.atomic
def quiz_question_delete(*, question: QuizQuestion) -> None:
    question.delete()


def _refresh_track(track_id: int) -> int:
    """Recompute every walk of a track (after its steps changed) in one UPDATE: steps done, percent, current step
    (the first step, in order, not complete), completed at (kept when still complete, set now when newly so)."""
    progress, step, done = (connection.ops.quote_name(m._meta.db_table) for m in (Progress, Step, StepDone))
    sql = f"""
        WITH steps AS (SELECT id, "order" FROM {step} WHERE track_id = %(track)s),
        total AS (SELECT count(*) AS n FROM steps),
        figures AS (
            SELECT p.id,
                   (SELECT count(*) FROM {done} d JOIN steps s ON s.id = d.step_id
                    WHERE d.progress_id = p.id AND d.passed AND d.review IN ('', 'accepted')) AS n_done,
                   (SELECT s.id FROM steps s WHERE NOT EXISTS (
                        SELECT 1 FROM {done} d WHERE d.progress_id = p.id AND d.step_id = s.id
                          AND d.passed AND d.review IN ('', 'accepted'))
                    ORDER BY s."order", s.id LIMIT 1) AS current
            FROM {progress} p WHERE p.track_id = %(track)s
        )
        UPDATE {progress} p
        SET steps_done = f.n_done,
            percent = CASE WHEN t.n = 0 THEN 0 ELSE (100 * f.n_done / t.n) END,
            current_step_id = f.current,
            completed_at = CASE WHEN t.n > 0 AND f.n_done >= t.n THEN coalesce(p.completed_at, %(now)s) END
        FROM figures f, total t
        WHERE p.id = f.id
    """  # noqa: S608 (names from the models; values are parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"track": track_id, "now": timezone.now()})
        return cursor.rowcount


# --- Walking a track (partner users) ----------------------------------------------------------------------------------


@transaction.atomic
def progress_start(*, member: Membership, track: Track, now: datetime | None = None) -> Progress:
    """``member``'s user starts ``track`` (a published track of their partner's audience, else ValidationError);
    starting again returns the existing walk."""
    if not tracks_for(partner=member.partner).filter(pk=track.pk).exists():
        raise ValidationError("This track is not available to you.")
    now = now or timezone.now()
    first = Step.objects.filter(track=track).order_by("order", "id").values_list("id", flat=True).first()
    progress, _created = Progress.objects.get_or_create(
        user_id=member.user_id, track=track,
        defaults={"partner_id": member.partner_id, "current_step_id": first, "started_at": now, "updated_at": now},
    )
    return progress


@dataclass
class Outcome:
    """What recording a step did (for the page's message)."""

    step_done: StepDone
    completed_track: bool = False  # this step completed the track (celebrate)
    passed: bool = True
    score: int = 0
    needed: int = 0


def _lock(progress: Progress) -> Progress:
    return Progress.objects.select_for_update().select_related("track", "partner").get(pk=progress.pk)


def _open_row(progress: Progress, step: Step):
    rows = step_rows(progress=progress)
    row = next((r for r in rows if r.step.pk == step.pk), None)
    if row is None:
        raise ValidationError("This step is not part of the track.")
    if not row.open:
        raise ValidationError("Finish the earlier steps first.")
    return rows, row


def _refresh(progress: Progress, rows, now: datetime) -> bool:
    """Write the walk's figures from ``rows`` (the steps with this user's records); returns True when the track was
    completed by this change (recorded and notified here)."""
    total = len(rows)
    complete = [r for r in rows if r.complete]
    current = next((r.step for r in rows if not r.complete and r.state != "pending"), None) or next(
        (r.step for r in rows if not r.complete), None)
    progress.steps_done = len(complete)
    progress.percent = 100 * len(complete) // total if total else 0
    progress.current_step = current
    progress.updated_at = now
    newly = total > 0 and len(complete) == total and progress.completed_at is None
    if newly:
        progress.completed_at = now
    elif len(complete) < total:
        progress.completed_at = None
    progress.save(update_fields=["steps_done", "percent", "current_step", "updated_at", "completed_at"])
    if newly:
        _celebrate(progress)
    return newly


def _celebrate(progress: Progress) -> None:
    user = progress.user
    track = progress.track
    portal_events_record(items=[EventItem(
        partner_id=progress.partner_id, kind=PortalEvent.Kind.ONBOARDING,
        title=f"{_name(user)} completed the onboarding track “{track.name}”",
        source_key=f"onboarding:{progress.pk}:done", link=reverse("onboarding:home"), actor_id=user.pk,
    )])
    items = [NotificationItem(
        recipient_id=user.pk, event=Notification.Event.ONBOARDING_DONE,
        title=f"Well done: you completed “{track.name}”",
        body="Thank you for walking the whole onboarding track. Your partner manager has been told.",
        link=progress_link(progress.pk), source_key=f"progress:{progress.pk}:done",
    )]
    rep_id = progress.partner.assigned_to_id
    if rep_id:
        items.append(NotificationItem(
            recipient_id=rep_id, event=Notification.Event.ONBOARDING_DONE,
            title=f"{_name(user)} ({progress.partner.name}) completed “{track.name}”",
            link=reverse("onboarding_staff:partner", args=[progress.partner_id]),
            source_key=f"progress:{progress.pk}:done",
        ))
    _notify(items)


def _record(progress: Progress, step: Step, now: datetime, **values) -> Outcome:
    done, _created = StepDone.objects.update_or_create(progress=progress, step=step, defaults={"at": now, **values})
    rows = step_rows(progress=progress)
    completed = _refresh(progress, rows, now)
    return Outcome(step_done=done, completed_track=completed)


def _check_own(progress: Progress, step: Step, user: User) -> Progress:
    if progress.user_id != user.pk:
        raise ValidationError("This is not your onboarding.")
    if step.track_id != progress.track_id:
        raise ValidationError("This step is not part of the track.")
    return _lock(progress)


@transaction.atomic
def step_complete(*, progress: Progress, step: Step, by: User, acknowledged: bool = False,
                  now: datetime | None = None) -> Outcome:
    """Mark a read / watch / page / acknowledge step done ("I have read it"); an acknowledgement needs
    ``acknowledged``. Done twice records it once."""
    now = now or timezone.now()
    locked = _check_own(progress, step, by)
    if step.kind not in (Step.Kind.RESOURCE, Step.Kind.VIDEO, Step.Kind.PAGE, Step.Kind.ACKNOWLEDGE):
        raise ValidationError("This step is completed by its own form.")
    if step.kind == Step.Kind.ACKNOWLEDGE and not acknowledged:
        raise ValidationError({"acknowledged": "Tick the box to acknowledge the statement."})
    rows, row = _open_row(locked, step)
    if row.complete:
        return Outcome(step_done=row.done)
    outcome = _record(locked, step, now, passed=True, review=StepDone.Review.NONE)
    _copy(locked, progress)
    return outcome


def _copy(source: Progress, target: Progress) -> None:
    for name in ("steps_done", "percent", "current_step_id", "updated_at", "completed_at"):
        setattr(target, name, getattr(source, name))


@transaction.atomic
def quiz_answer(*, progress: Progress, step: Step, by: User, answers: dict[int, int],
                now: datetime | None = None) -> Outcome:
    """Record a quiz attempt: ``answers`` maps each question id of the step to a chosen choice id (unanswered
    questions count as wrong; ids of other questions or choices are refused). Passed with ``pass_mark`` correct
    answers; a failed attempt is recorded and may be retried; a passed quiz is not taken again."""
    now = now or timezone.now()
    locked = _check_own(progress, step, by)
    if step.kind != Step.Kind.QUIZ:
        raise ValidationError("This step is not a quiz.")
    rows, row = _open_row(locked, step)
    if row.complete:
        return Outcome(step_done=row.done, passed=True, score=row.done.score, needed=step.pass_mark)
    choices = {c.pk: c for c in QuizChoice.objects.filter(question__step=step)}
    question_ids = set(QuizQuestion.objects.filter(step=step).values_list("id", flat=True))
    if not question_ids:
        raise ValidationError("This quiz has no questions yet.")
    clean: dict[str, int] = {}
    for question_id, choice_id in answers.items():
        choice = choices.get(choice_id)
        if question_id not in question_ids or choice is None or choice.question_id != question_id:
            raise ValidationError("Choose one of the answers shown for each question.")
        clean[str(question_id)] = choice_id
    score = sum(1 for choice_id in clean.values() if choices[choice_id].correct)
    needed = min(step.pass_mark, len(question_ids)) or len(question_ids)
    passed = score >= needed
    outcome = _record(locked, step, now, passed=passed, answers=clean, score=score, review=StepDone.Review.NONE)
    _copy(locked, progress)
    outcome.passed, outcome.score, outcome.needed = passed, score, needed
    return outcome


def upload_max_bytes() -> int:
    return int(getattr(settings, "ONBOARDING_UPLOAD_MAX_BYTES", 10 * 1024 * 1024))


def upload_check(upload) -> CheckedFile:
    """Check an uploaded document by its extension, its content (magic bytes) and its size (the project's one
    upload check, ``service.attachments.file_check``); ValidationError on ``file`` naming what is wrong."""
    return file_check(upload, kinds={ext: FILE_KINDS[ext] for ext in UPLOAD_EXTENSIONS}, limit=upload_max_bytes())


@transaction.atomic
def upload_submit(*, progress: Progress, step: Step, by: User, upload, now: datetime | None = None) -> Outcome:
    """Store a document for an upload step (checked by ``upload_check``) and send it for review (the partner's rep
    is told). A new upload replaces one waiting for review or refused; an accepted one is final."""
    now = now or timezone.now()
    locked = _check_own(progress, step, by)
    if step.kind != Step.Kind.UPLOAD:
        raise ValidationError("This step does not take a document.")
    rows, row = _open_row(locked, step)
    if row.complete:
        raise ValidationError({"file": "Your document was accepted already."})
    checked = upload_check(upload)
    stored = default_storage.save(f"onboarding/{now:%Y/%m}/{secrets.token_hex(16)}.{checked.extension}", upload)
    try:
        outcome = _record(locked, step, now, passed=False, upload=stored, upload_name=checked.name,
                          review=StepDone.Review.PENDING, reviewed_by=None)
    except Exception:
        default_storage.delete(stored)
        raise
    old = row.done.upload.name if row.done is not None and row.done.upload else ""
    if old and old != stored:
        transaction.on_commit(lambda: default_storage.delete(old))
    _copy(locked, progress)
    rep_id = locked.partner.assigned_to_id
    if rep_id:
        _notify([NotificationItem(
            recipient_id=rep_id, event=Notification.Event.ONBOARDING_UPLOAD,
            title=f"{_name(by)} ({locked.partner.name}) sent a document to review: {step.title}",
            link=reverse("onboarding_staff:reviews"), source_key=f"stepdone:{outcome.step_done.pk}:{int(now.timestamp())}",
        )])
    return outcome


@transaction.atomic
def upload_review(*, step_done: StepDone, by: User, accept: bool, note: str = "",
                  now: datetime | None = None) -> bool:
    """Accept (completes the step) or reject (the user is asked to upload again) a document waiting for review; the
    uploader is notified. Returns False when it was not waiting any more (reviewed by someone else)."""
    now = now or timezone.now()
    progress = _lock(step_done.progress)
    changed = StepDone.objects.filter(pk=step_done.pk, review=StepDone.Review.PENDING).update(
        review=StepDone.Review.ACCEPTED if accept else StepDone.Review.REJECTED, passed=accept, reviewed_by=by,
    )
    if not changed:
        return False
    step = step_done.step
    _refresh(progress, step_rows(progress=progress), now)
    note = (note or "").strip()[:1000]
    if accept:
        title, body = f"Your document for “{step.title}” was accepted", note
    else:
        title = f"Please upload your document for “{step.title}” again"
        body = note or "The document could not be accepted. Please check it and upload it again."
    _notify([NotificationItem(
        recipient_id=progress.user_id, event=Notification.Event.ONBOARDING_REVIEW, title=title, body=body,
        link=progress_link(progress.pk, step.pk), source_key=f"stepdone:{step_done.pk}:review:{int(now.timestamp())}",
    )])
    return True


# --- Questions --------------------------------------------------------------------------------------------------------


@transaction.atomic
def question_ask(*, progress: Progress, step: Step, by: User, text: str, now: datetime | None = None) -> StepQuestion:
    """A question on a step of the user's own walk; the partner's rep is notified (in-app and by email). The same
    question twice within a minute is kept once."""
    now = now or timezone.now()
    if progress.user_id != by.pk or step.track_id != progress.track_id:
        raise ValidationError("This is not your onboarding.")
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write your question."})
    duplicate = StepQuestion.objects.filter(step=step, user=by, text=text,
                                            asked_at__gte=now - timedelta(minutes=1)).first()
    if duplicate is not None:
        return duplicate
    question = StepQuestion(step=step, user=by, partner_id=progress.partner_id, text=text, asked_at=now)
    question.full_clean(exclude=["step", "user", "partner", "answered_by"])
    question.save()
    partner = Partner.objects.filter(pk=progress.partner_id).values_list("name", "assigned_to_id").first()
    if partner and partner[1]:
        _notify([NotificationItem(
            recipient_id=partner[1], event=Notification.Event.ONBOARDING_QUESTION,
            title=f"Question from {_name(by)} ({partner[0]}) on “{step.title}”",
            body=text[:1000], link=reverse("onboarding_staff:questions") + f"#question-{question.pk}",
            source_key=f"question:{question.pk}",
        )])
    return question


@transaction.atomic
def question_answer(*, question: StepQuestion, by: User, answer: str, now: datetime | None = None) -> StepQuestion:
    """Answer (or correct the answer to) a question; the asker is notified with the answer."""
    now = now or timezone.now()
    question = StepQuestion.objects.select_for_update().select_related("step").get(pk=question.pk)
    answer = (answer or "").strip()
    if not answer:
        raise ValidationError({"answer": "Write the answer."})
    question.answer = answer
    question.answered_by = by
    question.answered_at = now
    question.full_clean(exclude=["step", "user", "partner", "answered_by"])
    question.save(update_fields=["answer", "answered_by", "answered_at"])
    progress_id = Progress.objects.filter(user_id=question.user_id, track_id=question.step.track_id).values_list(
        "id", flat=True).first()
    _notify([NotificationItem(
        recipient_id=question.user_id, event=Notification.Event.ONBOARDING_ANSWER,
        title=f"{_name(by)} answered your question on “{question.step.title}”", body=answer[:2000],
        link=progress_link(progress_id, question.step_id) if progress_id else reverse("onboarding:home"),
        source_key=f"question:{question.pk}:{int(now.timestamp())}",
    )])
    return question


# --- Stall reminders (beat) -------------------------------------------------------------------------------------------


def _claim_sql() -> str:
    progress, track, step, membership = (connection.ops.quote_name(m._meta.db_table)
                                         for m in (Progress, Track, Step, Membership))
    return f"""
        WITH due AS (
            SELECT p.id FROM {progress} p JOIN {track} t ON t.id = p.track_id
            WHERE t.published AND t.stall_days > 0
              AND p.completed_at IS NULL
              AND p.updated_at <= %(now)s - t.stall_days * interval '1 day'
              AND (p.reminded_at IS NULL OR p.reminded_at < p.updated_at)
              AND EXISTS (SELECT 1 FROM {membership} m WHERE m.user_id = p.user_id AND m.partner_id = p.partner_id
                          AND m.is_active)
            ORDER BY p.updated_at, p.id
            LIMIT %(batch)s
            FOR UPDATE OF p SKIP LOCKED
        ),
        claimed AS (
            UPDATE {progress} p SET reminded_at = %(now)s
            FROM due WHERE p.id = due.id
              AND (p.reminded_at IS NULL OR p.reminded_at < p.updated_at)
            RETURNING p.id, p.user_id, p.percent, p.current_step_id, p.updated_at, p.track_id
        )
        SELECT c.id, c.user_id, c.percent, c.current_step_id, c.updated_at, t.name, s.title
        FROM claimed c JOIN {track} t ON t.id = c.track_id LEFT JOIN {step} s ON s.id = c.current_step_id
        ORDER BY c.id
    """  # noqa: S608 (names from the models; values are parameters)


@transaction.atomic
def progress_remind_stalled(*, now: datetime | None = None, batch: int = REMIND_BATCH) -> int:
    """Claim up to ``batch`` unfinished walks idle for their track's ``stall_days`` and not reminded since their last
    progress (the longest idle first; ``FOR UPDATE SKIP LOCKED``: parallel runs take disjoint batches), and send each
    user a friendly reminder (see the module's decisions). Returns how many were reminded; a second run finds nothing
    new. Two statements (the claim, the notifications), whatever the batch."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_claim_sql(), {"now": now, "batch": batch})
        rows = cursor.fetchall()
    items = []
    for progress_id, user_id, percent, step_id, updated_at, track_name, step_title in rows:
        next_step = f" Next: “{step_title}”." if step_title else ""
        items.append(NotificationItem(
            recipient_id=user_id, event=Notification.Event.ONBOARDING_REMINDER,
            title=f"Pick up where you left off: “{track_name}” ({percent}% done)",
            body=f"You are {percent}% through the onboarding track “{track_name}”.{next_step} It takes a few minutes "
                 "at your own pace — and if something is unclear, ask your question on the step.",
            link=progress_link(progress_id, step_id),
            source_key=f"progress:{progress_id}:stall:{int(updated_at.timestamp())}",
        ))
    _notify(items)
    return len(rows)

