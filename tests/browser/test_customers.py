"""A rep's customers on a phone (390×844) and a desktop (1280×800): Today's "Customers to engage" → the nav's
Customers tab → the list with an overdue customer flagged → its page (overdue, one-tap contacts) → "Log activity" → back on the page, the overdue flag is
gone and the call is in the history. Every page on the way fits the screen (no sideways scroll, ≥ 44 px targets);
screenshots land in artifacts/ (``customers-<page>-<width>.png``)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from activities.models import Activity
from leads.models import Customer
from tests import factories
from tests.browser.conftest import login, screenshot
from tests.browser.test_mobile import OVERFLOW_JS, SMALL_TARGETS_JS, TAP_TARGETS

LONG_NAME = "Sri Venkateshwara Agro Distributors and Farm Equipment Private Limited"


def check_layout(page, name, width):
    layout = page.evaluate(OVERFLOW_JS)
    assert layout["scrollWidth"] <= layout["innerWidth"], f"{name} at {width}px scrolls sideways: {layout}"
    small = page.evaluate(SMALL_TARGETS_JS, TAP_TARGETS)
    assert small == [], f"{name} at {width}px: tap targets under 44px: {small}"
    screenshot(page, f"customers-{name}-{width}")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 800)], ids=["phone", "desktop"])
def test_list_customer_log_and_the_overdue_flag_goes(page, live_server, width, height):
    rep = factories.rep_user(username="customer-rep")
    partner = factories.PartnerFactory(name="Acme Traders", assigned_to=rep)
    customer = factories.customer_with_contacts(name=LONG_NAME, company="Agro Pvt Ltd", assigned_to=rep,
                                                partner=partner)
    Customer.objects.filter(pk=customer.pk).update(engagement_due_at=timezone.now() - timedelta(days=4))
    factories.CustomerFactory(name="Fine Foods", assigned_to=rep, partner=partner)
    page.set_viewport_size({"width": width, "height": height})
    login(page, live_server, rep)

    assert page.url.endswith("/today/")  # Today: the overdue customer is in "Customers to engage"
    section = page.locator("#today-customers")
    assert LONG_NAME in section.inner_text() and "overdue 4 d" in section.inner_text()
    check_layout(page, "today", width)

    page.click(".mainnav >> text=Customers")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/customers/")
    row = page.locator(f"#customer-{customer.pk}")
    assert "overdue" in row.inner_text() and "Fine Foods" in page.locator("main").inner_text()
    check_layout(page, "list", width)

    row.locator("td.cell-name a").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/customers/{customer.pk}/")
    assert page.locator("#customer-overdue").is_visible()
    assert page.locator("#quick-contact .qa-call").get_attribute("href").startswith("tel:+9197")
    check_layout(page, "detail", width)

    page.click(".head-actions >> text=Log activity")
    page.wait_for_load_state("networkidle")
    check_layout(page, "log", width)
    page.select_option("#id_kind", "call")
    page.fill("#id_outcome", "Took an order for 40 bags")
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")

    assert page.url.endswith(f"/customers/{customer.pk}/")
    assert "Call logged." in page.locator(".messages").inner_text()
    assert page.locator("#customer-overdue").count() == 0
    assert "Took an order for 40 bags" in page.locator("#past-engagements").inner_text()
    activity = Activity.objects.get(customer=customer)
    assert activity.partner_id is None and activity.status == "done"
    customer.refresh_from_db()
    assert customer.engagement_due_at > timezone.now()

    page.click(".head-actions >> text=Edit")
    page.wait_for_load_state("networkidle")
    check_layout(page, "edit", width)
    assert page.external_requests == []
