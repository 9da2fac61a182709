"""The webhooks pages at 390×844 and 1280×800: a manager creates an endpoint from the account menu, sees its secret
once, sends a test event and reads it in the delivery log; nothing scrolls sideways, taps are ≥ 44 px, no CSP
violation, nothing leaves the server. Screenshots in artifacts/ (``webhooks-<page>-<width>.png``)."""

import pytest

from tests import factories
from tests.browser.conftest import login, open_page, screenshot
from tests.browser.test_mobile import check_layout
from webhooks.models import Endpoint

VIEWPORTS = [(390, 844), (1280, 800)]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=["phone", "desktop"])
def test_create_an_endpoint_and_see_the_secret_once(browser, live_server, settings, width, height):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True  # the URL below is on 127.0.0.1
    manager = factories.manager_user(username=f"hooks-manager-{width}", first_name="Meera", last_name="Iyer")
    context, page, csp, external = open_page(browser, live_server, width, height)
    try:
        login(page, live_server, manager)
        page.click("summary[aria-label='Account menu']")
        page.click(".usermenu-panel a:has-text('Webhooks')")
        page.wait_for_selector("h1:has-text('Webhooks')")
        page.fill("#id_url", "http://127.0.0.1:9/hooks/prm")
        page.fill("#id_description", "BI sync")
        page.check("input[value='lead.created']")
        page.check("input[value='deal.decided']")
        page.click("button:has-text('Create endpoint')")
        secret = page.input_value("#webhook-secret")
        assert secret.startswith("whsec_")
        check_layout(page, "webhooks (created)", width)
        screenshot(page, f"webhooks-created-{width}")
        endpoint = Endpoint.objects.get(owner=manager)
        assert endpoint.events == ["lead.created", "deal.decided"]
        page.goto(f"{live_server.url}/settings/webhooks/")
        assert secret not in page.content()
        page.click("a:has-text('http://127.0.0.1:9/hooks/prm')")
        page.click("button:has-text('Send a test event')")
        page.wait_for_selector("text=Test event msg_")
        page.wait_for_selector("td:has-text('pending'), td:has-text('failed'), td:has-text('delivered')")
        check_layout(page, "webhook endpoint", width)
        screenshot(page, f"webhooks-endpoint-{width}")
        assert secret not in page.content()
        assert csp == [] and external == []
    finally:
        context.close()
