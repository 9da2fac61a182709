"""The error pages (jinja2/403.html, 404.html, 500.html, 403_csrf.html) in the app's style, and the favicon."""

import pytest
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver
from django.views import defaults
from django.views.csrf import csrf_failure

from tests import factories

pytestmark = pytest.mark.django_db


def test_unknown_url_is_the_apps_404_page(rep_client):
    response = rep_client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html and 'class="card narrow error-card"' in html
    assert '<nav class="mainnav"' in html and 'class="bell"' in html  # the app's layout, signed in
    assert "/static/css/app.css" in html


def test_another_reps_partner_is_the_same_404_page(rep_client, other_rep):
    partner = factories.PartnerFactory(assigned_to=other_rep, name="Not yours Ltd")
    for url in (f"/partners/{partner.pk}/", f"/partners/{partner.pk}/edit/"):
        response = rep_client.get(url)
        assert response.status_code == 404, url
        html = response.content.decode()
        assert "Page not found" in html and "Not yours Ltd" not in html


def test_404_for_someone_signed_out(client):
    response = client.get("/favicon.png")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html and 'class="mainnav"' not in html and "Log out" not in html


def test_500_page_renders_with_no_request_and_no_query():
    """Django's ``handler500`` (``server_error``, DEBUG off) renders 500.html with no context at all; the page must not
    need the request, the user or the database, whatever broke."""
    assert get_resolver().resolve_error_handler(500) is defaults.server_error
    request = RequestFactory().get("/partners/1/")
    with CaptureQueriesContext(connection) as queries:
        response = defaults.server_error(request)
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong" in html and 'class="card narrow error-card"' in html
    assert "/static/css/app.css" in html and 'rel="icon"' in html
    assert len(queries) == 0


def test_403_page():
    request = RequestFactory().get("/admin/")
    request.user = factories.rep_user(username="rep-403")
    response = defaults.permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()


def test_csrf_failure_page_is_ours():
    client = Client(enforce_csrf_checks=True)
    client.force_login(factories.rep_user(username="rep-csrf"))
    response = client.post("/partners/new/", {"name": "x"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "Form expired" in html and 'class="card narrow error-card"' in html
    request = RequestFactory().post("/partners/new/")
    assert "Form expired" in csrf_failure(request, reason="CSRF cookie not set.").content.decode()


def test_favicon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("favicon.svg")
    assert "max-age=86400" in response["Cache-Control"]
    icon = finders.find("favicon.svg")  # served as a static file (the browser test fetches it from the live server)
    assert icon and open(icon, "rb").read().startswith(b"<svg")


def test_pages_link_the_favicon(client):
    html = client.get("/accounts/login/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
