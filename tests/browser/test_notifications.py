"""The bell and the notification list in Chromium, on a 360 px phone: a reminder that came due shows in the bell's
badge (static/js/bell.js, under the site's CSP), opening it from the list marks it read and lands on the partner."""

from datetime import timedelta

import pytest
from django.utils import timezone

from activities import services as activity_services
from partners import services as partner_services
from tests import factories
from tests.browser.conftest import login, screenshot


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_due_reminder_rings_the_bell_and_opens_the_partner(browser, live_server):
    rep = factories.rep_user(username="bell-rep")
    partner = partner_services.partner_create(by=rep, code="BELL", name="Bell & Sons", tier=factories.tier("Gold"),
                                              assigned_to=rep)
    activity_services.activity_remind(partner=partner, by=rep, subject="Send the price list",
                                      start_at=timezone.now() - timedelta(minutes=1))
    activity_services.activity_remind(partner=partner, by=rep, subject="Second one",
                                      start_at=timezone.now() - timedelta(minutes=2))
    assert activity_services.activities_notify_due(now=timezone.now()) == 2

    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        login(page, live_server, rep)
        badge = page.locator(".bell [data-unread-count]")
        badge.wait_for(state="visible")
        assert badge.inner_text() == "2"
        assert page.locator(".bell").get_attribute("aria-label").endswith("(2 unread)")

        page.goto(f"{live_server.url}/notifications/")
        assert page.locator(".notification.is-unread").count() == 2
        layout = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert layout[0] <= layout[1], layout
        screenshot(page, "notifications-360")

        page.locator(".notification.is-unread .notification-action button").first.click()
        page.wait_for_load_state("networkidle")
        assert page.url.endswith("/notifications/")
        assert page.locator(".notification.is-unread").count() == 1
        badge.wait_for(state="visible")
        assert badge.inner_text() == "1"

        page.locator(".notification.is-unread .notification-title").click()
        page.wait_for_load_state("networkidle")
        assert f"/partners/{partner.pk}/" in page.url
        page.wait_for_function("() => document.querySelector('.bell [data-unread-count]').hidden")
        assert not [e for e in errors if "Content Security Policy" in e or "bell" in e], errors
    finally:
        context.close()
