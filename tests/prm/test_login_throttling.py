"""Login throttling (django-axes, settings "Login throttling"): too many failed logins for a username, or from an IP
address, lock that username / IP out for the cool-off, even with the right password, with a 429 page in our style.

Real database handler, real login views; each test pins the limit and the cool-off so the environment cannot change
what they check.
"""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.factories import PASSWORD

LIMIT = 5
ATTACKER_IP = "203.0.113.7"
OTHER_IP = "198.51.100.20"
MESSAGE = "Too many failed attempts"


@pytest.fixture(autouse=True)
def _throttling(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    settings.AXES_RESET_ON_SUCCESS = False


def _post_login(client, username, password, ip=ATTACKER_IP, url=None):
    return client.post(url or reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def _assert_logged_in(client, response, user):
    assert response.status_code == 302, response.content[:500]
    assert client.session.get("_auth_user_id") == str(user.pk)


def _assert_locked_out(client, response):
    assert response.status_code == 429
    page = response.content.decode()
    assert MESSAGE in page
    assert "try again in 15 minutes" in page
    assert 'href="/static/css/app.css"' in page  # the app's layout, not a bare text response
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_wrong_passwords_lock_the_username_and_then_the_right_password_fails_too(client, rep):
    for _ in range(LIMIT - 1):
        response = _post_login(client, rep.username, "wrong")
        assert response.status_code == 200  # the login form again, with its error
        assert MESSAGE not in response.content.decode()

    _assert_locked_out(client, _post_login(client, rep.username, "wrong"))
    _assert_locked_out(client, _post_login(client, rep.username, PASSWORD))
    # The username is locked from any address, not just the one that failed.
    _assert_locked_out(client, _post_login(client, rep.username, PASSWORD, ip=OTHER_IP))


@pytest.mark.django_db
def test_failures_from_one_ip_lock_out_every_username_from_that_ip(client, rep):
    # An attacker trying one password on many usernames: no single username reaches the limit, the IP does.
    for n in range(LIMIT):
        response = _post_login(client, f"guess{n}", "wrong")
    _assert_locked_out(client, response)

    _assert_locked_out(client, _post_login(client, rep.username, PASSWORD))
    # The same user from another address is not affected: the lock is per username or per IP.
    _assert_logged_in(client, _post_login(client, rep.username, PASSWORD, ip=OTHER_IP), rep)


@pytest.mark.django_db
def test_a_success_does_not_wipe_the_failures_by_default(client, rep, other_rep):
    # With the IP as a lockout parameter a reset on success would also delete the IP's failures for other
    # usernames: an attacker with one valid account could keep guessing other_rep's password this way.
    for _ in range(LIMIT - 1):
        _post_login(client, other_rep.username, "wrong")
    _assert_logged_in(client, _post_login(client, rep.username, PASSWORD), rep)
    client.logout()

    _assert_locked_out(client, _post_login(client, other_rep.username, "wrong"))


@pytest.mark.django_db
def test_a_success_resets_the_count_when_configured(client, settings, rep):
    settings.AXES_RESET_ON_SUCCESS = True
    for _ in range(LIMIT - 1):
        _post_login(client, rep.username, "wrong")
    _assert_logged_in(client, _post_login(client, rep.username, PASSWORD), rep)
    client.logout()

    for _ in range(LIMIT - 1):
        assert _post_login(client, rep.username, "wrong").status_code == 200
    _assert_locked_out(client, _post_login(client, rep.username, "wrong"))


@pytest.mark.django_db
def test_the_lock_ends_after_the_cool_off(client, rep):
    for _ in range(LIMIT):
        response = _post_login(client, rep.username, "wrong")
    _assert_locked_out(client, response)

    # Sixteen minutes later (the failures are axes' own rows; moving them back is the clock moving forward).
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    _assert_logged_in(client, _post_login(client, rep.username, PASSWORD), rep)


@pytest.mark.django_db
def test_the_admin_login_is_throttled_too(client):
    staff = factories.manager_user(username="staff-throttle")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    url = reverse("admin:login")
    for _ in range(LIMIT):
        response = _post_login(client, staff.username, "wrong", url=url)
    _assert_locked_out(client, response)
    _assert_locked_out(client, _post_login(client, staff.username, PASSWORD, url=url))


@pytest.mark.django_db
def test_force_login_and_pages_still_work(client, rep):
    client.force_login(rep)
    assert client.get("/partners/").status_code == 200


@pytest.mark.django_db
def test_an_email_username_signs_in_whatever_its_case_and_its_case_does_not_escape_the_lock(client):
    """Partner users sign in with their email address (stored lower-cased): any case works, and changing the case of
    the address counts against the same lock (prm/auth.py)."""
    user = factories.UserFactory(username="nora@acme.example")
    _assert_logged_in(client, _post_login(client, "Nora@Acme.Example", PASSWORD, ip=OTHER_IP), user)
    client.logout()
    variants = ["NORA@acme.example", "nora@ACME.example", "Nora@acme.example", "nora@acme.EXAMPLE"]
    for username in variants:
        assert _post_login(client, username, "wrong", ip=f"192.0.2.{len(username)}").status_code == 200
    _assert_locked_out(client, _post_login(client, "noRA@acme.example", "wrong", ip="192.0.2.99"))
    _assert_locked_out(client, _post_login(client, "nora@acme.example", PASSWORD, ip="192.0.2.98"))
