"""The trendline renders with the bundled plotly.js, with no request leaving 127.0.0.1, no Content-Security-Policy
violation, and a hostile name stays text; the admin pages run under the same policy."""

from decimal import Decimal

import pytest
from django.utils import timezone

from business import periods
from business.models import Achievement, Parameter, Target
from tests import factories
from tests.browser.conftest import login, screenshot

XSS = "</script><script>alert(1)</script>"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_trendline_renders_locally_and_switches_parameter(page, live_server):
    manager = factories.manager_user(username="trend-manager")
    partner = factories.PartnerFactory(name=XSS, assigned_to=manager)
    revenue = Parameter.objects.get(code=Parameter.REVENUE)
    for n, start in enumerate(periods.last_periods("monthly", 12, timezone.localdate())):
        Target.objects.create(partner=partner, parameter=revenue, period_start=start, value=Decimal(1000))
        if n % 3:  # some months empty: zeros, not errors
            Achievement.objects.create(partner=partner, parameter=revenue, period_start=start, value=Decimal(n * 100))
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    # Chromium reports every blocked script, style, eval or image on the console ("Refused to … because it violates
    # the following Content Security Policy directive …").
    csp_violations = []
    page.on("console", lambda msg: csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None)

    login(page, live_server, manager)
    response = page.goto(f"{live_server.url}/partners/{partner.pk}/?parameter=revenue")
    assert "script-src 'self'" in response.headers["content-security-policy"]  # the policy is on, so this checks it
    page.wait_for_selector("#trend-chart svg.main-svg")
    assert page.locator("#trend-chart .trace.bars .point").count() == 12
    assert XSS in page.locator("h1").first.inner_text()  # the name is shown as text
    screenshot(page, "trendline")

    # the selector: a parameter with no data shows the empty state instead of a chart
    page.click("#business-card a:has-text('Leads converted')")
    page.wait_for_load_state("networkidle")
    assert "parameter=leads_converted" in page.url
    assert page.locator("#trend-empty").is_visible()
    assert page.locator("#trend-chart").count() == 0

    assert dialogs == []
    assert page.external_requests == []
    assert csp_violations == []


ADMIN_PAGES = [
    "/admin/",
    "/admin/partners/partner/",
    "/admin/partners/partner/add/",
    "/admin/business/achievement/import/",
    "/admin/partners/partner/export/",  # last: the checks below run on it
]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_admin_pages_run_without_csp_violations(page, live_server):
    # Django's admin, our import page and django-import-export's export page, whose "Select all" box is the one
    # inline handler we serve (allowed by its hash in the policy, see prm/settings.py).
    csp_violations = []
    page.on("console", lambda msg: csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    login(page, live_server, factories.manager_user(username="csp-admin", is_superuser=True))

    for url in ADMIN_PAGES:
        response = page.goto(f"{live_server.url}{url}")
        assert response.status == 200, url
        assert "script-src 'self'" in response.headers["content-security-policy"], url
        page.wait_for_load_state("networkidle")

    fields = page.locator("input[type=checkbox]:not(.select-toggle)")
    assert fields.count() >= 2
    assert page.locator("input[type=checkbox]:not(.select-toggle):checked").count() == fields.count()
    page.locator("input.select-toggle").click()  # onchange="onSelectToggleChange(event)"
    assert page.locator("input[type=checkbox]:not(.select-toggle):checked").count() == 0

    assert csp_violations == []
