"""A partner user on a phone (390×844) and a desktop (1280×800): log in through the form → the portal home (welcome,
since the last visit, the tier, the business card) → the business page (card and trendline drawn, own figures only)
→ the company profile → propose a change (a bad email refused, then sent) → "waiting for approval"; then the rep
approves it on the staff side and the profile shows it. Nothing scrolls sideways, tap targets are comfortable, no
Content-Security-Policy violation, no request leaves the server; screenshots in artifacts/ (``portal-<page>-<width>.png``).
"""

from decimal import Decimal
from urllib.parse import urlparse

import pytest

from business import periods
from business.models import Frequency, Parameter
from partners.models import ContactPoint
from portal.events import EventItem, portal_events_record
from portal.models import Membership, PortalEvent, ProfileUpdate
from tests import factories
from tests.browser.conftest import login, open_page, screenshot
from tests.browser.test_mobile import check_layout

VIEWPORTS = [(390, 844), (1280, 800)]


def build(width):
    rep = factories.rep_user(username=f"portal-rep-{width}", first_name="Asha", last_name="Rao")
    other_rep = factories.rep_user(username=f"portal-rep2-{width}")
    partner = factories.PartnerFactory(name="Sri Venkateshwara Agro Distributors Private Limited", assigned_to=rep,
                                       tier=factories.tier("Gold"), notes="Seeds and fertiliser across Karnataka.")
    factories.ContactPointFactory(partner=partner, kind="email", value="info@sva.example", is_primary=True)
    factories.LocationFactory(partner=partner, label="Head office", address="12 MG Road, Bengaluru", is_primary=True)
    other = factories.PartnerFactory(name="Globex Resellers", assigned_to=other_rep)
    user = factories.UserFactory(username=f"priya-{width}", first_name="Priya", last_name="Sharma",
                                 email=f"priya-{width}@sva.example")
    Membership.objects.create(user=user, partner=partner, role=Membership.Role.ADMIN)
    revenue = factories.parameter(Parameter.REVENUE)
    month = periods.period_start(periods.org_today(), Frequency.MONTHLY)
    for offset in range(12):
        start = periods.shift(month, Frequency.MONTHLY, -offset)
        factories.TargetFactory(partner=partner, parameter=revenue, period_start=start, value=Decimal("500000"))
        factories.AchievementFactory(partner=partner, parameter=revenue, period_start=start,
                                     value=Decimal(300000 + 20000 * offset))
        factories.TargetFactory(partner=other, parameter=revenue, period_start=start, value=Decimal("987654"))
    portal_events_record(items=[
        EventItem(partner_id=partner.pk, kind=PortalEvent.Kind.DEAL_DECIDED, title="DR-000042 Ravi Traders: approved",
                  source_key="deal:42:approved"),
        EventItem(partner_id=partner.pk, kind=PortalEvent.Kind.COLLEAGUE_JOINED, title="Max Member joined the portal",
                  source_key="colleague:7"),
        EventItem(partner_id=other.pk, kind=PortalEvent.Kind.DEAL_DECIDED, title="Globex deal approved",
                  source_key="deal:43:approved"),
    ])
    return rep, partner, user


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=["phone", "desktop"])
def test_partner_user_home_business_and_profile_update(browser, live_server, width, height):
    rep, partner, user = build(width)
    phone = width < 800
    context, page, csp, external = open_page(browser, live_server, width, height)
    try:
        # Logging in lands a partner user on the portal home.
        login(page, live_server, user)
        assert urlparse(page.url).path == "/portal/"
        assert page.locator("#welcome").inner_text() == "Welcome, Priya"
        since = page.locator("#since-last-visit").inner_text()
        assert "Ravi Traders: approved" in since and "Max Member joined" in since and "Globex" not in since
        assert page.locator("#tier-name").inner_text() == "Gold"
        card = page.locator("#business-summary").inner_text()
        assert "Revenue" in card and "987" not in card
        check_layout(page, "portal-home", width)
        screenshot(page, f"portal-home-{width}")

        # The business page: the staff's card and trendline, drawn, with the partner's own figures.
        page.locator("#business-link").click()
        page.wait_for_url("**/portal/business/")
        page.wait_for_selector("#trend-chart svg.main-svg")
        assert page.locator("#trend-chart .trace.bars").count() == 1
        assert page.locator("#trend-chart").bounding_box()["width"] <= width
        assert "987" not in page.locator("#business-card").inner_text()
        check_layout(page, "portal-business", width)
        screenshot(page, f"portal-business-{width}")

        # The company profile, then a proposed change: a bad email is refused with a field error, then it is sent.
        page.goto(f"{live_server.url}/portal/company/")
        assert "Seeds and fertiliser" in page.locator("#description").inner_text()
        assert "info@sva.example" in page.locator("#contacts").inner_text()
        check_layout(page, "portal-company", width)
        page.locator("#propose-link").click()
        page.wait_for_url("**/portal/company/propose/")
        page.fill("#id_notes", "Seeds, fertiliser and <b>drip irrigation</b> across Karnataka.")
        page.fill("#id_contacts-0-value", "not-an-email")
        page.locator("#send-proposal").click()
        page.wait_for_load_state("networkidle")
        assert "Enter a valid email address." in page.locator("form.profile-update-form").inner_text()
        assert not ProfileUpdate.objects.exists()
        check_layout(page, "portal-propose-error", width)
        page.fill("#id_contacts-0-value", "sales@sva.example")
        page.locator("#send-proposal").click()
        page.wait_for_url("**/portal/company/")
        assert "waiting for approval" in page.locator("#pending-update").inner_text()
        assert page.locator("#propose-link").count() == 0
        screenshot(page, f"portal-company-pending-{width}")
        update = ProfileUpdate.objects.get(partner=partner)
        assert update.status == "pending" and update.submitted_by_id == user.pk

        # Staff pages are not there for a partner user.
        assert page.goto(f"{live_server.url}/partners/{partner.pk}/").status == 404

        # The rep approves it on the staff side; the profile shows the new details.
        staff = browser.new_context(viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone)
        staff_page = staff.new_page()
        login(staff_page, live_server, rep)
        staff_page.goto(f"{live_server.url}/partners/{partner.pk}/")
        staff_page.locator("#profile-update-pending a").click()
        staff_page.wait_for_url(f"**/profile-updates/{update.pk}/")
        assert "sales@sva.example" in staff_page.locator("#proposed").inner_text()
        check_layout(staff_page, "profile-update-review", width)
        screenshot(staff_page, f"portal-profile-review-{width}")
        staff_page.locator("#approve-button").click()
        staff_page.wait_for_url(f"**/partners/{partner.pk}/")
        staff.close()
        assert ContactPoint.objects.get(partner=partner).value == "sales@sva.example"

        page.goto(f"{live_server.url}/portal/company/")
        assert "drip irrigation" in page.locator("#description").inner_text()  # shown as text, escaped
        assert page.locator("#description b").count() == 0
        assert "sales@sva.example" in page.locator("#contacts").inner_text()
        assert csp == []
        assert external == []
    finally:
        context.close()
