"""The partner's price list and a deal with product lines, in a browser, on a phone (390×844) and a desktop
(1280×800): a partner user opens Prices (their own book wins over the list price), searches, then registers a deal
picking products — the unit price and line totals appear as the SKU and quantity are entered (the quantity break
applies), a line is added, and the saved draft shows the lines and the total. Nothing scrolls sideways, no
Content-Security-Policy violation, no request leaves the server; screenshots in artifacts/
(``portal-prices-<page>-<width>.png``)."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from portal.models import DealLine, DealRegistration, Membership
from pricing import services
from pricing.models import Source
from tests import factories
from tests.browser.conftest import login, screenshot
from tests.browser.test_mobile import check_layout
from tests.browser.test_portal_deals import new_page

VIEWPORTS = [(390, 844), (1280, 800)]


def build(width):
    partner = factories.PartnerFactory(name="Sri Venkateshwara Agro Distributors Private Limited",
                                       tier=factories.tier("Gold"), country="DE")
    user = factories.UserFactory(username=f"prices-partner-{width}", first_name="Priya", last_name="Nair")
    Membership.objects.create(user=user, partner=partner, role=Membership.Role.ADMIN)
    services.products_upsert(rows=[{"sku": f"LIC-{n:03d}", "name": f"Licence pack {n}"} for n in range(1, 61)],
                             source=Source.ADMIN)
    book, _ = services.price_book_upsert(code=f"LIST-{width}", name="List prices", currency="EUR", is_default=True,
                                         source=Source.ADMIN)
    services.price_entries_upsert(book=book, source=Source.ADMIN, rows=[
        *[{"sku": f"LIC-{n:03d}", "unit_price": Decimal(100 + n)} for n in range(1, 61)],
        {"sku": "LIC-002", "unit_price": Decimal("80"), "min_quantity": 10},
    ])
    own, _ = services.price_book_upsert(code=f"KEY-{width}", name="Key account", currency="EUR",
                                        partner_codes=[partner.code], source=Source.ADMIN)
    services.price_entries_upsert(book=own, source=Source.ADMIN, rows=[{"sku": "LIC-001", "unit_price": "55.5"}])
    return partner, user


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=["phone", "desktop"])
def test_price_list_then_a_deal_with_product_lines(browser, live_server, width, height):
    partner, user = build(width)
    problems = []
    context, page = new_page(browser, live_server, width, height, problems)
    try:
        login(page, live_server, user)
        page.goto(f"{live_server.url}/portal/prices/")
        assert page.locator(".portal-nav a[aria-current=page]").inner_text() == "Prices"
        assert page.locator("#price-count").inner_text().startswith("60 products")
        assert page.locator("#price-table tr[data-sku]").count() == 50
        first = page.locator('#price-table tr[data-sku="LIC-001"]').inner_text()
        assert "55.5" in first and "Key account" in first
        check_layout(page, "portal-prices-list", width)
        screenshot(page, f"portal-prices-list-{width}")
        page.fill("#price-search", "pack 5")
        page.press("#price-search", "Enter")
        page.wait_for_load_state("networkidle")
        assert page.locator("#price-table tr[data-sku]").count() == 11  # pack 5, 50…59

        page.goto(f"{live_server.url}/portal/deals/new/")
        page.fill("#id_company", "Initech")
        page.fill("#id_domain", "initech.example")
        page.fill("#id_contact_name", "Bill Lumbergh")
        page.fill("#id_contact_email", "bill@initech.example")
        page.fill("#id_expected_close", "2027-06-30")
        rows = page.locator("#deal-line-rows tr.deal-line")
        rows.nth(0).locator(".line-sku").fill("LIC-001")
        rows.nth(0).locator(".line-quantity").fill("2")
        rows.nth(0).locator(".line-quantity").dispatch_event("change")
        rows.nth(1).locator(".line-sku").fill("LIC-002")
        rows.nth(1).locator(".line-quantity").fill("10")
        rows.nth(1).locator(".line-quantity").dispatch_event("change")
        expect(page.locator("#lines-total")).to_contain_text("911")  # 2 × 55.5 + 10 × 80
        assert "80" in rows.nth(1).locator(".line-price").inner_text()  # the quantity break
        assert "800" in rows.nth(1).locator(".line-total").inner_text().replace(",", "")
        page.click("#add-line")
        assert rows.count() == 4
        page.fill("#id_notes", "Two products")  # leave the new line (its product suggestions close)
        check_layout(page, "portal-prices-deal-form", width)
        screenshot(page, f"portal-prices-deal-form-{width}")
        with page.expect_navigation():
            page.click("#save-draft")
        page.wait_for_load_state("networkidle")
        registration = DealRegistration.objects.filter(partner=partner).first()
        assert registration is not None, page.locator("main").inner_text()
        assert registration.amount == Decimal("911.00")
        assert list(DealLine.objects.filter(registration=registration).values_list("product__sku", "unit_price")) == [
            ("LIC-001", Decimal("55.5")), ("LIC-002", Decimal("80"))]
        lines = page.locator("#deal-line-list").inner_text()
        assert "Licence pack 1" in lines and "911" in page.locator("#deal-lines-total").inner_text().replace(",", "")
        check_layout(page, "portal-prices-deal-detail", width)
        screenshot(page, f"portal-prices-deal-detail-{width}")
        assert problems == []
    finally:
        context.close()
