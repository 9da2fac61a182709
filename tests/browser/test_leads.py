"""A rep's leads on a phone (390×844) and a desktop (1280×800): the list → a lead → move its stage → convert it; another
lead lost with a reason (refused without one); the partner page's leads chart drawn. Nothing scrolls sideways, the
controls are comfortable taps, no Content-Security-Policy violation, no request leaves the server; screenshots in
artifacts/ (``leads-<page>-<width>.png``)."""

from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlparse

import pytest
from django.utils import timezone

from business import periods
from business.models import Achievement, Parameter
from leads.models import Customer, Lead
from tests import factories
from tests.browser.conftest import ARTIFACTS, login, screenshot
from tests.browser.test_mobile import check_layout

VIEWPORTS = [(390, 844), (1280, 800)]


def build(width):
    rep = factories.rep_user(username=f"leads-rep-{width}", first_name="Asha", last_name="Rao")
    partner = factories.PartnerFactory(name="Sri Venkateshwara Agro Distributors Private Limited", assigned_to=rep)
    now = timezone.now()
    for number in range(30):  # two pages
        factories.LeadFactory(name=f"Older lead {number:02d}", company="Big Company Ltd", partner=partner,
                              created_at=now - timedelta(days=number + 2))
    to_win = factories.LeadFactory(name="Ravi Traders order", company="Ravi Traders", partner=partner,
                                   expected_value=Decimal("250000.00"), created_at=now, email="ravi@example.com",
                                   phone="+91 98450 12345")
    to_lose = factories.LeadFactory(name="Kumar Stores", partner=partner, created_at=now - timedelta(days=1))
    generated, converted = (Parameter.objects.get(code=code)
                            for code in (Parameter.LEADS_GENERATED, Parameter.LEADS_CONVERTED))
    for n, start in enumerate(periods.last_periods("monthly", 12, periods.org_today())):
        Achievement.objects.create(partner=partner, parameter=generated, period_start=start, value=Decimal(10 + n))
        if n % 4:
            Achievement.objects.create(partner=partner, parameter=converted, period_start=start, value=Decimal(n % 5))
    return rep, partner, to_win, to_lose


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=["phone", "desktop"])
def test_list_lead_move_convert_and_lose(browser, live_server, width, height):
    rep, partner, to_win, to_lose = build(width)
    phone = width < 800
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone,
                                  device_scale_factor=2 if phone else 1)
    page = context.new_page()
    page.set_default_timeout(15_000)
    csp, external = [], []
    page.on("console", lambda msg: csp.append(msg.text) if "Content Security Policy" in msg.text else None)
    host = urlparse(live_server.url).hostname
    page.on("request", lambda request: external.append(request.url)
            if urlparse(request.url).hostname not in (host, None) and not request.url.startswith("data:") else None)
    try:
        login(page, live_server, rep)

        # The list: the Leads section is current, newest first, two pages, cards on a phone.
        page.goto(f"{live_server.url}/leads/")
        assert page.locator(".mainnav a[aria-current=page]").inner_text() == "Leads"
        assert page.locator(".result-count").inner_text() == "32 leads"
        rows = page.locator("table.lead-table tbody tr")
        assert rows.count() == 25 and "Ravi Traders order" in rows.first.inner_text()
        if phone:  # a card: the header row is hidden, each value carries its label
            assert not page.locator("table.lead-table thead").is_visible()
            assert rows.first.bounding_box()["width"] <= width
        check_layout(page, "leads-list", width)
        screenshot(page, f"leads-list-{width}")

        # A filter: the open leads created this month (a preset), then back.
        page.locator(".filters summary").click()
        page.select_option("#id_stage", "open")
        page.fill("#id_created_from", (timezone.localdate() - timedelta(days=1)).isoformat())
        page.locator(".filter-form button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        assert "stage=open" in page.url
        assert page.locator("table.lead-table tbody tr").count() == 2

        # The lead page, from the list.
        page.locator("table.lead-table td.cell-name a", has_text="Ravi Traders order").click()
        page.wait_for_url(f"**/leads/{to_win.pk}/")
        assert page.locator("#lead-stage").inner_text() == "New"
        assert page.locator(f".facts a[href='/partners/{partner.pk}/']").is_visible()
        assert page.locator(".facts a[href^='tel:']").is_visible()
        check_layout(page, "lead-page", width)
        screenshot(page, f"leads-page-{width}")

        # Move it to Qualified: the stage and its history say so.
        page.select_option("#move-form select[name=stage]", "qualified")
        page.locator("#move-form button[type=submit]").click()
        page.wait_for_url(f"**/leads/{to_win.pk}/")
        assert page.locator("#lead-stage").inner_text() == "Qualified"
        assert "Moved to qualified." in page.locator(".messages").inner_text()
        assert "Qualified" in page.locator("#stage-history").inner_text()
        assert "Asha Rao" in page.locator("#stage-history").inner_text()

        # Convert it, booking a value: the customer is created (its page, when the customers pages are there).
        page.fill("#convert-form input[name=value]", "240000")
        page.locator("#convert-form button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        customer = Customer.objects.get(lead=to_win)
        assert page.url.endswith((f"/customers/{customer.pk}/", f"/leads/{to_win.pk}/"))
        page.goto(f"{live_server.url}/leads/{to_win.pk}/")
        assert page.locator("#lead-stage").inner_text() == "Won"
        assert customer.name in page.locator("#lead-customer").inner_text()
        assert page.locator("#lead-actions").count() == 0  # a closed lead offers no stage actions
        to_win.refresh_from_db()
        assert to_win.value == Decimal("240000")

        # Lose the other one: without a reason the field says what is missing; with one, it is lost.
        page.goto(f"{live_server.url}/leads/{to_lose.pk}/")
        page.locator("#lose-form button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        assert "This field is required." in page.locator("#lose-form").inner_text()
        assert Lead.objects.get(pk=to_lose.pk).stage == Lead.Stage.NEW
        check_layout(page, "lead-lose-error", width)
        page.fill("#lose-form textarea[name=reason]", "Bought from a competitor at a lower price")
        page.locator("#lose-form button[type=submit]").click()
        page.wait_for_url(f"**/leads/{to_lose.pk}/")
        assert page.locator("#lead-stage").inner_text() == "Lost"
        assert page.locator("#lead-lost-reason").inner_text() == "Bought from a competitor at a lower price"

        # The partner page: the leads chart is drawn (bars and the rate's line), within the screen.
        page.goto(f"{live_server.url}/partners/{partner.pk}/")
        page.wait_for_selector("#leads-trend-chart svg.main-svg")
        assert page.locator("#leads-trend-chart .trace.bars").count() == 2
        assert page.locator("#leads-trend-chart .scatterlayer .trace").count() == 1
        assert page.locator("#leads-trend-chart").bounding_box()["width"] <= width
        assert page.locator(".head-actions a", has_text="New lead").is_visible()
        check_layout(page, "partner-leads-chart", width)
        screenshot(page, f"leads-partner-{width}")
        page.locator("#leads-trend").screenshot(path=str(ARTIFACTS / f"leads-chart-{width}.png"))

        assert csp == []
        assert external == []
    finally:
        context.close()
