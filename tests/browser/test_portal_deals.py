"""Deal registration in a browser, on a phone (390×844) and a desktop (1280×800): a partner user registers a deal
(the domain typed as a URL) and submits it; the partner's rep opens the review queue, sees the candidate conflict
next to it, approves it with a reason, and follows the link to the lead it created. Nothing scrolls sideways, the
controls are comfortable taps, no Content-Security-Policy violation, no request leaves the server; screenshots in
artifacts/ (``portal-deals-<page>-<width>.png``)."""

from urllib.parse import urlparse

import pytest

from leads.models import Lead
from portal.domains import reversed_domain
from portal.models import DealRegistration, Membership
from tests import factories
from tests.browser.conftest import login, screenshot
from tests.browser.test_mobile import check_layout

VIEWPORTS = [(390, 844), (1280, 800)]


def build(width):
    rep = factories.rep_user(username=f"deals-rep-{width}", first_name="Asha", last_name="Rao")
    partner = factories.PartnerFactory(name="Sri Venkateshwara Agro Distributors Private Limited", assigned_to=rep)
    other = factories.PartnerFactory(name="Globex Resellers", assigned_to=rep)
    user = factories.UserFactory(username=f"deals-partner-{width}", first_name="Priya", last_name="Nair")
    Membership.objects.create(user=user, partner=partner, role=Membership.Role.ADMIN)
    DealRegistration.objects.create(partner=other, company="Initech Holding", domain="initech.example",
                                    domain_reversed=reversed_domain("initech.example"), status="submitted")
    return rep, partner, user


def new_page(browser, live_server, width, height, problems):
    phone = width < 800
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone,
                                  device_scale_factor=2 if phone else 1)
    page = context.new_page()
    page.set_default_timeout(15_000)
    host = urlparse(live_server.url).hostname
    page.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("request", lambda request: problems.append(request.url)
            if urlparse(request.url).hostname not in (host, None) and not request.url.startswith("data:") else None)
    return context, page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=["phone", "desktop"])
def test_register_submit_then_the_rep_approves(browser, live_server, width, height):
    rep, partner, user = build(width)
    problems = []
    context, page = new_page(browser, live_server, width, height, problems)
    try:
        login(page, live_server, user)
        page.goto(f"{live_server.url}/portal/deals/")
        assert page.locator(".portal-nav a[aria-current=page]").inner_text() == "Deals"
        check_layout(page, "portal-deals-empty", width)
        page.click("#register-deal")
        page.wait_for_load_state("networkidle")
        page.fill("#id_company", "Initech <GmbH>")
        page.fill("#id_domain", "http://WWW.Initech.EXAMPLE/about")
        page.fill("#id_contact_name", "Bill Lumbergh")
        page.fill("#id_contact_email", "bill@initech.example")
        page.fill("#id_country", "de")
        page.fill("#id_amount", "25000")
        page.fill("#id_expected_close", "2027-06-30")
        page.fill("#id_notes", "120 licences")
        check_layout(page, "portal-deals-form", width)
        screenshot(page, f"portal-deals-form-{width}")
        page.click("#submit-deal")
        page.wait_for_load_state("networkidle")
        registration = DealRegistration.objects.get(partner=partner)
        assert page.url.endswith(f"/portal/deals/{registration.pk}/")
        assert page.locator("#deal-status").inner_text() == "Submitted"
        body = page.locator("main").inner_text()
        assert "Initech <GmbH>" in body and "initech.example" in body and registration.number in body
        assert "already exists" in body and "Globex" not in body  # the rule's notice, nothing of the other partner
        check_layout(page, "portal-deals-detail", width)
        screenshot(page, f"portal-deals-detail-{width}")
    finally:
        context.close()

    context, page = new_page(browser, live_server, width, height, problems)
    try:
        login(page, live_server, rep)
        page.goto(f"{live_server.url}/deals/")
        assert page.locator(".mainnav a[aria-current=page]").inner_text() == "Deals"
        check_layout(page, "deals-queue", width)
        page.click(f"a[href='/deals/{registration.pk}/']")
        page.wait_for_load_state("networkidle")
        conflicts = page.locator("#deal-conflicts").inner_text()
        assert "Initech Holding" in conflicts and "Globex Resellers" in conflicts and "same domain" in conflicts
        check_layout(page, "deals-detail", width)
        screenshot(page, f"portal-deals-review-{width}")
        page.select_option("#id_decision", "approve")
        page.fill("#id_reason", "Yours: go ahead.")
        page.click("#decide")
        page.wait_for_load_state("networkidle")
        assert page.locator("#deal-status").inner_text() == "Approved"
        page.click("#deal-lead a")
        page.wait_for_load_state("networkidle")
        lead = Lead.objects.get(registration__pk=registration.pk)
        assert page.url.endswith(f"/leads/{lead.pk}/")
        assert "Initech <GmbH>" in page.locator("main").inner_text()
        assert lead.partner_id == partner.pk
    finally:
        context.close()
    assert problems == []
