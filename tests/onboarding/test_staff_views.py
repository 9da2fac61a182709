"""Staff onboarding pages (/onboarding/): the progress report per partner and per user (aggregates, query counts,
reps see their partners only), where partners stall, questions answered from the page (the asker notified), documents
reviewed and downloaded as attachments, and the managers' track, step, quiz and page management (404 for reps)."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from library.models import ContentPage, Progress, QuizQuestion, Step, StepDone, StepQuestion, Track
from library.onboarding_services import (
    progress_start,
    question_ask,
    quiz_answer,
    step_complete,
    upload_submit,
)
from notifications.models import Notification
from tests.factories import PartnerFactory, tier
from tests.onboarding.conftest import PDF, make_member, quiz_answers, steps_of

REPORT = reverse("onboarding_staff:home")


def walk(member, track, *, steps=0, now=None):
    """Start ``track`` for ``member`` and complete its first ``steps`` steps (up to the quiz)."""
    progress = progress_start(member=member, track=track, now=now)
    for step in steps_of(track)[:steps]:
        if step.kind == Step.Kind.QUIZ:
            quiz_answer(progress=progress, step=step, by=member.user, answers=quiz_answers(step), now=now)
        else:
            step_complete(progress=progress, step=step, by=member.user, acknowledged=True, now=now)
    return progress


@pytest.fixture
def walks(track, acme, acme_admin, acme_member, globex, globex_admin):
    """Acme: Ada 3 steps, Max 0; Globex: Gina completed (6 of 6, the upload accepted); a third partner, no walk."""
    walk(acme_admin, track, steps=3)
    walk(acme_member, track)
    gina = walk(globex_admin, track, steps=5)
    upload_submit(progress=gina, step=steps_of(track)[5], by=globex_admin.user,
                  upload=SimpleUploadedFile("a.pdf", PDF))
    StepDone.objects.filter(step=steps_of(track)[5]).update(review=StepDone.Review.ACCEPTED, passed=True)
    Progress.objects.filter(pk=gina.pk).update(percent=100, steps_done=6, completed_at=timezone.now(),
                                               current_step=None)
    PartnerFactory(name="Zeta (no onboarding)")
    return track


def test_report_per_partner_for_a_manager(manager_client, walks, acme, globex, django_assert_num_queries):
    # session, user, the manager check, the tracks, the track's totals, the page of partners, their aggregates
    with django_assert_num_queries(7):
        response = manager_client.get(REPORT, {"track": walks.pk})
    assert response.status_code == 200
    totals, page = response.context["totals"], response.context["page"]
    assert (totals.users, totals.completed, round(totals.average)) == (3, 1, 50)  # (50 + 0 + 100) / 3
    rows = {row.partner.name: row for row in page.rows}
    assert list(rows) == ["Acme Distribution", "Globex Resellers"]  # by name; Zeta has no walk
    assert (rows["Acme Distribution"].users, rows["Acme Distribution"].completed,
            rows["Acme Distribution"].average) == (2, 0, 25.0)
    assert (rows["Globex Resellers"].users, rows["Globex Resellers"].completed) == (1, 1)
    assert "Zeta" not in response.content.decode()
    searched = manager_client.get(REPORT, {"track": walks.pk, "q": "glob"}).context["page"].rows
    assert [r.partner.name for r in searched] == ["Globex Resellers"]


def test_report_pages_partners(manager_client, track):
    partners = [PartnerFactory(name=f"P{n:03d}") for n in range(26)]
    for partner in partners:
        walk(make_member(partner, username=f"user-{partner.pk}"), track)
    first = manager_client.get(REPORT).context["page"]
    assert len(first.rows) == 25 and first.has_next
    second = manager_client.get(REPORT, {"page": 2}).context["page"]
    assert [r.partner.name for r in second.rows] == ["P025"] and not second.has_next
    assert manager_client.get(REPORT, {"page": "nonsense", "track": "x"}).status_code == 200


def test_a_rep_sees_their_partners_only(rep_client, walks, acme, globex, django_assert_num_queries):
    # session, user, the manager check, the tracks, the totals, the page of partners, their aggregates
    with django_assert_num_queries(7):
        response = rep_client.get(REPORT)
    assert [r.partner.name for r in response.context["page"].rows] == ["Acme Distribution"]
    assert response.context["totals"].users == 2
    assert rep_client.get(reverse("onboarding_staff:partner", args=[globex.pk])).status_code == 404
    stall_rows = rep_client.get(reverse("onboarding_staff:stalls")).context["rows"]
    assert sum(r.stopped for r in stall_rows) == 2


def test_partner_page_per_user(rep_client, walks, acme, django_assert_num_queries):
    url = reverse("onboarding_staff:partner", args=[acme.pk])
    # session, user, the manager check, the partner, its progress rows with user, track and current step
    with django_assert_num_queries(5):
        response = rep_client.get(url)
    html = response.content.decode()
    assert "Ada Admin" in html and "Max Member" in html and "50%" in html and "Watch the welcome video" not in html
    assert "Code of conduct" in html  # Ada's current step


def test_stalls_per_step(manager_client, track, acme_admin, acme_member, globex_admin, django_assert_num_queries):
    old = timezone.now() - timedelta(days=10)
    walk(acme_admin, track, steps=3, now=old)  # stopped at step 4, idle
    walk(acme_member, track, steps=3)  # stopped at step 4, active
    walk(globex_admin, track, steps=0, now=old)  # stopped at step 1, idle
    # session, user, the manager check, the tracks, the steps, one GROUP BY current step
    with django_assert_num_queries(6):
        response = manager_client.get(reverse("onboarding_staff:stalls"), {"track": track.pk})
    figures = [(r.step.order, r.stopped, r.idle) for r in response.context["rows"]]
    assert figures == [(1, 1, 1), (2, 0, 0), (3, 0, 0), (4, 2, 1), (5, 0, 0), (6, 0, 0)]


def test_questions_unanswered_first_and_answered_from_the_page(rep_client, rep, track, acme_member, globex_admin,
                                                              django_assert_num_queries):
    progress = progress_start(member=acme_member, track=track)
    step = steps_of(track)[0]
    first = question_ask(progress=progress, step=step, by=acme_member.user, text="First <b>bold</b>?")
    second = question_ask(progress=progress, step=step, by=acme_member.user, text="Second?")
    StepQuestion.objects.filter(pk=first.pk).update(answer="Done", answered_at=timezone.now(), answered_by=rep)
    theirs = question_ask(progress=progress_start(member=globex_admin, track=track), step=step,
                          by=globex_admin.user, text="Globex asks")
    url = reverse("onboarding_staff:questions")
    # session, user, the manager check, the page of questions with asker, partner, step and track
    with django_assert_num_queries(4):
        response = rep_client.get(url)
    assert [q.pk for q in response.context["page"].rows] == [second.pk, first.pk]  # unanswered first; not Globex's
    html = response.content.decode()
    assert "First &lt;b&gt;bold&lt;/b&gt;?" in html and "Globex asks" not in html

    assert rep_client.post(reverse("onboarding_staff:answer", args=[second.pk]), {"answer": ""}).status_code == 400
    assert rep_client.post(reverse("onboarding_staff:answer", args=[theirs.pk]), {"answer": "x"}).status_code == 404
    response = rep_client.post(reverse("onboarding_staff:answer", args=[second.pk]), {"answer": "See <i>page 2</i>"})
    assert response.url == url
    notice = Notification.objects.get(recipient=acme_member.user, event=Notification.Event.ONBOARDING_ANSWER)
    assert notice.body == "See <i>page 2</i>"
    portal = rep_client.__class__()
    portal.force_login(acme_member.user)
    html = portal.get(reverse("onboarding:step", args=[progress.pk, step.pk])).content.decode()
    assert "See &lt;i&gt;page 2&lt;/i&gt;" in html


def test_documents_reviewed_and_downloaded_as_attachments(rep_client, track, acme_member, globex_admin, settings,
                                                         tmp_path):
    settings.MEDIA_ROOT = tmp_path
    mine = walk(acme_member, track, steps=5)
    upload_submit(progress=mine, step=steps_of(track)[5], by=acme_member.user,
                  upload=SimpleUploadedFile("contract <x>.pdf", PDF))
    theirs = walk(globex_admin, track, steps=5)
    upload_submit(progress=theirs, step=steps_of(track)[5], by=globex_admin.user,
                  upload=SimpleUploadedFile("g.pdf", PDF))
    done = StepDone.objects.get(progress=mine, step__kind=Step.Kind.UPLOAD)
    other = StepDone.objects.get(progress=theirs, step__kind=Step.Kind.UPLOAD)
    page = rep_client.get(reverse("onboarding_staff:reviews"))
    assert [d.pk for d in page.context["page"].rows] == [done.pk]
    assert "contract &lt;x&gt;.pdf" in page.content.decode()
    download = rep_client.get(reverse("onboarding_staff:review_file", args=[done.pk]))
    assert download["Content-Disposition"].startswith("attachment")
    assert download["Content-Type"] == "application/pdf" and download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == PDF
    for verb in ("get", "post"):
        assert getattr(rep_client, verb)(reverse("onboarding_staff:review_file", args=[other.pk])).status_code in (
            404, 405)
        assert getattr(rep_client, verb)(reverse("onboarding_staff:review", args=[other.pk]),
                                         {"decision": "accept"}).status_code == 404
    assert rep_client.post(reverse("onboarding_staff:review", args=[done.pk]), {"decision": "accept"}).status_code == 302
    mine.refresh_from_db()
    assert mine.completed_at is not None and mine.percent == 100


def test_management_is_for_managers(rep_client, track):
    step = steps_of(track)[0]
    urls = [reverse("onboarding_staff:tracks"), reverse("onboarding_staff:track_create"),
            reverse("onboarding_staff:track", args=[track.pk]), reverse("onboarding_staff:track_edit", args=[track.pk]),
            reverse("onboarding_staff:step_create", args=[track.pk]),
            reverse("onboarding_staff:step_edit", args=[track.pk, step.pk]),
            reverse("onboarding_staff:pages"), reverse("onboarding_staff:page_create")]
    for url in urls:
        assert rep_client.get(url).status_code == 404
    assert rep_client.post(reverse("onboarding_staff:step_delete", args=[step.pk])).status_code == 404
    assert Step.objects.filter(pk=step.pk).exists()


def test_manager_builds_a_track_and_a_page(manager_client, guide):
    response = manager_client.post(reverse("onboarding_staff:track_create"), {
        "name": "Gold <b>start</b>", "description": "", "tier": tier("Gold").pk, "partner_kind": "",
        "stall_days": "5", "published": "on",
    })
    track = Track.objects.get()
    assert response.url == reverse("onboarding_staff:track", args=[track.pk]) and track.stall_days == 5
    step_url = reverse("onboarding_staff:step_create", args=[track.pk])
    assert manager_client.post(step_url, {"kind": "resource", "title": "Read"}).status_code == 400  # no resource
    manager_client.post(step_url, {"kind": "resource", "title": "Read", "resource": guide.pk})
    response = manager_client.post(step_url, {"kind": "quiz", "title": "Quiz", "pass_mark": "1"})
    quiz = Step.objects.get(kind="quiz")
    assert response.url == reverse("onboarding_staff:quiz", args=[quiz.pk])
    quiz_url = reverse("onboarding_staff:quiz", args=[quiz.pk])
    assert manager_client.post(quiz_url, {"text": "?", "choice_1": "a", "choice_2": "b"}).status_code == 400
    assert manager_client.post(quiz_url, {"text": "2+2?", "choice_1": "4", "choice_2": "5",
                                          "correct": ["1"]}).status_code == 302
    assert list(QuizQuestion.objects.get().choices.values_list("text", "correct")) == [("4", True), ("5", False)]
    manager_client.post(reverse("onboarding_staff:step_move", args=[quiz.pk]), {"direction": "up"})
    assert [s.title for s in steps_of(track)] == ["Quiz", "Read"]
    html = manager_client.get(reverse("onboarding_staff:track", args=[track.pk])).content.decode()
    assert "Gold &lt;b&gt;start&lt;/b&gt;" in html

    response = manager_client.post(reverse("onboarding_staff:page_create"), {
        "kind": "faq", "title": "FAQ", "body": "**hi** <script>x</script>", "tier": "", "partner_kind": "",
        "order": "1", "published": "on",
    })
    assert response.url == reverse("onboarding_staff:pages")
    page = ContentPage.objects.get()
    preview = manager_client.get(reverse("onboarding_staff:page_edit", args=[page.pk])).content.decode()
    assert "<strong>hi</strong>" in preview and "<script>x" not in preview
    assert manager_client.post(reverse("onboarding_staff:page_create"), {
        "kind": "faq", "title": "x", "body": "y" * 200_001}).status_code == 400
