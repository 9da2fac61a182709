"""The portal's onboarding pages (/portal/onboarding/): the partner's pages (Getting Started through the navigation's
fixed link, the most specific page only, sanitised Markdown), the tracks with progress bars, walking a track through
the forms, and isolation: another user's progress (a colleague's or another partner's), a step of another track, a
page or track of another audience — 404 on every verb. Query counts of the list pages."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from library.models import ContentPage, Progress, Step, StepDone, StepQuestion
from library.onboarding_services import (
    progress_start,
    quiz_answer,
    step_complete,
    step_save,
    track_save,
    upload_review,
    upload_submit,
)
from library.page_services import content_page_save
from notifications.models import Notification
from partners.models import Partner
from tests.factories import tier
from tests.onboarding.conftest import PDF, quiz_answers, steps_of

VERBS = ("get", "post", "put", "delete")
HOME = reverse("onboarding:home")
START = reverse("onboarding:start")


def page(kind, title, body="Hello", **kwargs):
    return content_page_save(page=None, by=None, kind=kind, title=title, body=body, **kwargs)


@pytest.fixture
def member_client(client, acme_member):
    client.force_login(acme_member.user)
    return client


# --- Pages ------------------------------------------------------------------------------------------------------------


def test_getting_started_is_first_in_the_navigation_and_resolves_the_partners_page(member_client, acme, globex):
    general = page(ContentPage.Kind.GETTING_STARTED, "Start here")
    gold = page(ContentPage.Kind.GETTING_STARTED, "Start here, Gold partner", tier=tier("Gold"))
    response = member_client.get(reverse("portal:home"))
    html = response.content.decode()
    assert html.index(f'href="{START}"') < html.index(f'href="{reverse("portal:deals")}"')
    assert member_client.get(START).url == reverse("onboarding:page", args=[gold.pk])
    assert member_client.get(reverse("onboarding:page", args=[general.pk])).status_code == 404  # less specific
    ContentPage.objects.all().delete()
    assert member_client.get(START).url == HOME  # no page yet: the onboarding home


def test_pages_in_order_and_sanitised(member_client, acme, django_assert_num_queries):
    faq = page(ContentPage.Kind.FAQ, "FAQ <b>Gold</b>", tier=tier("Gold"),
               body="# Q\n<script>alert(1)</script> [click](javascript:alert(1)) <iframe src=x></iframe> **ok**")
    page(ContentPage.Kind.OTHER, "Brand kit")
    start = page(ContentPage.Kind.GETTING_STARTED, "Start")
    page(ContentPage.Kind.FAQ, "FAQ for individuals", partner_kind=Partner.Kind.INDIVIDUAL)
    url = reverse("onboarding:page", args=[faq.pk])
    # session, user, membership, the partner's pages, the page's body, the bell's count
    with django_assert_num_queries(6):
        response = member_client.get(url)
    html = response.content.decode()
    assert "<script>alert" not in html and 'href="javascript:' not in html and "<iframe" not in html
    assert "&lt;script&gt;" in html and "<strong>ok</strong>" in html
    assert "FAQ &lt;b&gt;Gold&lt;/b&gt;" in html
    tabs = html[html.index("onboarding-tabs"):]
    assert tabs.index("Start") < tabs.index("FAQ &lt;b&gt;") < tabs.index("Brand kit")
    assert "FAQ for individuals" not in html
    assert member_client.get(reverse("onboarding:page", args=[start.pk])).status_code == 200


def test_a_page_of_another_audience_is_404_on_every_verb(member_client, acme):
    silver = page(ContentPage.Kind.FAQ, "Silver FAQ", tier=tier("Silver"))
    draft = page(ContentPage.Kind.OTHER, "Draft", published=False)
    for pk in (silver.pk, draft.pk, 999999):
        for verb in VERBS:
            assert getattr(member_client, verb)(reverse("onboarding:page", args=[pk])).status_code == 404


def test_staff_and_anonymous_users_do_not_reach_the_portal_pages(client, rep, track):
    assert client.get(HOME).status_code == 302  # to the login page
    client.force_login(rep)
    assert client.get(HOME).status_code == 404


# --- Tracks -----------------------------------------------------------------------------------------------------------


def test_home_lists_the_tracks_with_progress(member_client, acme_member, track, django_assert_num_queries):
    track_save(track=None, name="Gold deep dive", tier=tier("Gold"), published=True)
    track_save(track=None, name="Silver only", tier=tier("Silver"), published=True)
    page(ContentPage.Kind.GETTING_STARTED, "Start")
    progress = progress_start(member=acme_member, track=track)
    step_complete(progress=progress, step=steps_of(track)[0], by=acme_member.user)
    # session, user, membership, the pages, the tracks with step counts, the user's progress rows, the bell's count
    with django_assert_num_queries(7):
        response = member_client.get(HOME)
    html = response.content.decode()
    assert "Welcome aboard" in html and "Gold deep dive" in html and "Silver only" not in html
    assert 'value="16"' in html and "1 of 6 steps done" in html
    assert reverse("onboarding:progress", args=[progress.pk]) in html


def test_walk_a_track_through_the_pages(member_client, acme_member, rep, track):
    response = member_client.post(reverse("onboarding:track_start", args=[track.pk]))
    progress = Progress.objects.get(user=acme_member.user)
    assert response.url == reverse("onboarding:progress", args=[progress.pk])
    assert member_client.post(reverse("onboarding:track_start", args=[track.pk])).url == response.url  # once
    resource, video, page_, ack, quiz, upload = steps_of(track)

    def step_url(name, step):
        return reverse(f"onboarding:{name}", args=[progress.pk, step.pk])

    html = member_client.get(step_url("step", resource)).content.decode()
    assert "Partner guide" in html and "I have read it" in html
    assert member_client.get(step_url("step", ack)).status_code == 200  # shown, but locked
    assert "opens once the earlier ones are done" in member_client.get(step_url("step", ack)).content.decode()
    assert member_client.post(step_url("step_complete", resource)).url == step_url("step", video)
    assert 'href="https://videos.example.com/welcome"' in member_client.get(step_url("step", video)).content.decode()
    member_client.post(step_url("step_complete", video))
    assert "<strong>fair</strong>" in member_client.get(step_url("step", page_)).content.decode()
    member_client.post(step_url("step_complete", page_))

    assert member_client.post(step_url("step_complete", ack), {}).status_code == 400  # the box not ticked
    assert member_client.post(step_url("step_complete", ack), {"acknowledged": "on"}).url == step_url("step", quiz)

    wrong = {f"q{q}": c for q, c in quiz_answers(quiz, right=False).items()}
    response = member_client.post(step_url("step_quiz", quiz), wrong, follow=True)
    assert "0 of 2 needed answers were right" in response.content.decode()
    assert StepDone.objects.get(step=quiz).passed is False
    assert member_client.post(step_url("step_quiz", quiz), {}).status_code == 400  # unanswered
    assert member_client.post(step_url("step_quiz", quiz), {f"q{next(iter(quiz_answers(quiz)))}": "99999"}
                              ).status_code == 400  # not a choice of it
    right = {f"q{q}": c for q, c in quiz_answers(quiz).items()}
    assert member_client.post(step_url("step_quiz", quiz), right).url == step_url("step", upload)

    bad = member_client.post(step_url("step_upload", upload), {"file": SimpleUploadedFile("a.pdf", b"<html>hi")})
    assert bad.status_code == 400 and "not a PDF document" in bad.content.decode()
    fake = member_client.post(step_url("step_upload", upload), {"file": SimpleUploadedFile("a.exe", b"MZ")})
    assert fake.status_code == 400 and "not accepted" in fake.content.decode()
    good = member_client.post(step_url("step_upload", upload), {"file": SimpleUploadedFile("deal.pdf", PDF)})
    assert good.status_code == 302
    progress.refresh_from_db()
    assert progress.percent == 83 and progress.completed_at is None
    assert "is waiting for review" in member_client.get(step_url("step", upload)).content.decode()

    response = member_client.post(step_url("step_ask", quiz), {"text": "Why <script>x</script>?"})
    assert response.url.endswith("#questions")
    assert StepQuestion.objects.get().text == "Why <script>x</script>?"
    assert Notification.objects.filter(recipient=rep, event=Notification.Event.ONBOARDING_QUESTION).exists()
    html = member_client.get(step_url("step", quiz)).content.decode()
    assert "Why &lt;script&gt;x&lt;/script&gt;?" in html and "Waiting for an answer" in html
    assert member_client.post(step_url("step_ask", quiz), {"text": ""}).status_code == 400
    assert member_client.post(step_url("step_ask", quiz), {"text": "x" * 2001}).status_code == 400


def test_completion_is_celebrated(member_client, acme_member, rep, track):
    progress = progress_start(member=acme_member, track=track)
    steps = steps_of(track)
    for step in steps[:4]:
        step_complete(progress=progress, step=step, by=acme_member.user, acknowledged=True)
    quiz_answer(progress=progress, step=steps[4], by=acme_member.user, answers=quiz_answers(steps[4]))
    upload_submit(progress=progress, step=steps[5], by=acme_member.user, upload=SimpleUploadedFile("a.pdf", PDF))
    upload_review(step_done=StepDone.objects.get(step=steps[5]), by=rep, accept=True)
    html = member_client.get(reverse("onboarding:progress", args=[progress.pk])).content.decode()
    assert 'id="celebration"' in html and "Well done, Max!" in html
    assert "Completed on" in member_client.get(HOME).content.decode()


def test_other_users_progress_is_404_on_every_verb(client, acme_member, acme_admin, globex_admin, track):
    colleague = progress_start(member=acme_admin, track=track)
    stranger = progress_start(member=globex_admin, track=track)
    mine = progress_start(member=acme_member, track=track)
    other_track = track_save(track=None, name="Other", published=True)
    foreign_step = step_save(step=None, track=other_track, kind=Step.Kind.ACKNOWLEDGE, title="x", statement="y")
    first = steps_of(track)[0]
    client.force_login(acme_member.user)
    names = ("progress", "step", "step_complete", "step_quiz", "step_upload", "step_ask")
    for progress in (colleague, stranger):
        for name in names:
            args = [progress.pk] if name == "progress" else [progress.pk, first.pk]
            for verb in VERBS:
                response = getattr(client, verb)(reverse(f"onboarding:{name}", args=args),
                                                 **({"data": {"text": "hi", "acknowledged": "on"}} if verb == "post" else {}))
                assert response.status_code == 404, (name, verb)
    for name in names[1:]:  # my progress, a step of another track
        for verb in VERBS:
            assert getattr(client, verb)(reverse(f"onboarding:{name}", args=[mine.pk, foreign_step.pk])
                                         ).status_code == 404
    assert not StepDone.objects.exists() and not StepQuestion.objects.exists()
    silver = track_save(track=None, name="Silver", tier=tier("Silver"), published=True)
    for verb in VERBS:
        assert getattr(client, verb)(reverse("onboarding:track_start", args=[silver.pk])).status_code == 404
    assert Progress.objects.filter(user=acme_member.user).count() == 1


def test_step_page_query_count(member_client, acme_member, track, django_assert_num_queries):
    progress = progress_start(member=acme_member, track=track)
    steps = steps_of(track)
    for step in steps[:4]:
        step_complete(progress=progress, step=step, by=acme_member.user, acknowledged=True)
    url = reverse("onboarding:step", args=[progress.pk, steps[4].pk])
    # session, user, membership, the progress with its track, the steps, the user's records, the quiz's questions,
    # their choices, the user's questions on the step, the bell's count
    with django_assert_num_queries(10):
        response = member_client.get(url)
    assert response.status_code == 200 and "How long is a deal protected?" in response.content.decode()
    # session, user, membership, the progress with its track, the steps, the user's records, the bell's count
    with django_assert_num_queries(7):
        member_client.get(reverse("onboarding:progress", args=[progress.pk]))
