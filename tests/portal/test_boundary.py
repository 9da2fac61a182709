"""The wall between the portal and the staff pages (portal.middleware.PartnerBoundaryMiddleware, and
portal.selectors.portal_member): a partner user gets 404 on every staff page and the admin, on every verb, and is
sent to /portal/ from the staff's start pages; staff get 404 on the portal's pages; the anonymous portal pages
(joining, asking for access) are open to everyone."""

import pytest
from django.test import Client

from tests import factories

pytestmark = pytest.mark.django_db

STAFF_PATHS = ["/partners/", "/partners/{partner}/", "/partners/{partner}/edit/", "/partners/new/",
               "/partners/{partner}/portal-users/", "/leads/", "/leads/new/", "/customers/", "/tickets/", "/team/",
               "/admin/", "/admin/portal/membership/", "/notifications/", "/settings/", "/insights/",
               "/partners/{partner}/activities/log/"]
PORTAL_PATHS = ["/portal/", "/portal/people/"]


def paths(templates, **ids):
    return [template.format(**ids) for template in templates]


@pytest.mark.parametrize("role", ["admin", "member"])
def test_a_partner_user_gets_404_on_every_staff_page(client, acme, acme_admin, acme_member, role):
    member = acme_admin if role == "admin" else acme_member
    member.user.is_staff = True  # even a partner user wrongly flagged staff stays out of the admin
    member.user.save(update_fields=["is_staff"])
    client.force_login(member.user)
    for path in paths(STAFF_PATHS, partner=acme.pk):
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            assert response.status_code == 404, (method, path, response.status_code)
    assert client.get("/portal/").status_code == 200


def test_the_staff_start_pages_send_a_partner_user_to_the_portal(acme_client):
    for path in ("/", "/today/"):
        response = acme_client.get(path)
        assert response.status_code == 302 and response["Location"] == "/portal/", path


def test_a_session_from_before_the_middleware_is_classified_once(acme_client):
    session = acme_client.session
    del session["prm_kind"]
    session.save()
    assert acme_client.get("/partners/").status_code == 404
    assert acme_client.session["prm_kind"] == "partner"


def test_staff_get_404_on_the_portal_pages(client, rep, manager):
    for user in (rep, manager, factories.UserFactory(username="root", is_staff=True, is_superuser=True)):
        client.force_login(user)
        for path in PORTAL_PATHS:
            assert client.get(path).status_code == 404, (user.username, path)
        assert client.post("/portal/people/invite/", {"email": "x@y.example"}).status_code == 404
        assert client.get("/partners/").status_code == 200  # their own pages are fine


def test_anonymous_visitors_are_asked_to_log_in_except_on_the_open_portal_pages(db):
    client = Client()
    for path in PORTAL_PATHS:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), path
    assert client.get("/portal/request-access/").status_code == 200
    assert client.get("/portal/join/not-a-token/").status_code == 404  # the invalid-link page, not a login redirect
    assert client.get("/accounts/login/").status_code == 200
