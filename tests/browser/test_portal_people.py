"""Partner users in the browser, on a phone (390×844) and a desktop (1280×800): a partner admin's invitation is
accepted through the emailed link (name and password), the new colleague lands in the portal and sees their
colleagues; after logging out they log in on the ordinary login page with their email address and land on the portal
again; the admin's colleagues page (invite form, pending invitations, deactivate) fits the screen. Nothing scrolls
sideways, the controls are comfortable taps, no Content-Security-Policy violation, no request leaves the server;
screenshots in artifacts/ (``portal-people-<page>-<width>.png``)."""

import re

import pytest
from django.core import mail

from portal.models import Membership
from portal.people_services import invitation_create
from portal.people_tasks import send_invitation_email
from tests import factories
from tests.browser.conftest import open_page, screenshot
from tests.browser.test_mobile import check_layout
from tests.factories import PASSWORD
from tests.portal.conftest import make_member

VIEWPORTS = [(390, 844), (1280, 800)]
NEW_PASSWORD = "Tangerine-Walrus-42"


def build(width):
    rep = factories.rep_user(username=f"people-rep-{width}")
    partner = factories.PartnerFactory(name="Sri Venkateshwara Agro Distributors Private Limited", assigned_to=rep)
    admin = make_member(partner, role=Membership.Role.ADMIN, username=f"ada-{width}@acme.example",
                        first_name="Ada", last_name="Admin", email=f"ada-{width}@acme.example")
    make_member(partner, username=f"max-{width}@acme.example", first_name="Max", last_name="Member-Longname",
                email=f"max-{width}@acme.example")
    invitation = invitation_create(partner=partner, email=f"Nora-{width}@ACME.example", name="Nora Newcomer",
                                   role=Membership.Role.MEMBER, by=admin.user)
    mail.outbox = []
    assert send_invitation_email(invitation.pk) == 1
    token = re.search(r"/portal/join/([A-Za-z0-9_\-]+)/", mail.outbox[-1].body).group(1)
    invitation_create(partner=partner, email=f"pending-{width}@acme.example", name="Pat Pending",
                      role=Membership.Role.ADMIN, by=admin.user)
    return partner, admin, token


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=["phone", "desktop"])
def test_accept_an_invitation_log_in_and_see_colleagues(browser, live_server, width, height, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    partner, admin, token = build(width)
    context, page, csp, external = open_page(browser, live_server, width, height)
    try:
        # The emailed link: the form greets them with the partner's name, their name filled in.
        page.goto(f"{live_server.url}/portal/join/{token}/")
        assert partner.name in page.locator("h1").inner_text()
        assert page.input_value("#id_first_name") == "Nora"
        check_layout(page, "join", width)
        screenshot(page, f"portal-people-join-{width}")
        # A weak password is refused next to the field; then a good one.
        page.fill("#id_password1", "12345678")
        page.fill("#id_password2", "12345678")
        page.locator("#join button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        assert "too common" in page.locator("#join").inner_text()
        check_layout(page, "join-error", width)
        page.fill("#id_password1", NEW_PASSWORD)
        page.fill("#id_password2", NEW_PASSWORD)
        page.locator("#join button[type=submit]").click()
        page.wait_for_url(f"{live_server.url}/portal/")
        assert "Welcome, Nora" in page.locator("h1").inner_text()
        assert f"nora-{width}@acme.example" in page.locator(".messages").inner_text()

        # Colleagues, one tap away in the portal's tab strip.
        page.locator(".mainnav a", has_text="Colleagues").click()
        page.wait_for_url("**/portal/people/")
        people = page.locator("#people").inner_text()
        assert "Ada Admin" in people and "Max Member-Longname" in people and "Nora Newcomer" in people
        assert page.locator("#invite").count() == 0  # a member does not invite
        check_layout(page, "people-member", width)
        screenshot(page, f"portal-people-list-{width}")

        # Log out, then in again on the ordinary login page with the email address: the portal.
        page.locator(".usermenu summary").click()
        page.locator(".usermenu-panel button", has_text="Log out").click()
        page.wait_for_load_state("networkidle")
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", f"nora-{width}@acme.example")
        page.fill("#id_password", NEW_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/portal/")
        assert page.goto(f"{live_server.url}/partners/").status == 404  # the staff pages do not exist for them
        page.goto(f"{live_server.url}/portal/")
        page.locator(".usermenu summary").click()
        page.locator(".usermenu-panel button", has_text="Log out").click()
        page.wait_for_load_state("networkidle")

        # The partner admin's page: invite form, the pending invitation, deactivate buttons — all within the screen.
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", admin.user.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/portal/")
        page.goto(f"{live_server.url}/portal/people/")
        assert "Pat Pending" in page.locator("#invitations").inner_text()
        assert page.locator("#people button", has_text="Deactivate").count() == 2  # Max and Nora, not Ada herself
        check_layout(page, "people-admin", width)
        screenshot(page, f"portal-people-admin-{width}")
        page.fill("#id_email", f"ivy-{width}@acme.example")
        page.fill("#id_name", "Ivy <Intern>")
        page.locator("#invite button[type=submit]").click()
        page.wait_for_url("**/portal/people/")
        assert "Ivy <Intern>" in page.locator("#invitations").inner_text()

        assert csp == []
        assert external == []
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=["phone", "desktop"])
def test_a_rep_invites_a_partner_admin_from_the_partner_page(browser, live_server, width, height, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    rep = factories.rep_user(username=f"staff-rep-{width}", first_name="Asha", last_name="Rao")
    partner = factories.PartnerFactory(name="Globex Resellers & Sons", assigned_to=rep)
    phone = width < 800
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone,
                                  device_scale_factor=2 if phone else 1)
    page = context.new_page()
    page.set_default_timeout(15_000)
    csp = []
    page.on("console", lambda msg: csp.append(msg.text) if "Content Security Policy" in msg.text else None)
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", rep.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/today/")
        page.goto(f"{live_server.url}/partners/{partner.pk}/")
        page.locator("#partner-portal-users").click()
        page.wait_for_url(f"**/partners/{partner.pk}/portal-users/")
        check_layout(page, "portal-users-empty", width)
        page.fill("#invite #id_email", f"boss-{width}@globex.example")
        page.fill("#invite #id_name", "Gina Globex")
        page.locator("#invite button[type=submit]").click()
        page.wait_for_url(f"**/partners/{partner.pk}/portal-users/")
        assert f"boss-{width}@globex.example" in page.locator("#invitations").inner_text()
        page.fill("#id_domain", "Globex.example")
        page.locator("#domains button[type=submit]", has_text="Add domain").click()
        page.wait_for_url(f"**/partners/{partner.pk}/portal-users/#domains")
        assert "globex.example" in page.locator("#domains").inner_text()
        check_layout(page, "portal-users", width)
        screenshot(page, f"portal-people-staff-{width}")
        assert csp == []
    finally:
        context.close()
