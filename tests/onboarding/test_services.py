"""library.onboarding_services and page selection: the most specific page of each kind, walking a track (progress
kept in step, locked later steps), quiz pass/fail and retry, uploads (validation, review), questions and answers
notified, completion recorded once, stall reminders claimed once, staff's step changes recomputing every walk."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from library.models import ContentPage, Progress, Step, StepDone, StepQuestion, Track
from library.onboarding_selectors import pages_for, step_rows, tracks_for
from library.onboarding_services import (
    progress_remind_stalled,
    progress_start,
    question_answer,
    question_ask,
    quiz_answer,
    quiz_question_add,
    step_complete,
    step_delete,
    step_move,
    step_save,
    track_save,
    upload_check,
    upload_review,
    upload_submit,
)
from library.page_services import content_page_save
from notifications.models import Notification
from partners.models import Partner
from portal.models import PortalEvent
from tests.factories import PartnerFactory, tier
from tests.onboarding.conftest import PDF, PNG, quiz_answers, steps_of

Event = Notification.Event


def page(kind, title, *, tier_=None, partner_kind="", published=True, order=0):
    return content_page_save(page=None, by=None, kind=kind, title=title, body=f"{title} body", tier=tier_,
                             partner_kind=partner_kind, published=published, order=order)


# --- Content pages ----------------------------------------------------------------------------------------------------


def test_the_most_specific_page_of_each_kind(db, django_assert_num_queries):
    gold, silver = tier("Gold"), tier("Silver")
    org, person = Partner.Kind.ORGANISATION, Partner.Kind.INDIVIDUAL
    page(ContentPage.Kind.GETTING_STARTED, "Start (everyone)")
    page(ContentPage.Kind.GETTING_STARTED, "Start (Gold)", tier_=gold)
    page(ContentPage.Kind.FAQ, "FAQ (everyone)")
    page(ContentPage.Kind.FAQ, "FAQ (organisations)", partner_kind=org)
    page(ContentPage.Kind.FAQ, "FAQ (Gold)", tier_=gold)
    page(ContentPage.Kind.FAQ, "FAQ (Gold organisations)", tier_=gold, partner_kind=org)
    page(ContentPage.Kind.FAQ, "FAQ (Silver organisations, draft)", tier_=silver, partner_kind=org, published=False)
    page(ContentPage.Kind.OTHER, "Marketing kit", order=2)
    page(ContentPage.Kind.OTHER, "Support", order=1)
    page(ContentPage.Kind.OTHER, "Support", order=1, tier_=silver)

    def titles(partner):
        with django_assert_num_queries(1):  # the partner's pages: DISTINCT ON (kind, slot) by specificity
            return [p.title for p in pages_for(partner=partner)]

    assert titles(PartnerFactory(tier=gold, kind=org)) == [
        "Start (Gold)", "FAQ (Gold organisations)", "Support", "Marketing kit"]
    assert titles(PartnerFactory(tier=gold, kind=person)) == ["Start (Gold)", "FAQ (Gold)", "Support", "Marketing kit"]
    silver_org = titles(PartnerFactory(tier=silver, kind=org))
    assert silver_org == ["Start (everyone)", "FAQ (organisations)", "Support", "Marketing kit"]
    silver_pages = pages_for(partner=PartnerFactory(tier=silver, kind=person))
    assert [p.title for p in silver_pages] == ["Start (everyone)", "FAQ (everyone)", "Support", "Marketing kit"]
    assert silver_pages[2].tier_id == silver.pk  # the Silver "Support" page, not the general one
    assert titles(PartnerFactory(tier=None, kind=person)) == [
        "Start (everyone)", "FAQ (everyone)", "Support", "Marketing kit"]


def test_content_page_validation(db):
    with pytest.raises(ValidationError) as error:
        content_page_save(page=None, by=None, kind="nonsense", title="", body="x")
    assert {"kind", "title"} <= set(error.value.message_dict)
    with pytest.raises(ValidationError):
        content_page_save(page=None, by=None, kind="faq", title="t", body="b", partner_kind="robot")


# --- Tracks and walking -----------------------------------------------------------------------------------------------


def test_tracks_for_the_audience(acme, globex):
    everyone = track_save(track=None, name="Everyone", published=True)
    gold = track_save(track=None, name="Gold only", tier=tier("Gold"), published=True)
    track_save(track=None, name="Draft", published=False)
    track_save(track=None, name="Individuals", partner_kind=Partner.Kind.INDIVIDUAL, published=True)
    assert list(tracks_for(partner=acme)) == [everyone, gold]
    assert list(tracks_for(partner=globex)) == [everyone]


def test_start_only_a_track_of_the_audience(acme_member, globex):
    silver = track_save(track=None, name="Silver", tier=tier("Silver"), published=True)
    with pytest.raises(ValidationError):
        progress_start(member=acme_member, track=silver)


def test_walk_a_track_to_the_end(track, acme_member, rep, mailoutbox):
    user = acme_member.user
    progress = progress_start(member=acme_member, track=track)
    assert progress_start(member=acme_member, track=track).pk == progress.pk  # once per user and track
    resource, video, page_, ack, quiz, upload = steps_of(track)
    assert progress.current_step_id == resource.pk and progress.percent == 0

    with pytest.raises(ValidationError, match="earlier steps"):  # later steps are locked
        step_complete(progress=progress, step=video, by=user)
    step_complete(progress=progress, step=resource, by=user)
    step_complete(progress=progress, step=resource, by=user)  # twice: counted once
    progress.refresh_from_db()
    assert (progress.steps_done, progress.percent, progress.current_step_id) == (1, 16, video.pk)

    step_complete(progress=progress, step=video, by=user)
    step_complete(progress=progress, step=page_, by=user)
    with pytest.raises(ValidationError):
        step_complete(progress=progress, step=ack, by=user, acknowledged=False)
    step_complete(progress=progress, step=ack, by=user, acknowledged=True)
    with pytest.raises(ValidationError):  # a quiz is not "read"
        step_complete(progress=progress, step=quiz, by=user)

    failed = quiz_answer(progress=progress, step=quiz, by=user, answers=quiz_answers(quiz, right=False))
    assert not failed.passed and failed.score == 0 and failed.needed == 2
    done = StepDone.objects.get(progress=progress, step=quiz)
    assert not done.passed and done.score == 0  # the failed attempt is recorded
    progress.refresh_from_db()
    assert progress.current_step_id == quiz.pk and progress.steps_done == 4
    passed = quiz_answer(progress=progress, step=quiz, by=user, answers=quiz_answers(quiz))
    assert passed.passed and passed.score == 2
    progress.refresh_from_db()
    assert progress.current_step_id == upload.pk and progress.percent == 83

    upload_submit(progress=progress, step=upload, by=user, upload=SimpleUploadedFile("agreement.pdf", PDF))
    progress.refresh_from_db()
    assert progress.completed_at is None and progress.percent == 83  # waits for review
    assert Notification.objects.filter(recipient=rep, event=Event.ONBOARDING_UPLOAD).count() == 1
    pending = StepDone.objects.get(progress=progress, step=upload)
    assert pending.review == StepDone.Review.PENDING and pending.upload_name == "agreement.pdf"

    assert upload_review(step_done=pending, by=rep, accept=False, note="Unsigned")
    assert not upload_review(step_done=pending, by=rep, accept=True)  # not waiting any more
    asked_again = Notification.objects.get(recipient=user, event=Event.ONBOARDING_REVIEW)
    assert "again" in asked_again.title and asked_again.body == "Unsigned"
    assert [r.state for r in step_rows(progress=progress)][-1] == "rejected"

    upload_submit(progress=progress, step=upload, by=user, upload=SimpleUploadedFile("signed.png", PNG))
    assert upload_review(step_done=StepDone.objects.get(progress=progress, step=upload), by=rep, accept=True)
    progress.refresh_from_db()
    assert progress.percent == 100 and progress.completed_at is not None and progress.current_step_id is None
    event = PortalEvent.objects.get(partner=acme_member.partner, kind=PortalEvent.Kind.ONBOARDING)
    assert "Welcome aboard" in event.title
    assert set(Notification.objects.filter(event=Event.ONBOARDING_DONE).values_list("recipient_id", flat=True)) == {
        user.pk, rep.pk}


def test_quiz_answers_must_be_the_steps_own(track, acme_member):
    progress = progress_start(member=acme_member, track=track)
    steps = steps_of(track)
    for step in steps[:4]:
        step_complete(progress=progress, step=step, by=acme_member.user, acknowledged=True)
    quiz = steps[4]
    other_quiz = step_save(step=None, track=track_save(track=None, name="Other", published=True),
                           kind=Step.Kind.QUIZ, title="Other quiz", pass_mark=1)
    foreign = quiz_question_add(step=other_quiz, text="?", choices=["a", "b"], correct=[0])
    answers = quiz_answers(quiz)
    answers[foreign.pk] = foreign.choices.first().pk
    with pytest.raises(ValidationError):
        quiz_answer(progress=progress, step=quiz, by=acme_member.user, answers=answers)
    first_question = next(iter(quiz_answers(quiz)))
    with pytest.raises(ValidationError):  # a choice of another question
        quiz_answer(progress=progress, step=quiz, by=acme_member.user,
                    answers={first_question: foreign.choices.first().pk})
    assert not StepDone.objects.filter(step=quiz).exists()


def test_a_user_cannot_walk_another_users_progress(track, acme_member, acme_admin):
    progress = progress_start(member=acme_member, track=track)
    first = steps_of(track)[0]
    with pytest.raises(ValidationError):
        step_complete(progress=progress, step=first, by=acme_admin.user)
    with pytest.raises(ValidationError):
        question_ask(progress=progress, step=first, by=acme_admin.user, text="?")
    assert not StepDone.objects.exists()


@pytest.mark.parametrize(("name", "content", "message"), [
    ("agreement.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 10, "not a PDF"),
    ("agreement.pdf", b"<html><script>alert(1)</script></html>", "web page"),
    ("agreement.html", b"<html></html>", "not accepted"),
    ("agreement.svg", b"<svg/>", "not accepted"),
    ("agreement", PDF, "has no file type in its name"),
    ("agreement.pdf", b"", "empty"),
])
def test_upload_validation(name, content, message):
    with pytest.raises(ValidationError, match=message):
        upload_check(SimpleUploadedFile(name, content))


def test_upload_size_limit(settings):
    settings.ONBOARDING_UPLOAD_MAX_BYTES = 100
    with pytest.raises(ValidationError, match="limit"):
        upload_check(SimpleUploadedFile("big.pdf", PDF + b"0" * 200))
    assert upload_check(SimpleUploadedFile("ok.pdf", PDF)).name == "ok.pdf"


def test_questions_reach_the_rep_and_answers_the_asker(track, acme_member, rep, other_rep, mailoutbox):
    progress = progress_start(member=acme_member, track=track)
    step = steps_of(track)[0]
    question = question_ask(progress=progress, step=step, by=acme_member.user, text="Where is <b>the guide</b>?")
    assert question_ask(progress=progress, step=step, by=acme_member.user,
                        text="Where is <b>the guide</b>?").pk == question.pk  # a double submit
    to_rep = Notification.objects.get(event=Event.ONBOARDING_QUESTION)
    assert to_rep.recipient_id == rep.pk and "Where is <b>the guide</b>?" in to_rep.body
    assert to_rep.email_state == Notification.Email.PENDING  # emailed too
    with pytest.raises(ValidationError):
        question_answer(question=question, by=rep, answer="  ")
    question_answer(question=question, by=rep, answer="In the library.")
    answer = Notification.objects.get(event=Event.ONBOARDING_ANSWER)
    assert answer.recipient_id == acme_member.user_id and answer.body == "In the library."
    assert answer.link == f"/portal/onboarding/progress/{progress.pk}/steps/{step.pk}/"
    question.refresh_from_db()
    assert question.answered_by == rep and StepQuestion.objects.count() == 1


# --- Reminders --------------------------------------------------------------------------------------------------------


def test_stall_reminders_once_per_stall(track, acme_member, acme_admin, globex_admin):
    now = timezone.now()
    stalled = progress_start(member=acme_member, track=track, now=now - timedelta(days=8))
    fresh = progress_start(member=acme_admin, track=track, now=now - timedelta(days=2))
    gone = progress_start(member=globex_admin, track=track, now=now - timedelta(days=30))
    gone.__class__.objects.filter(pk=gone.pk).update(completed_at=now - timedelta(days=20))  # completed: never

    assert progress_remind_stalled(now=now) == 1
    assert progress_remind_stalled(now=now) == 0  # twice = once
    assert progress_remind_stalled(now=now + timedelta(days=3)) == 0  # still the same stall
    reminders = Notification.objects.filter(event=Event.ONBOARDING_REMINDER)
    assert [n.recipient_id for n in reminders] == [acme_member.user_id]
    assert "Welcome aboard" in reminders[0].title and "Read the partner guide" in reminders[0].body

    # progress re-arms it; the next stall reminds again, and the fresh walk stalls in turn
    step_complete(progress=stalled, step=steps_of(track)[0], by=acme_member.user, now=now + timedelta(minutes=1))
    later = now + timedelta(days=8)
    assert progress_remind_stalled(now=later) == 2
    assert progress_remind_stalled(now=later) == 0
    assert Notification.objects.filter(event=Event.ONBOARDING_REMINDER).count() == 3
    fresh.refresh_from_db()
    assert fresh.reminded_at == later


def test_no_reminder_for_a_deactivated_user_or_no_stall_days(track, acme_member):
    now = timezone.now()
    progress_start(member=acme_member, track=track, now=now - timedelta(days=8))
    Track.objects.filter(pk=track.pk).update(stall_days=0)
    assert progress_remind_stalled(now=now) == 0
    Track.objects.filter(pk=track.pk).update(stall_days=7)
    acme_member.is_active = False
    acme_member.save()
    assert progress_remind_stalled(now=now) == 0


# --- Staff changes to a track -----------------------------------------------------------------------------------------


def test_adding_moving_and_removing_steps_recompute_every_walk(track, acme_member, acme_admin):
    steps = steps_of(track)
    walk = progress_start(member=acme_member, track=track)
    for step in steps[:4]:
        step_complete(progress=walk, step=step, by=acme_member.user, acknowledged=True)
    quiz_answer(progress=walk, step=steps[4], by=acme_member.user, answers=quiz_answers(steps[4]))
    upload_submit(progress=walk, step=steps[5], by=acme_member.user, upload=SimpleUploadedFile("a.pdf", PDF))
    upload_review(step_done=StepDone.objects.get(step=steps[5]), by=acme_admin.user, accept=True)
    walk.refresh_from_db()
    assert walk.completed_at is not None
    other = progress_start(member=acme_admin, track=track)

    extra = step_save(step=None, track=track, kind=Step.Kind.ACKNOWLEDGE, title="New rule", statement="Agreed.")
    walk.refresh_from_db()
    other.refresh_from_db()
    assert (walk.percent, walk.completed_at, walk.current_step_id) == (85, None, extra.pk)
    assert other.current_step_id == steps[0].pk and other.percent == 0

    assert step_move(step=extra, direction="up")
    assert [s.title for s in steps_of(track)][-2:] == ["New rule", "Upload your signed agreement"]
    assert not step_move(step=steps[0], direction="up")
    step_delete(step=extra)
    walk.refresh_from_db()
    assert walk.percent == 100 and walk.completed_at is not None and walk.current_step_id is None
    assert Progress.objects.count() == 2


def test_step_requirements(track):
    with pytest.raises(ValidationError, match="resource"):
        step_save(step=None, track=track, kind=Step.Kind.RESOURCE, title="No resource")
    with pytest.raises(ValidationError, match="page"):
        step_save(step=None, track=track, kind=Step.Kind.PAGE, title="No page")
    with pytest.raises(ValidationError, match="statement"):
        step_save(step=None, track=track, kind=Step.Kind.ACKNOWLEDGE, title="Nothing")
    with pytest.raises(ValidationError, match="pass"):
        step_save(step=None, track=track, kind=Step.Kind.QUIZ, title="Quiz", pass_mark=0)
    assert Step.objects.filter(track=track).count() == 6


def test_upload_storage_keeps_the_file(track, acme_member, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    progress = progress_start(member=acme_member, track=track)
    steps = steps_of(track)
    for step in steps[:4]:
        step_complete(progress=progress, step=step, by=acme_member.user, acknowledged=True)
    quiz_answer(progress=progress, step=steps[4], by=acme_member.user, answers=quiz_answers(steps[4]))
    upload_submit(progress=progress, step=steps[5], by=acme_member.user,
                  upload=SimpleUploadedFile("../../etc/passwd.pdf", PDF))
    done = StepDone.objects.get(step=steps[5])
    assert done.upload_name == "passwd.pdf" and done.upload.name.startswith("onboarding/")
    assert done.upload.read() == PDF


def test_the_beat_runs_the_reminders(track, acme_member):
    from library.onboarding_tasks import remind_stalled
    from prm.celery import app

    entry = app.conf.beat_schedule["onboarding-stall-reminders"]
    assert entry["task"] == remind_stalled.name == "library.onboarding_tasks.remind_stalled"
    progress_start(member=acme_member, track=track, now=timezone.now() - timedelta(days=30))
    assert remind_stalled() == 1
    assert remind_stalled() == 0


def test_reminders_in_batches(track, acme_member, acme_admin):
    old = timezone.now() - timedelta(days=10)
    progress_start(member=acme_member, track=track, now=old)
    progress_start(member=acme_admin, track=track, now=old - timedelta(days=1))
    assert progress_remind_stalled(batch=1) == 1
    first = Notification.objects.get(event=Event.ONBOARDING_REMINDER)
    assert first.recipient_id == acme_admin.user_id  # the longest idle first
    assert progress_remind_stalled(batch=1) == 1
    assert progress_remind_stalled(batch=1) == 0


def test_a_step_of_another_kind_drops_its_records(track, acme_member):
    progress = progress_start(member=acme_member, track=track)
    first = steps_of(track)[0]
    step_complete(progress=progress, step=first, by=acme_member.user)
    step_save(step=first, track=track, kind=Step.Kind.ACKNOWLEDGE, title="Now acknowledge", statement="Yes.")
    progress.refresh_from_db()
    assert progress.percent == 0 and progress.current_step_id == first.pk
    assert not StepDone.objects.filter(step=first).exists()


def test_a_question_without_a_rep_is_kept(track, acme_member):
    acme_member.partner.assigned_to = None
    acme_member.partner.save()
    progress = progress_start(member=acme_member, track=track)
    question_ask(progress=progress, step=steps_of(track)[0], by=acme_member.user, text="Anyone?")
    assert StepQuestion.objects.count() == 1 and not Notification.objects.exists()
