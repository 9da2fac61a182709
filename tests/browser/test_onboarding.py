"""Onboarding in the browser, on a phone (390×844) and a desktop (1280×800): a partner user opens "Getting started"
from the portal's tab strip (their tier's page), walks a track — read a page, acknowledge a statement, upload a document (a fake
PDF refused), fail a quiz then pass it — and asks a question on a step; their rep answers it on the staff page and
accepts the document; the answer shows on the step and the completed track is celebrated. Nothing scrolls sideways, the controls are comfortable taps, no Content-Security-Policy
violation, no request leaves the server; screenshots in artifacts/ (``onboarding-<page>-<width>.png``)."""


import pytest

from library.models import ContentPage, Step
from library.onboarding_services import quiz_question_add, step_save, track_save
from library.page_services import content_page_save
from notifications.models import Notification
from portal.models import Membership
from tests import factories
from tests.browser.conftest import login, open_page, screenshot
from tests.browser.test_mobile import check_layout
from tests.onboarding.conftest import PDF
from tests.portal.conftest import make_member

VIEWPORTS = [(390, 844), (1280, 800)]


def build(width):
    rep = factories.rep_user(username=f"onb-rep-{width}", first_name="Asha", last_name="Rao")
    partner = factories.PartnerFactory(name="Sri Venkateshwara Agro Distributors Private Limited",
                                       tier=factories.tier("Gold"), assigned_to=rep)
    member = make_member(partner, role=Membership.Role.MEMBER, username=f"max-{width}@acme.example",
                         first_name="Max", last_name="Member", email=f"max-{width}@acme.example")
    content_page_save(page=None, by=None, kind=ContentPage.Kind.GETTING_STARTED, title="Getting started",
                      body="# Welcome\n\nFor everyone.")
    content_page_save(page=None, by=None, kind=ContentPage.Kind.GETTING_STARTED, title="Getting started, Gold",
                      body="# Welcome, Gold partner\n\n1. Register deals\n2. Walk your **onboarding**",
                      tier=factories.tier("Gold"))
    content_page_save(page=None, by=None, kind=ContentPage.Kind.FAQ, title="Gold FAQ", body="**Q?** A.",
                      tier=factories.tier("Gold"))
    rules = content_page_save(page=None, by=None, kind=ContentPage.Kind.OTHER, title="Programme rules",
                              body="Register **real** opportunities only.")
    track = track_save(track=None, name="Welcome aboard", description="Twenty minutes, at your own pace.",
                       published=True)
    step_save(step=None, track=track, kind=Step.Kind.PAGE, title="Read the programme rules", page=rules)
    step_save(step=None, track=track, kind=Step.Kind.ACKNOWLEDGE, title="Our code of conduct",
              statement="I will register only real opportunities and keep customer data confidential.")
    step_save(step=None, track=track, kind=Step.Kind.UPLOAD, title="Upload your signed agreement")
    quiz = step_save(step=None, track=track, kind=Step.Kind.QUIZ, title="A short quiz", pass_mark=2)
    quiz_question_add(step=quiz, text="When should you register a deal?",
                      choices=["As early as possible", "After the customer signed"], correct=[0])
    quiz_question_add(step=quiz, text="Who reviews your registrations?",
                      choices=["Another partner", "Your partner manager"], correct=[1])
    return rep, member


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=["phone", "desktop"])
def test_walk_a_track_ask_a_question_and_get_the_answer(browser, live_server, width, height, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    rep, member = build(width)
    context, page, csp, external = open_page(browser, live_server, width, height)
    try:
        login(page, live_server, member.user)
        page.wait_for_url(f"{live_server.url}/portal/")
        # "Getting started" is the second tab (after Home) and opens the partner's own page: the Gold one.
        tabs = page.locator(".mainnav a")
        assert tabs.nth(1).inner_text() == "Getting started"
        tabs.nth(1).click()
        page.wait_for_url("**/portal/onboarding/pages/*/")
        assert page.locator("#page-title").inner_text() == "Getting started, Gold"
        assert page.locator("#page-body strong").inner_text() == "onboarding"
        check_layout(page, "onboarding-start", width)
        screenshot(page, f"onboarding-start-{width}")

        # The track, with its progress bar; start it.
        page.locator(".onboarding-tabs a", has_text="Onboarding").click()
        page.wait_for_url("**/portal/onboarding/")
        check_layout(page, "onboarding-home", width)
        page.locator("#tracks button", has_text="Start").click()
        page.wait_for_url("**/portal/onboarding/progress/*/")
        page.locator("#continue").click()
        # Step 1: read a page.
        assert page.locator("#step-title").inner_text() == "Read the programme rules"
        assert page.locator("#step-page-body strong").inner_text() == "real"
        check_layout(page, "onboarding-step-page", width)
        page.locator("#mark-done").click()
        # Step 2: acknowledge (refused without the tick, then accepted).
        page.wait_for_selector("#statement")
        page.locator("#acknowledge").click()
        page.wait_for_selector("#ack-form .errorlist")
        page.locator("#ack-form .field-check label").click()
        check_layout(page, "onboarding-step-ack", width)
        page.locator("#acknowledge").click()
        # Step 3: upload a document (a fake one refused first); it waits for review and the walk goes on.
        page.wait_for_selector("#upload-form")
        page.set_input_files("#id_file", files=[{"name": "agreement.pdf", "mimeType": "application/pdf",
                                                 "buffer": b"<html>not a pdf</html>"}])
        page.locator("#send-upload").click()
        page.wait_for_selector("#upload-form .errorlist")
        assert "not a PDF document" in page.locator("#upload-form").inner_text()
        check_layout(page, "onboarding-step-upload", width)
        screenshot(page, f"onboarding-upload-{width}")
        page.set_input_files("#id_file", files=[{"name": "agreement.pdf", "mimeType": "application/pdf",
                                                 "buffer": PDF}])
        page.locator("#send-upload").click()
        # Step 4: the quiz — wrong answers first, then right ones.
        page.wait_for_selector("#quiz-form")
        page.locator(".quiz-choice", has_text="After the customer signed").click()
        page.locator(".quiz-choice", has_text="Another partner").click()
        screenshot(page, f"onboarding-quiz-{width}")
        page.locator("#submit-quiz").click()
        page.wait_for_selector("#quiz-failed")
        assert "0 of 2 needed answers were right" in page.locator(".messages").inner_text()
        check_layout(page, "onboarding-step-quiz", width)
        page.locator(".quiz-choice", has_text="As early as possible").click()
        page.locator(".quiz-choice", has_text="Your partner manager").click()
        page.locator("#submit-quiz").click()
        # All done but the document: 75%, waiting for review.
        page.wait_for_url("**/portal/onboarding/progress/*/")
        assert page.locator("progress.onboarding-bar").get_attribute("value") == "75"
        assert page.locator("#steps li[data-state=pending]").count() == 1
        assert page.locator("#celebration").count() == 0
        progress_url = page.url

        # A question on a step reaches the rep.
        page.locator("#steps a", has_text="Our code of conduct").click()
        page.fill("#id_text", "Does this cover <b>resellers</b> too?")
        page.locator("#ask").click()
        page.wait_for_selector("#asked")
        assert "Waiting for an answer" in page.locator("#asked").inner_text()
        check_layout(page, "onboarding-ask", width)
        step_url = page.url.split("#")[0]
        page.locator(".usermenu summary").click()
        page.locator(".usermenu-panel button", has_text="Log out").click()
        page.wait_for_load_state("networkidle")

        # The rep answers on the staff page.
        login(page, live_server, rep)
        page.goto(f"{live_server.url}/onboarding/questions/")
        question = page.locator("#question-list li").first
        assert "Does this cover <b>resellers</b> too?" in question.inner_text()
        check_layout(page, "onboarding-staff-questions", width)
        screenshot(page, f"onboarding-staff-questions-{width}")
        question.locator("textarea").fill("Yes: resellers follow the same code.")
        question.locator("button", has_text="Send the answer").click()
        page.wait_for_url("**/onboarding/questions/")
        assert "Answer sent" in page.locator(".messages").inner_text()
        # …and accepts the document, which completes the track.
        page.goto(f"{live_server.url}/onboarding/reviews/")
        assert "agreement.pdf" in page.locator("#review-list").inner_text()
        check_layout(page, "onboarding-staff-reviews", width)
        page.locator("#review-list button", has_text="Accept").click()
        page.wait_for_url("**/onboarding/reviews/")
        assert "Document accepted" in page.locator(".messages").inner_text()
        page.goto(f"{live_server.url}/onboarding/")
        assert page.locator("#partner-report").inner_text().count("Sri Venkateshwara") == 1
        assert page.locator("#partner-report .cell-completed").inner_text() == "1"
        check_layout(page, "onboarding-staff-report", width)
        screenshot(page, f"onboarding-staff-report-{width}")
        page.locator(".usermenu summary").click()
        page.locator(".usermenu-panel button", has_text="Log out").click()
        page.wait_for_load_state("networkidle")

        # The answer comes back to the asker: a notification, and on the step.
        assert Notification.objects.filter(recipient=member.user, event=Notification.Event.ONBOARDING_ANSWER).exists()
        login(page, live_server, member.user)
        page.goto(step_url)
        assert "resellers follow the same code" in page.locator("#asked").inner_text()
        # Done: the celebration.
        page.goto(progress_url)
        assert "Well done, Max!" in page.locator("#celebration").inner_text()
        assert page.locator("progress.onboarding-bar").get_attribute("value") == "100"
        check_layout(page, "onboarding-done", width)
        screenshot(page, f"onboarding-done-{width}")

        assert csp == []
        assert external == []
    finally:
        context.close()
