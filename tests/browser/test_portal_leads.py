"""A lead shared with a partner, end to end, on a phone (390×844) and a desktop (1280×800): the rep shares it from the
lead page; the partner's user sees it in the portal (company and note only), accepts it (the contact appears), and
records a follow-up; the rep's lead page shows the outcome. Nothing scrolls sideways, the controls are comfortable
taps, no Content-Security-Policy violation, no request leaves the server; screenshots in artifacts/
(``portal-leads-<page>-<width>.png``)."""

from urllib.parse import urlparse

import pytest

from leads import services as lead_services
from leads.models import Lead
from portal.models import Membership, SharedLead
from tests import factories
from tests.browser.conftest import login, screenshot
from tests.browser.test_mobile import check_layout

VIEWPORTS = [(390, 844), (1280, 800)]


def build(width):
    rep = factories.rep_user(username=f"share-rep-{width}", first_name="Asha", last_name="Rao")
    partner = factories.PartnerFactory(name="Sri Venkateshwara Agro Distributors Private Limited", assigned_to=rep)
    user = factories.UserFactory(username=f"share-partner-{width}", first_name="Priya", last_name="Nair",
                                 email=f"priya{width}@agro.example")
    Membership.objects.create(user=user, partner=partner, role=Membership.Role.ADMIN)
    lead = lead_services.lead_create(by=rep, name="Ravi Kumar", company="Ravi Traders", email="ravi@traders.example",
                                     phone="+91 98450 12345")
    return rep, partner, user, lead


def new_page(browser, live_server, width, height, csp, external):
    phone = width < 800
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone,
                                  device_scale_factor=2 if phone else 1)
    page = context.new_page()
    page.set_default_timeout(15_000)
    host = urlparse(live_server.url).hostname
    page.on("console", lambda msg: csp.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("request", lambda request: external.append(request.url)
            if urlparse(request.url).hostname not in (host, None) and not request.url.startswith("data:") else None)
    return context, page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=["phone", "desktop"])
def test_rep_shares_a_lead_partner_accepts_and_follows_up(browser, live_server, width, height):
    rep, partner, user, lead = build(width)
    csp, external = [], []
    staff_context, staff = new_page(browser, live_server, width, height, csp, external)
    partner_context, portal = new_page(browser, live_server, width, height, csp, external)
    try:
        # The rep: the lead page offers "Share with a partner"; the form is prefilled with nothing (a direct lead).
        login(staff, live_server, rep)
        staff.goto(f"{live_server.url}/leads/{lead.pk}/")
        staff.locator("#share-link").click()
        staff.wait_for_url(f"**/leads/{lead.pk}/share/")
        check_layout(staff, "share-form", width)
        staff.fill("#id_partner_ref", partner.code)
        staff.fill("#id_note", "Wants 40 drip kits before the monsoon")
        screenshot(staff, f"portal-leads-share-form-{width}")
        staff.locator("#share-form button[type=submit]").click()
        staff.wait_for_url(f"**/leads/{lead.pk}/")
        assert "Lead shared with" in staff.locator(".messages").inner_text()
        assert staff.locator("#lead-share-status").inner_text() == "Offered"
        check_layout(staff, "lead-shared", width)
        share = SharedLead.objects.get(lead=lead)

        # The partner: the portal's Leads tab lists it with its deadline; company and note only.
        login(portal, live_server, user)
        portal.goto(f"{live_server.url}/portal/leads/")
        assert portal.locator(".portal-nav a[aria-current=page]").inner_text() == "Leads"
        item = portal.locator(f"#share-{share.pk}")
        assert "Ravi Traders" in item.inner_text() and "Answer by" in item.inner_text()
        assert "Ravi Kumar" not in portal.content()
        check_layout(portal, "portal-leads", width)
        screenshot(portal, f"portal-leads-list-{width}")
        item.locator("a.share-title").click()
        portal.wait_for_url(f"**/portal/leads/{share.pk}/")
        assert "ravi@traders.example" not in portal.content()
        check_layout(portal, "portal-lead-offered", width)

        # Accept: the contact appears, with one-tap email and call.
        portal.locator("#accept-form button[type=submit]").click()
        portal.wait_for_url(f"**/portal/leads/{share.pk}/")
        assert portal.locator("#share-status").inner_text() == "Accepted"
        assert portal.locator("#lead-contact").inner_text() == "Ravi Kumar"
        assert portal.locator(".facts a[href^='mailto:']").is_visible()
        assert portal.locator(".facts a[href^='tel:']").is_visible()
        check_layout(portal, "portal-lead-accepted", width)
        screenshot(portal, f"portal-leads-accepted-{width}")

        # The follow-up: refused empty (the field says so), then recorded.
        portal.locator("#follow-up-form button[type=submit]").click()
        portal.wait_for_load_state("networkidle")
        assert "This field is required." in portal.locator("#follow-up-form").inner_text()
        portal.fill("#follow-up-form textarea[name=note]", "Called Ravi, demo on Monday")
        portal.locator("#follow-up-form button[type=submit]").click()
        portal.wait_for_url(f"**/portal/leads/{share.pk}/")
        assert portal.locator("#share-status").inner_text() == "Followed up"
        assert portal.locator("#share-response").inner_text() == "Called Ravi, demo on Monday"
        check_layout(portal, "portal-lead-followed-up", width)
        screenshot(portal, f"portal-leads-followed-up-{width}")

        # The rep's lead page: the partner's answer and follow-up; the lead counts as the partner's now.
        staff.goto(f"{live_server.url}/leads/{lead.pk}/")
        assert staff.locator("#lead-share-status").inner_text() == "Followed up"
        assert "demo on Monday" in staff.locator("#lead-share-response").inner_text()
        assert Lead.objects.get(pk=lead.pk).partner_id == partner.pk
        screenshot(staff, f"portal-leads-staff-view-{width}")

        assert csp == []
        assert external == []
    finally:
        staff_context.close()
        partner_context.close()
