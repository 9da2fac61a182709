"""A rep calls a partner from its page, then records the call in two taps: "Log this call" (static/js/quick.js), Save."""

import pytest

from activities.models import Activity
from partners.models import ContactPoint
from tests import factories
from tests.browser.conftest import login, screenshot

# The phone app a tel:/wa.me link opens is not there in a headless browser: keep the page where it is (quick.js's
# own click handler runs first, as on a phone).
STAY_ON_PAGE_JS = "document.addEventListener('click', (e) => { if (e.target.closest('a.qa')) e.preventDefault(); })"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_call_then_log_this_call_in_two_taps(page, live_server):
    rep = factories.rep_user(username="quick-rep")
    partner = factories.PartnerFactory(name="Quick Traders", assigned_to=rep)
    mobile = ContactPoint.objects.create(partner=partner, kind="mobile", value="+91 98450 12345", is_primary=True,
                                         label="Owner")
    login(page, live_server, rep)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/partners/{partner.pk}/")
    page.evaluate(STAY_ON_PAGE_JS)

    page.click("#quick-contact a.qa-call")
    bar = page.locator(".quick-log")
    assert bar.is_visible() and "Log this call" in bar.inner_text() and "Quick Traders" in bar.inner_text()
    screenshot(page, "quick-log-bar-390")

    page.click(".quick-log a")  # tap 1
    page.wait_for_load_state("networkidle")
    assert page.input_value("#id_kind") == "call" and page.input_value("#id_channel") == "call"
    assert page.input_value("#id_subject") == f"{mobile.value} (Owner)"
    assert page.input_value("#id_start_at")  # now
    page.click("form button[type=submit].primary")  # tap 2
    page.wait_for_load_state("networkidle")

    assert page.url.endswith(f"/partners/{partner.pk}/")
    activity = Activity.objects.get(partner=partner)
    assert (activity.kind, activity.channel, activity.mode, activity.status) == ("call", "call", "logged", "done")
    assert "Call logged." in page.locator(".messages").inner_text()
