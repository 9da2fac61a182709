"""Single sign-on in Chromium (Playwright), on a phone (390×844) and a desktop (1280×800), against the real OpenID
Connect provider of tests/accounts/idp.py (here, beside the browser fixture; the HTTP-level tests are in tests/accounts/): the login page's "Sign in with Corp ID" button, the provider's own sign-in
form, back to our callback (code + PKCE, ID token and nonce checked) and into the app. An existing rep by verified
email; a new manager created just in time with the role from the groups claim; with just-in-time creation off, the
"ask your administrator" page. No sideways scroll, tap targets ≥ 44 px, no CSP violation on our pages; screenshots in
artifacts/ (``sso-<step>-<width>.png``)."""

from urllib.parse import urlparse

import pytest
from django.contrib.auth import get_user_model

from accounts.models import IdentityProvider, SsoIdentity
from partners.roles import MANAGER
from portal.models import Membership
from tests import factories
from tests.accounts.conftest import idp, make_provider, oidc_server  # noqa: F401 (the test provider's fixtures)
from tests.browser.conftest import open_page, screenshot
from tests.browser.test_mobile import check_layout

User = get_user_model()
VIEWPORTS = [(390, 844), (1280, 800)]
IDS = ["phone", "desktop"]


def sso_sign_in(page, live_server, provider, sub, slug="corp"):
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator(f"button[data-sso={slug}]").click()
    page.wait_for_url(f"{provider.url}/oauth2/authorize**")  # the provider's own page
    page.fill("input[name=sub]", sub)
    page.locator("button[type=submit]", has_text="Authorize").click()
    page.wait_for_load_state("networkidle")


def arrived(page, path):
    page.wait_for_load_state("networkidle")
    assert urlparse(page.url).path == path, (page.url, page.locator("main").inner_text()[:300])


def ours(external, provider):
    """Requests to other hosts, but the test provider's own (its sign-in page loads Pico CSS from a CDN: not ours)."""
    return [url for url in external
            if urlparse(url).netloc not in (urlparse(provider.url).netloc, "cdn.jsdelivr.net")]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=IDS)
def test_existing_rep_signs_in_with_the_identity_provider(browser, live_server, idp, width, height):  # noqa: F811
    make_provider(idp)
    rep = factories.rep_user(username=f"asha-{width}", email=f"asha-{width}@example.com", first_name="Asha")
    idp.set_user(f"sub-asha-{width}", email=f"ASHA-{width}@example.com", email_verified=True)
    context, page, csp, external = open_page(browser, live_server, width, height)
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        button = page.locator("button[data-sso=corp]")
        assert button.inner_text() == "Sign in with Corp ID"
        check_layout(page, "login", width)
        screenshot(page, f"sso-login-{width}")
        sso_sign_in(page, live_server, idp, f"sub-asha-{width}")
        assert urlparse(page.url).path == "/today/"
        check_layout(page, "today after SSO", width)
        screenshot(page, f"sso-today-{width}")
        assert SsoIdentity.objects.get(subject=f"sub-asha-{width}").user_id == rep.pk
        assert csp == [] and ours(external, idp) == []
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=IDS)
def test_jit_on_creates_a_manager_from_groups_and_jit_off_asks_for_an_administrator(
    browser, live_server, idp, width, height,  # noqa: F811
):
    provider = make_provider(idp, jit_enabled=False)
    idp.set_user(f"sub-mia-{width}", email=f"mia-{width}@example.com", email_verified=True, given_name="Mia",
                 groups=["prm-managers"])
    context, page, csp, external = open_page(browser, live_server, width, height)
    try:
        sso_sign_in(page, live_server, idp, f"sub-mia-{width}")
        assert page.locator("#sso-error h1").inner_text() == "You cannot sign in here yet"
        assert "Ask your administrator" in page.locator("#sso-error").inner_text()
        check_layout(page, "ask your administrator", width)
        screenshot(page, f"sso-ask-admin-{width}")
        assert not User.objects.filter(email=f"mia-{width}@example.com").exists()

        provider.jit_enabled = True
        provider.save(update_fields=["jit_enabled"])
        page.locator("#sso-error a", has_text="Back to the login page").click()
        sso_sign_in(page, live_server, idp, f"sub-mia-{width}")
        assert urlparse(page.url).path == "/today/"
        user = User.objects.get(email=f"mia-{width}@example.com")
        assert list(user.groups.values_list("name", flat=True)) == [MANAGER]
        assert page.goto(f"{live_server.url}/team/").status == 200  # a manager's page
        assert csp == [] and ours(external, idp) == []
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=IDS)
def test_a_partner_organisations_own_identity_provider_leads_to_the_portal(
    browser, live_server, idp, width, height,  # noqa: F811
):
    acme = factories.PartnerFactory(name="Acme Distributors")
    make_provider(idp)  # the vendor's own, beside it on the login page
    make_provider(idp, slug="acme", name="Acme SSO", audience=IdentityProvider.Audience.PARTNER, partner=acme,
                  jit_enabled=True, default_role="member", group_roles={"acme-prm-admins": "admin"})
    idp.set_user(f"acme-ada-{width}", email=f"ada-{width}@acme.example", email_verified=True, given_name="Ada",
                 family_name="Admin", groups=["acme-prm-admins"])
    context, page, csp, external = open_page(browser, live_server, width, height)
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        assert page.locator("button[data-sso=acme]").inner_text() == "Sign in with Acme SSO"
        check_layout(page, "login with two providers", width)
        sso_sign_in(page, live_server, idp, f"acme-ada-{width}", slug="acme")
        assert urlparse(page.url).path == "/portal/"
        assert "Acme Distributors" in page.locator("header").inner_text()
        check_layout(page, "portal after SSO", width)
        screenshot(page, f"sso-portal-{width}")
        membership = Membership.objects.get(user__email=f"ada-{width}@acme.example")
        assert (membership.partner_id, membership.role) == (acme.pk, "admin")
        assert page.goto(f"{live_server.url}/partners/").status == 404  # still a partner user: no staff pages
        assert csp == [] and ours(external, idp) == []
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=IDS)
def test_the_policy_makes_staff_set_up_an_authenticator_app_then_asks_for_its_code(
    browser, live_server, width, height,  # noqa: F811
):
    import time

    from accounts import services
    from tests.accounts.test_totp import rfc6238
    from tests.factories import PASSWORD

    services.policy_save(staff_must_use_sso=False, staff_totp_required=True)
    rep = factories.rep_user(username=f"totp-{width}")
    context, page, csp, external = open_page(browser, live_server, width, height)
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", rep.username)
        page.fill("#id_password", PASSWORD)
        with page.expect_navigation():
            page.locator("main button[type=submit]", has_text="Log in").click()
        arrived(page, "/accounts/two-factor/")
        assert page.locator("img.totp-qr").is_visible()
        check_layout(page, "authenticator set-up", width)
        screenshot(page, f"sso-totp-setup-{width}")
        page.goto(f"{live_server.url}/partners/")  # held on the set-up page until done
        assert urlparse(page.url).path == "/accounts/two-factor/"
        secret = page.locator("#totp-secret").inner_text()  # each visit shows a new key (with its signed twin)
        page.fill("#id_code", rfc6238(secret))
        with page.expect_navigation():
            page.locator("#two-factor button[type=submit]").click()
        arrived(page, "/today/")

        page.context.clear_cookies()
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", rep.username)
        page.fill("#id_password", PASSWORD)
        with page.expect_navigation():
            page.locator("main button[type=submit]", has_text="Log in").click()
        arrived(page, "/accounts/login/code/")
        check_layout(page, "code", width)
        screenshot(page, f"sso-totp-code-{width}")
        page.fill("#id_code", rfc6238(secret, at=time.time() + 30))  # the set-up used this time step's code
        with page.expect_navigation():
            page.locator("#login-code button[type=submit]").click()
        arrived(page, "/today/")
        assert csp == [] and external == []
    finally:
        context.close()
