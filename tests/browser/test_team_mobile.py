"""The team dashboard (/team/) for a manager on two phones and a desktop: nothing scrolls sideways, tap targets are
44 px, every chart is drawn (by the vendored plotly.js, no request off the server), no mode bar on a phone;
screenshots in artifacts/ (``mobile-team-<width>.png``). Same checks as test_mobile.py, which logs in as a rep."""

import pytest

from insights.team_refresh import team_figures_refresh
from tests import factories
from tests.browser.conftest import login, screenshot
from tests.browser.test_mobile import DESKTOP, PHONES, VIEWPORTS, check_layout
from tests.insights import team_data


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_team_dashboard_fits_phones_and_draws_its_charts(browser, live_server):
    rep = factories.rep_user(username="team-rep", first_name="Asha", last_name="Rao")
    other = factories.rep_user(username="team-other", first_name="Venkataramanan", last_name="Subramaniam-Iyer")
    team_data.build(rep, other)
    team_figures_refresh()
    manager = factories.manager_user(username="team-manager")
    context = browser.new_context(viewport={"width": DESKTOP[0], "height": DESKTOP[1]})
    login(context.new_page(), live_server, manager)
    state = context.storage_state()
    context.close()
    for width, height in VIEWPORTS:
        phone = (width, height) in PHONES
        context = browser.new_context(viewport={"width": width, "height": height}, storage_state=state,
                                      is_mobile=phone, has_touch=phone, device_scale_factor=2 if phone else 1)
        page = context.new_page()
        outside = []

        def track(request, outside=outside):
            if not request.url.startswith((live_server.url, "data:", "blob:")):
                outside.append(request.url)

        page.on("request", track)
        try:
            response = page.goto(f"{live_server.url}/team/")
            assert response.status == 200
            page.wait_for_load_state("networkidle")
            charts = page.locator("[data-team-chart]")
            assert charts.count() == 3  # coverage, attainment (revenue), inactive
            for index in range(charts.count()):
                charts.nth(index).locator("svg.main-svg").first.wait_for()
            assert page.locator(".modebar").count() == 0 or not page.locator(".modebar").first.is_visible()
            check_layout(page, "team", width)
            assert page.locator('.mainnav a[href="/team/"][aria-current="page"]').is_visible()
            assert outside == []
            screenshot(page, f"mobile-team-{width}")
        finally:
            context.close()
