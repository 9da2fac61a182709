"""The navigation on a phone: a manager's nine tabs (Today, Partners, Leads, Customers, Tickets, Deals, Team,
Messages, Admin) stay on one row that scrolls sideways inside itself (never the page), the current tab is scrolled into
view, and the fade on the right edge goes once the strip is at its end. On a desktop every tab shows, no scrolling."""

import pytest

from tests import factories
from tests.browser.conftest import login, screenshot
from tests.browser.test_mobile import check_layout


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(("width", "height"), [(360, 740), (390, 844), (1280, 800)])
def test_a_managers_tabs_fit_on_one_row(browser, live_server, width, height):
    manager = factories.manager_user(username=f"nav-{width}")
    phone = width < 800
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone)
    page = context.new_page()
    try:
        login(page, live_server, manager)
        page.goto(f"{live_server.url}/tickets/")
        nav = page.locator(".mainnav")
        assert nav.locator("a").count() == 9
        tabs = nav.evaluate("n => [...n.querySelectorAll('a')].map(a => Math.round(a.getBoundingClientRect().top))")
        assert len(set(tabs)) == 1, f"the tabs wrap onto several rows at {width}px: {tabs}"
        current = nav.locator('a[aria-current="page"]')
        assert current.inner_text() == "Tickets"
        box, strip = current.bounding_box(), nav.bounding_box()
        assert strip["x"] <= box["x"] and box["x"] + box["width"] <= strip["x"] + strip["width"] + 1
        check_layout(page, "tickets", width)
        screenshot(page, f"nav-{width}")
        if phone:
            assert nav.evaluate("n => n.scrollWidth > n.clientWidth")  # nine tabs do not fit a phone: it scrolls
            nav.evaluate("n => { n.scrollLeft = n.scrollWidth; n.dispatchEvent(new Event('scroll')); }")
            assert "at-end" in nav.get_attribute("class")
        else:
            assert nav.evaluate("n => n.scrollWidth <= n.clientWidth")
    finally:
        context.close()
