"""Onboarding fixtures: the portal's two partner organisations (tests/portal/conftest.py: Acme, Gold, rep ``rep1``;
Globex, Silver, rep ``rep2``) and a published track for everyone with one step of each kind (read a resource, watch a
video, read a page, acknowledge, a two-question quiz with pass mark 2, upload). Rows are made directly (the library's
services are not what is tested here), except steps and quiz questions, made by onboarding_services."""

import pytest

from library.models import Category, ContentPage, Resource, Step
from library.onboarding_services import quiz_question_add, step_save, track_save
from tests.portal.conftest import *  # noqa: F403 (the portal's fixtures: acme, globex, their users and clients)
from tests.portal.conftest import make_member  # noqa: F401

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Uploaded documents go to a temporary folder, not the checkout's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def category(db):
    return Category.objects.create(name="Onboarding")


@pytest.fixture
def guide(category):
    return Resource.objects.create(kind=Resource.Kind.ARTICLE, title="Partner guide", body="# Guide", category=category,
                                   published=True)


@pytest.fixture
def video(category):
    return Resource.objects.create(kind=Resource.Kind.VIDEO, title="Welcome video", category=category, published=True,
                                   url="https://videos.example.com/welcome")


@pytest.fixture
def rules_page(db):
    return ContentPage.objects.create(kind=ContentPage.Kind.OTHER, title="Programme rules", body="Be **fair**.")


@pytest.fixture
def track(guide, video, rules_page):
    """A published track for everyone: resource, video, page, acknowledge, quiz (2 questions, pass mark 2), upload."""
    track = track_save(track=None, name="Welcome aboard", description="Your first week.", published=True, stall_days=7)
    step_save(step=None, track=track, kind=Step.Kind.RESOURCE, title="Read the partner guide", resource=guide)
    step_save(step=None, track=track, kind=Step.Kind.VIDEO, title="Watch the welcome video", resource=video)
    step_save(step=None, track=track, kind=Step.Kind.PAGE, title="Read the rules", page=rules_page)
    step_save(step=None, track=track, kind=Step.Kind.ACKNOWLEDGE, title="Code of conduct",
              statement="I will register deals honestly.")
    quiz = step_save(step=None, track=track, kind=Step.Kind.QUIZ, title="Quick quiz", pass_mark=2)
    quiz_question_add(step=quiz, text="How long is a deal protected?", choices=["90 days", "1 day"], correct=[0])
    quiz_question_add(step=quiz, text="Who approves deals?", choices=["Nobody", "Your rep", "A robot"], correct=[1])
    step_save(step=None, track=track, kind=Step.Kind.UPLOAD, title="Upload your signed agreement")
    return track


def steps_of(track):
    return list(Step.objects.filter(track=track).order_by("order"))


def quiz_answers(step, *, right=True):
    """{question id: choice id}: all right (or all wrong) answers of a quiz step."""
    answers = {}
    for question in step.questions.all():
        choice = question.choices.filter(correct=right).first()
        answers[question.pk] = choice.pk
    return answers
