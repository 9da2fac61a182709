"""A rep on the real pages: filter the list, open a partner, schedule a meeting, see it under next engagements."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories
from tests.browser.conftest import login, screenshot


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_rep_filters_opens_partner_and_schedules_a_meeting(page, live_server):
    rep = factories.rep_user(username="journey-rep")
    other = factories.rep_user(username="journey-other")
    target = factories.partner_with_contacts(name="Sunrise Traders", assigned_to=rep, tier=factories.tier("Gold"))
    factories.partner_with_contacts(name="Moonlight Stores", assigned_to=rep, tier=factories.tier("Silver"))
    factories.partner_with_contacts(name="Sunrise Elsewhere", assigned_to=other)

    login(page, live_server, rep)
    assert page.url.endswith("/today/")  # where a rep lands (issue 11)
    page.goto(f"{live_server.url}/partners/")
    assert page.locator("tbody tr").count() == 2

    page.click("details.filters summary")  # open the filters panel (closed while no filter is on)
    page.fill("#id_q", "sunrise")
    page.click("form.filter-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "q=sunrise" in page.url
    rows = page.locator("tbody tr")
    assert rows.count() == 1  # another rep's "Sunrise" is not there
    assert "Sunrise Traders" in rows.first.inner_text()
    assert rows.first.locator("a.qa-call").get_attribute("href").startswith("tel:+")
    screenshot(page, "rep-journey-list")

    page.click("text=Sunrise Traders")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/partners/{target.pk}/")
    assert "Nothing scheduled" in page.locator("#next-engagements").inner_text()

    page.click(".head-actions >> text=Schedule")
    page.wait_for_load_state("networkidle")
    moment = timezone.localtime(timezone.now() + timedelta(days=2)).replace(hour=10, minute=30)
    page.select_option("#id_kind", "meeting")
    page.fill("#id_start_at", moment.strftime("%Y-%m-%dT10:30"))  # one datetime-local picker
    page.fill("#id_duration_minutes", "45")
    page.select_option("#id_location", str(target.locations.get().pk))
    page.fill("#id_subject", "Quarterly planning")
    page.click("form button[type=submit].primary")
    page.wait_for_load_state("networkidle")

    assert page.url.endswith(f"/partners/{target.pk}/")
    assert "Meeting scheduled." in page.locator(".messages").inner_text()
    upcoming = page.locator("#next-engagements").inner_text()
    assert "Meeting" in upcoming and "Quarterly planning" in upcoming and "10:30" in upcoming and "45 min" in upcoming
    screenshot(page, "rep-journey-partner")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/partners/")
    assert page.locator("a.fab").is_visible()
    screenshot(page, "rep-journey-phone")
    assert page.external_requests == []
