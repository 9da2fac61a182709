"""A rep's ticket journey on a phone (390×844) and a desktop (1280×800): open a ticket from a customer's page, reply
with a file, put it on hold, resolve it; every ticket page fits the screen with ≥ 44 px tap targets. Screenshots land
in artifacts/ (``tickets-<step>-<width>.png``)."""

from pathlib import Path

import pytest

from service.models import Ticket
from tests import factories
from tests.browser.conftest import login, screenshot
from tests.browser.test_mobile import OVERFLOW_JS, SMALL_TARGETS_JS

TARGETS = ", ".join(["main button", "main a.button", "main select", "main input:not([type=hidden]):not([type=checkbox])",
                     ".mainnav a", ".breadcrumbs a", ".ticket-title", ".ticket-item-meta a", ".comment-file a",
                     ".field-check label", ".responsive td.cell-name a"])
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def fits(page, name):
    layout = page.evaluate(OVERFLOW_JS)
    assert layout["scrollWidth"] <= layout["innerWidth"], f"{name} scrolls sideways: {layout}"
    assert page.evaluate(SMALL_TARGETS_JS, TARGETS) == [], name


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 800)])
def test_open_reply_hold_and_resolve_a_ticket(page, live_server, tmp_path, settings, width, height):
    settings.MEDIA_ROOT = tmp_path / "media"
    rep = factories.rep_user(username=f"ticket-rep-{width}", first_name="Asha", last_name="Rao")
    partner = factories.PartnerFactory(name="Acme Traders", assigned_to=rep)
    customer = factories.CustomerFactory(name="Foo Industries Private Limited", partner=partner, assigned_to=rep)
    login(page, live_server, rep)
    page.set_viewport_size({"width": width, "height": height})

    # From the customer's page: "New ticket".
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    page.locator("#tickets").get_by_role("link", name="New ticket").click()
    page.wait_for_load_state("networkidle")
    fits(page, "new ticket")
    page.fill("#id_subject", "Conveyor belt stopped at the Peenya warehouse")
    page.fill("#id_description", "Line 2 is down since 9:00.\nThey need a technician today.")
    page.select_option("#id_type", "incident")
    page.select_option("#id_priority", "urgent")
    screenshot(page, f"tickets-new-{width}")
    page.get_by_role("button", name="Open ticket").click()
    page.wait_for_load_state("networkidle")
    ticket = Ticket.objects.get()
    assert page.url.endswith(f"/tickets/{ticket.pk}/")
    assert (ticket.customer_id, ticket.priority, ticket.type, ticket.assignee_id) == (
        customer.pk, "urgent", "incident", rep.pk)
    assert "due in 59 min" in page.locator("#sla").inner_text()
    fits(page, "ticket page")

    # Reply with a photo: the first response.
    page.fill("#id_body", "A technician is on the way, arriving by 13:00.")
    photo = Path(tmp_path) / "belt.png"
    photo.write_bytes(PNG)
    page.set_input_files("#id_file", str(photo))
    page.get_by_role("button", name="Add comment").click()
    page.wait_for_load_state("networkidle")
    assert "Comment added." in page.locator(".messages").inner_text()
    thread = page.locator("#comments").inner_text()
    assert "A technician is on the way" in thread and "belt.png" in thread
    assert "met" in page.locator("#sla").inner_text()
    assert "Open" in page.locator(".head-meta").inner_text()

    # Waiting for the spare part: on hold stops the clock.
    page.fill("#status-note", "Waiting for a spare motor")
    page.locator(".status-buttons").get_by_role("button", name="On hold").click()
    page.wait_for_load_state("networkidle")
    assert "On hold" in page.locator(".head-meta").inner_text()
    assert "paused" in page.locator("#sla").inner_text()
    assert "Waiting for a spare motor" in page.locator("#history").inner_text()
    fits(page, "on hold")
    screenshot(page, f"tickets-on-hold-{width}")

    # Fixed: resolve.
    page.locator(".status-buttons").get_by_role("button", name="Resolved").click()
    page.wait_for_load_state("networkidle")
    assert "Resolved" in page.locator(".head-meta").inner_text()
    ticket.refresh_from_db()
    assert ticket.status == "resolved" and ticket.resolved_at and ticket.first_responded_at
    screenshot(page, f"tickets-resolved-{width}")

    # The list: the resolved ticket is gone from the default (open) view, there with "Any status".
    page.goto(f"{live_server.url}/tickets/")
    assert page.locator(f"#ticket-{ticket.pk}").count() == 0
    page.goto(f"{live_server.url}/tickets/?status=any")
    assert page.locator(f"#ticket-{ticket.pk}").is_visible()
    fits(page, "list")
    screenshot(page, f"tickets-list-{width}")
    assert page.external_requests == []
