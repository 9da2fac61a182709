"""The authenticator app (TOTP, RFC 6238) as a second factor: set up with a QR code and a first code, asked after the
password or SSO, each code good once, five wrong codes start the sign-in again; the admin's "staff must use an
authenticator app" sends staff without one to set it up and keeps them there. Codes are computed here independently
of accounts.totp."""

import base64
import hashlib
import hmac
import struct
import time

import pytest
from django.test import Client

from accounts import crypto, services
from accounts.models import TotpDevice
from portal.models import Membership
from tests import factories
from tests.accounts.flow import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def rfc6238(secret_b32: str, at: float | None = None, digits: int = 6) -> str:
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(base64.b32decode(secret_b32), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return str((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 10 ** digits).zfill(digits)


def test_the_reference_implementation_matches_rfc_6238():
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert rfc6238(secret, at=59, digits=8) == "94287082"  # RFC 6238 appendix B
    from accounts.totp import code_at

    assert code_at(secret, 59 // 30) == "287082"


def enrol(client) -> str:
    page = client.get("/accounts/two-factor/")
    assert page.status_code == 200 and page.context["qr"].startswith("data:image/svg+xml;base64,")
    secret, pending = page.context["secret"], page.context["pending"]
    wrong = "000000" if rfc6238(secret) != "000000" else "111111"
    assert client.post("/accounts/two-factor/", {"code": wrong, "pending": pending}).status_code == 400
    forged = client.post("/accounts/two-factor/", {"code": rfc6238(secret), "pending": pending[:-2] + "xx"})
    assert forged.status_code == 400 and b"too old" in forged.content
    response = client.post("/accounts/two-factor/", {"code": rfc6238(secret), "pending": pending})
    assert response.status_code == 302
    return secret


def password_login(client, username, next_url=""):
    return client.post("/accounts/login/", {"username": username, "password": PASSWORD, "next": next_url})


def test_set_up_then_every_sign_in_asks_for_a_code_that_works_once(client):
    rep = factories.rep_user(username="pat")
    client.force_login(rep)
    secret = enrol(client)
    device = TotpDevice.objects.get(user=rep)
    assert device.secret_encrypted != secret and crypto.decrypt(device.secret_encrypted) == secret
    client.logout()

    response = password_login(client, "pat", next_url="/partners/")
    assert response["Location"] == "/accounts/login/code/" and "_auth_user_id" not in client.session
    wrong = client.post("/accounts/login/code/", {"code": "12345"})
    assert wrong.status_code == 400 and b"That code is not right" in wrong.content
    # the set-up used this time step's code: a code works once, so the next step's (inside the drift window)
    code = rfc6238(secret, at=time.time() + 30)
    response = client.post("/accounts/login/code/", {"code": code})
    assert response["Location"] == "/partners/" and client.session["_auth_user_id"] == str(rep.pk)

    # the same code again, in another browser: refused (used once)
    other = Client()
    assert password_login(other, "pat")["Location"] == "/accounts/login/code/"
    assert other.post("/accounts/login/code/", {"code": code}).status_code == 400
    assert "_auth_user_id" not in other.session


def test_five_wrong_codes_start_again_and_a_stale_step_is_gone(client):
    rep = factories.rep_user(username="pat")
    client.force_login(rep)
    enrol(client)
    client.logout()
    password_login(client, "pat")
    for _ in range(4):
        assert client.post("/accounts/login/code/", {"code": "abc"}).status_code == 400
    # the fifth: the pending sign-in is dropped, and (LOGIN_FAILURE_LIMIT = 5) django-axes locks the username
    fifth = client.post("/accounts/login/code/", {"code": "abc"})
    assert fifth.status_code == 429 or fifth["Location"] == "/accounts/login/"
    assert client.get("/accounts/login/code/")["Location"] == "/accounts/login/"


def test_sso_asks_for_the_code_too(client, corp, idp):
    rep = factories.rep_user(username="pat", email="pat@example.com")
    client.force_login(rep)
    secret = enrol(client)
    client.logout()
    idp.set_user("sub-pat", email="pat@example.com", email_verified=True)
    response = sign_in(client, "sub-pat")
    assert response["Location"] == "/accounts/login/code/" and "_auth_user_id" not in client.session
    response = client.post("/accounts/login/code/", {"code": rfc6238(secret, at=time.time() + 30)})
    assert response["Location"] == "/today/" and client.session["_auth_user_id"] == str(rep.pk)


def test_the_policy_sends_staff_to_set_up_an_app_and_keeps_them_there(client):
    services.policy_save(staff_must_use_sso=False, staff_totp_required=True)
    rep = factories.rep_user(username="pat")
    response = password_login(client, "pat")
    assert response["Location"] == "/accounts/two-factor/" and client.session["_auth_user_id"] == str(rep.pk)
    assert client.get("/today/")["Location"] == "/accounts/two-factor/"
    assert client.get("/partners/")["Location"] == "/accounts/two-factor/"
    page = client.get("/accounts/two-factor/")
    assert b"Your organisation requires an authenticator app" in page.content
    secret = enrol(client)
    assert client.get("/today/").status_code == 200
    # next sign-in: the code, then straight in (not sent to the set-up page again)
    client.logout()
    assert password_login(client, "pat")["Location"] == "/accounts/login/code/"
    assert client.post("/accounts/login/code/", {"code": rfc6238(secret, at=time.time() + 30)})["Location"] == "/today/"
    assert client.get("/today/").status_code == 200
    # required: it cannot be turned off
    client.post("/accounts/two-factor/", {"action": "disable"})
    assert TotpDevice.objects.filter(user=rep).exists()


def test_partner_users_are_not_held_by_the_staff_policy(client):
    services.policy_save(staff_must_use_sso=False, staff_totp_required=True)
    user = factories.UserFactory(username="nora@acme.example", email="nora@acme.example")
    Membership.objects.create(user=user, partner=factories.PartnerFactory(), role="member")
    assert password_login(client, "nora@acme.example")["Location"] == "/today/"


def test_turning_it_off_when_not_required(client):
    rep = factories.rep_user(username="pat")
    client.force_login(rep)
    enrol(client)
    client.post("/accounts/two-factor/", {"action": "disable"})
    assert not TotpDevice.objects.filter(user=rep).exists()
    client.logout()
    assert password_login(client, "pat")["Location"] == "/today/"


def test_wrong_codes_count_as_failed_logins_for_the_lockout(client, settings):
    rep = factories.rep_user(username="pat")
    client.force_login(rep)
    enrol(client)
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT):  # the password is known, the codes are guessed
        if password_login(client, "pat").status_code == 429:
            break
        client.post("/accounts/login/code/", {"code": "000000"})
    assert password_login(Client(REMOTE_ADDR="10.9.9.9"), "pat").status_code == 429  # the username is locked
