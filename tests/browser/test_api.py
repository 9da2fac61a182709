"""The API's docs page (Swagger UI from the sidecar's static files) draws the operations under the project's
Content-Security-Policy with no request leaving the server; the API keys page at 390×844 and 1280×800: create a key,
see its secret once, revoke it; nothing scrolls sideways. Screenshots in artifacts/ (``api-<page>-<width>.png``)."""

from urllib.parse import urlparse

import pytest

from api.models import ApiKey
from tests import factories
from tests.browser.conftest import login, screenshot
from tests.browser.test_mobile import check_layout

VIEWPORTS = [(390, 844), (1280, 800)]


def _watch(page, live_server):
    csp, external = [], []
    page.on("console", lambda msg: csp.append(msg.text) if "Content Security Policy" in msg.text else None)
    host = urlparse(live_server.url).hostname
    page.on("request", lambda request: external.append(request.url)
            if urlparse(request.url).hostname not in (host, None) and not request.url.startswith(("data:", "blob:"))
            else None)
    return csp, external


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_docs_page_draws_under_the_csp(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    csp, external = _watch(page, live_server)
    try:
        response = page.goto(f"{live_server.url}/api/v1/docs/")
        assert response.status == 200
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_selector("text=/api/v1/partners/")
        page.wait_for_selector(".swagger-ui .info .title")
        screenshot(page, "api-docs-1280")
        assert csp == [] and external == []
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=["phone", "desktop"])
def test_keys_page_create_and_revoke(browser, live_server, width, height):
    manager = factories.manager_user(username=f"api-manager-{width}", first_name="Meera", last_name="Iyer")
    phone = width < 800
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone,
                                  device_scale_factor=2 if phone else 1)
    page = context.new_page()
    page.set_default_timeout(15_000)
    csp, external = _watch(page, live_server)
    try:
        login(page, live_server, manager)
        page.goto(f"{live_server.url}/settings/api-keys/")
        page.fill("#id_name", "Nightly BI export")
        page.check("input[value='partners:read']")
        page.click("button:has-text('Create key')")
        secret = page.input_value("#api-secret")
        assert secret.startswith("prm_")
        check_layout(page, "api keys (created)", width)
        screenshot(page, f"api-keys-{width}")
        page.goto(f"{live_server.url}/settings/api-keys/")
        assert secret not in page.content()
        page.click("button:has-text('Revoke')")
        page.wait_for_selector("text=revoked")
        assert ApiKey.objects.get(owner=manager).revoked_at is not None
        assert csp == [] and external == []
    finally:
        context.close()
