"""Content-Security-Policy (django-csp, settings "Content-Security-Policy") on our pages and on the admin, and no
inline script anywhere in our templates or static JS for it to block."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from tests import factories

EXPECTED = {
    "default-src": {"'self'"},
    "img-src": {"'self'", "data:"},
    "object-src": {"'none'"},
    "base-uri": {"'self'"},
    "form-action": {"'self'"},
    "frame-ancestors": {"'none'"},
}


def _policy(response):
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = set(sources)
    return directives


def _assert_strict(response):
    policy = _policy(response)
    for name, sources in EXPECTED.items():
        assert policy[name] == sources, name
    script = policy["script-src"]
    assert "'self'" in script
    # No inline <script>, no eval; the only exception is the hash of one inline handler of django-import-export.
    assert not script & {"'unsafe-inline'", "'unsafe-eval'", "'strict-dynamic'", "*", "data:", "http:", "https:"}
    assert {s for s in script if s.startswith("'sha256-")} == {"'sha256-wid4zL8fR53ZYy1ljOepzR77Dn6vWUUxuNnnWWBP3I8='"}
    # Styles may be inline (plotly.js writes style attributes), but come from nowhere else.
    assert policy["style-src"] == {"'self'", "'unsafe-inline'"}


@pytest.mark.django_db
def test_login_page_has_the_policy(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    _assert_strict(response)


@pytest.mark.django_db
def test_app_pages_have_the_policy(rep_client):
    response = rep_client.get("/partners/")
    assert response.status_code == 200
    _assert_strict(response)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/admin/", "/admin/business/achievement/import/", "/admin/partners/partner/export/"])
def test_admin_pages_have_the_policy(client, url):
    client.force_login(factories.manager_user(username="csp-admin", is_superuser=True))
    response = client.get(url)
    assert response.status_code == 200
    _assert_strict(response)


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
JS_URL = re.compile(r"javascript:", re.IGNORECASE)


def _our_files():
    root = settings.BASE_DIR
    yield from (root / "templates").rglob("*.html")
    yield from (root / "static" / "js").rglob("*.js")


@pytest.mark.parametrize("path", sorted(_our_files()), ids=lambda p: str(p.relative_to(settings.BASE_DIR)))
def test_no_inline_script_handler_or_javascript_url(path):
    text = path.read_text()
    if path.suffix == ".html":
        assert not INLINE_SCRIPT.findall(text), "move inline scripts to static/js/ (the CSP blocks them)"
        assert not INLINE_HANDLER.findall(text), "attach handlers with addEventListener in static/js/"
    assert not JS_URL.findall(text), "javascript: URLs are blocked by the CSP"
