"""Driving the OIDC flow over HTTP: Django's test client for our side, ``requests`` for the provider's form."""

from urllib.parse import parse_qs, urlparse

import requests


def start(client, slug: str = "corp", next_url: str = "") -> str:
    """POST the login page's button; returns the provider's authorization URL we are sent to."""
    response = client.post(f"/accounts/oidc/{slug}/login/", {"next": next_url})
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def authorize(authorization_url: str, sub: str) -> str:
    """Sign in as ``sub`` on the provider's form; returns the callback URL (with code and state) it redirects to."""
    response = requests.post(authorization_url, data={"sub": sub}, allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text[:500]
    return response.headers["Location"]


def callback(client, callback_url: str):
    parsed = urlparse(callback_url)
    return client.get(f"{parsed.path}?{parsed.query}")


def sign_in(client, sub: str, slug: str = "corp", next_url: str = ""):
    return callback(client, authorize(start(client, slug, next_url), sub))


def query(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
