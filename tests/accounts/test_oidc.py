"""Staff single sign-on over HTTP against the real provider (tests/accounts/idp.py): authorization code + PKCE, the ID
token checked (signature, issuer, audience, expiry, nonce), state used once, codes used once; matching by verified
email, just-in-time creation by the IdP's policy, the role from the groups claim; every refusal a clear page with
nothing written."""

import time

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from accounts.models import SsoIdentity, UserSession
from partners.roles import MANAGER, SALES_REP
from tests import factories
from tests.accounts.conftest import CLIENT_ID, make_provider
from tests.accounts.flow import authorize, callback, query, sign_in, start

User = get_user_model()
pytestmark = pytest.mark.django_db


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_login_page_offers_the_enabled_providers(client, corp, idp):
    make_provider(idp, slug="off", name="Old IdP", enabled=False)
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert b"Sign in with Corp ID" in page.content
    assert b"/accounts/oidc/corp/login/" in page.content
    assert b"Old IdP" not in page.content


def test_the_login_page_costs_one_query_whatever_the_number_of_providers(client, idp, django_assert_num_queries):
    for i in range(6):
        make_provider(idp, slug=f"idp{i}", name=f"IdP {i}")
    with django_assert_num_queries(1):  # the enabled providers, for the buttons (an anonymous GET has no session)
        page = client.get("/accounts/login/")
    assert page.content.count(b"data-sso=") == 6
    # the page's CSP lets its forms be redirected to the providers' origins (form-action)
    assert idp.url in page["Content-Security-Policy"].split("form-action")[1].split(";")[0]


def test_existing_staff_user_signs_in_by_verified_email_with_pkce_and_nonce(client, corp, idp):
    rep = factories.rep_user(username="asha", email="Asha@Example.com")
    idp.set_user("sub-asha", email="asha@example.com", email_verified=True)
    authorization_url = start(client, next_url="/partners/")
    params = query(authorization_url)
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) >= 43
    assert params["nonce"] and params["state"] and params["client_id"] == CLIENT_ID
    response = callback(client, authorize(authorization_url, "sub-asha"))
    assert response.status_code == 302 and response["Location"] == "/partners/"
    assert client.session["_auth_user_id"] == str(rep.pk)
    assert idp.token_requests[-1]["code_verifier"]  # the verifier went to the token endpoint
    link = SsoIdentity.objects.get()
    assert (link.user_id, link.subject) == (rep.pk, "sub-asha")
    assert UserSession.objects.get(user=rep).method == "Corp ID"
    # next time the link matches even if the address changed at the IdP
    client.logout()
    idp.set_user("sub-asha", email="asha.new@example.com", email_verified=True)
    assert sign_in(client, "sub-asha").status_code == 302
    assert client.session["_auth_user_id"] == str(rep.pk)


# --- who may sign in ------------------------------------------------------------------------------------------------


def test_unknown_address_without_jit_gets_ask_your_administrator_and_nothing_is_created(client, corp, idp):
    idp.set_user("sub-new", email="new.person@example.com", email_verified=True, groups=["prm-managers"])
    users = User.objects.count()
    response = sign_in(client, "sub-new")
    assert response.status_code == 403
    assert b"There is no account for new.person@example.com here" in response.content
    assert b"Ask your administrator" in response.content
    assert not signed_in(client)
    assert User.objects.count() == users and not SsoIdentity.objects.exists()


def test_jit_creates_a_manager_from_the_groups_claim(client, idp):
    make_provider(idp, jit_enabled=True)
    idp.set_user("sub-mia", email="Mia@Example.com", email_verified=True, given_name="Mia", family_name="Wong",
                 groups=["everyone", "prm-managers"])
    response = sign_in(client, "sub-mia")
    assert response.status_code == 302 and response["Location"] == "/today/"
    user = User.objects.get(email="mia@example.com")
    assert (user.username, user.first_name, user.last_name) == ("mia@example.com", "Mia", "Wong")
    assert list(user.groups.values_list("name", flat=True)) == [MANAGER]
    assert user.is_staff and not user.has_usable_password()
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.session["prm_sees_all"] is True  # dashboard.apps read the role at login: a manager's pages


def test_jit_without_a_matching_group_takes_the_default_role(client, idp):
    make_provider(idp, jit_enabled=True, default_role="rep")
    idp.set_user("sub-raj", email="raj@example.com", email_verified=True, groups=["somebody-else"])
    assert sign_in(client, "sub-raj").status_code == 302
    user = User.objects.get(email="raj@example.com")
    assert list(user.groups.values_list("name", flat=True)) == [SALES_REP] and not user.is_staff
    assert Group.objects.get(name=SALES_REP).user_set.filter(pk=user.pk).exists()


@pytest.mark.parametrize("verified", [False, "false", None])
def test_an_unverified_email_is_refused_even_when_it_matches_an_account(client, idp, verified):
    make_provider(idp, jit_enabled=True)
    victim = factories.manager_user(username="boss", email="boss@example.com")
    claims = {"email": "boss@example.com"} | ({} if verified is None else {"email_verified": verified})
    idp.set_user("sub-attacker", **claims)
    response = sign_in(client, "sub-attacker")
    assert response.status_code == 403 and b"is not verified" in response.content
    assert not signed_in(client)
    assert not SsoIdentity.objects.exists() and User.objects.filter(email__iexact="boss@example.com").count() == 1
    assert victim.sso_identities.count() == 0


def test_a_deactivated_user_is_refused(client, corp, idp):
    factories.rep_user(username="gone", email="gone@example.com", is_active=False)
    idp.set_user("sub-gone", email="gone@example.com", email_verified=True)
    response = sign_in(client, "sub-gone")
    assert response.status_code == 403 and b"deactivated" in response.content
    assert not signed_in(client) and not SsoIdentity.objects.exists()


def test_a_partner_user_cannot_use_the_staff_identity_provider(client, corp, idp):
    partner = factories.PartnerFactory()
    from portal.models import Membership

    user = factories.UserFactory(username="nora@acme.example", email="nora@acme.example")
    Membership.objects.create(user=user, partner=partner, role="member")
    idp.set_user("sub-nora", email="nora@acme.example", email_verified=True)
    response = sign_in(client, "sub-nora")
    assert response.status_code == 403 and b"This sign-in is for staff" in response.content
    assert not signed_in(client) and not SsoIdentity.objects.exists()


def test_the_identity_provider_refusing_the_person_is_a_clear_page(client, corp, idp):
    authorization_url = start(client)
    response = requests.post(authorization_url, data={"action": "deny"}, allow_redirects=False, timeout=5)
    assert response.status_code == 302
    # The mock leaves ``state`` out of its error redirect; a real IdP echoes it (RFC 6749 4.1.2.1), as we do here.
    page = callback(client, response.headers["Location"] + "&state=" + query(authorization_url)["state"])
    assert page.status_code == 403 and b"Corp ID did not sign you in" in page.content
    assert not signed_in(client)


def test_next_never_leaves_the_site(client, corp, idp):
    factories.rep_user(username="asha", email="asha@example.com")
    idp.set_user("sub-asha", email="asha@example.com", email_verified=True)
    response = sign_in(client, "sub-asha", next_url="https://evil.example/steal")
    assert response.status_code == 302 and response["Location"] == "/today/"


def test_starting_needs_a_post_and_a_known_enabled_provider(client, corp, idp):
    assert client.get("/accounts/oidc/corp/login/")["Location"] == "/accounts/login/"
    assert client.post("/accounts/oidc/nope/login/").status_code == 404
    make_provider(idp, slug="off", name="Off", enabled=False)
    assert client.post("/accounts/oidc/off/login/").status_code == 404


# --- the protocol's checks --------------------------------------------------------------------------------------------


def _now() -> int:
    return int(time.time())


TAMPERING = {
    "claims changed, signature kept": lambda idp, token: idp.with_claims_unsigned(token, email="boss@example.com"),
    "wrong audience": lambda idp, token: idp.sign({**idp.claims_of(token), "aud": "another-client"}),
    "several audiences without azp": lambda idp, token: idp.sign({**idp.claims_of(token), "aud": [CLIENT_ID, "x"]}),
    "expired": lambda idp, token: idp.sign({**idp.claims_of(token), "exp": _now() - 600, "iat": _now() - 4000}),
    "nonce mismatch": lambda idp, token: idp.sign({**idp.claims_of(token), "nonce": "not-the-one-we-sent"}),
    "no nonce": lambda idp, token: idp.sign({k: v for k, v in idp.claims_of(token).items() if k != "nonce"}),
    "wrong issuer": lambda idp, token: idp.sign({**idp.claims_of(token), "iss": "https://evil.example"}),
    "HS256 with the public key": lambda idp, token: idp.hs256_with_public_key(token),
    "signed by another key": lambda idp, token: idp.signed_by_another_key(token),
    "not a JWT": lambda idp, token: "garbage",
}


@pytest.mark.parametrize("how", list(TAMPERING))
def test_a_bad_id_token_is_rejected(client, corp, idp, how):
    factories.manager_user(username="boss", email="boss@example.com")
    factories.rep_user(username="asha", email="asha@example.com")
    idp.set_user("sub-asha", email="asha@example.com", email_verified=True)
    idp.tamper = TAMPERING[how]
    response = sign_in(client, "sub-asha")
    assert response.status_code == 400, how
    assert b"could not be verified" in response.content
    assert not signed_in(client) and not SsoIdentity.objects.exists()


def test_state_mismatch_is_rejected(client, corp, idp):
    factories.rep_user(username="asha", email="asha@example.com")
    idp.set_user("sub-asha", email="asha@example.com", email_verified=True)
    url = authorize(start(client), "sub-asha")
    forged = url.replace(f"state={query(url)['state']}", "state=forged-state")
    response = callback(client, forged)
    assert response.status_code == 400 and b"This sign-in has expired" in response.content
    assert not signed_in(client)


def test_a_callback_in_another_browser_is_rejected(client, corp, idp):
    from django.test import Client

    factories.rep_user(username="asha", email="asha@example.com")
    idp.set_user("sub-asha", email="asha@example.com", email_verified=True)
    url = authorize(start(client), "sub-asha")  # the victim's login, whose callback an attacker makes them open
    other = Client()
    response = callback(other, url)
    assert response.status_code == 400 and not signed_in(other)


def test_a_replayed_callback_and_a_replayed_code_are_rejected(client, corp, idp):
    factories.rep_user(username="asha", email="asha@example.com")
    idp.set_user("sub-asha", email="asha@example.com", email_verified=True)
    url = authorize(start(client), "sub-asha")
    assert callback(client, url).status_code == 302
    client.logout()
    # the same callback again: its state was used up
    again = callback(client, url)
    assert again.status_code == 400 and not signed_in(client)
    # the old code with a fresh state: the provider refuses a code used once
    fresh_state = query(start(client))["state"]
    replay = url.replace(f"state={query(url)['state']}", f"state={fresh_state}")
    response = callback(client, replay)
    assert response.status_code == 400 and b"could not be verified" in response.content
    assert not signed_in(client)


def test_the_test_provider_itself_insists_on_pkce(idp):
    response = requests.get(f"{idp.url}/oauth2/authorize", params={
        "client_id": CLIENT_ID, "redirect_uri": "http://testserver/cb", "response_type": "code", "scope": "openid",
        "state": "s", "nonce": "n"}, allow_redirects=False, timeout=5)
    assert response.status_code in (302, 400)
    assert "PKCE" in response.text or "PKCE" in response.headers.get("Location", "")


# --- an identity provider that is down ------------------------------------------------------------------------------


def test_identity_provider_down_is_a_clear_message_and_passwords_still_work(client, db):
    from tests.smtp import free_port

    make_provider(type("Down", (), {"url": f"http://127.0.0.1:{free_port()}"})(), slug="down", name="Down ID")
    response = client.post("/accounts/oidc/down/login/")
    assert response.status_code == 502
    assert b"Down ID is not answering" in response.content and b"log in with it below" in response.content
    rep = factories.rep_user(username="pat")
    response = client.post("/accounts/login/", {"username": "pat", "password": factories.PASSWORD})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(rep.pk)


def test_a_bare_or_unknown_callback_is_a_clear_answer(client, corp):
    response = client.get("/accounts/oidc/corp/login/callback/")
    assert response.status_code == 400 and b"This sign-in has expired" in response.content
    assert client.get("/accounts/oidc/nope/login/callback/?code=x&state=y").status_code == 404


def test_a_provider_whose_discovery_names_another_issuer_is_refused(client, corp, idp):
    idp.discovery_changes = {"issuer": "https://evil.example"}  # tokens "from" there would pass the iss check
    factories.rep_user(username="asha", email="asha@example.com")
    idp.set_user("sub-asha", email="asha@example.com", email_verified=True)
    response = sign_in(client, "sub-asha")
    assert response.status_code == 400 and not signed_in(client)


def test_an_issuer_typed_with_a_trailing_slash_works(client, idp):
    make_provider(idp, issuer=idp.url + "/")
    factories.rep_user(username="asha", email="asha@example.com")
    idp.set_user("sub-asha", email="asha@example.com", email_verified=True)
    assert sign_in(client, "sub-asha").status_code == 302 and signed_in(client)


def test_the_provider_failing_in_the_middle_is_a_clear_message_with_nothing_created(client, idp):
    from tests.smtp import free_port

    make_provider(idp, jit_enabled=True)
    idp.set_user("sub-new", email="new@example.com", email_verified=True)
    url = authorize(start(client), "sub-new")
    idp.discovery_changes = {"token_endpoint": f"http://127.0.0.1:{free_port()}/token"}  # nothing listens there
    users = User.objects.count()
    response = callback(client, url)
    assert response.status_code == 502 and b"Corp ID is not answering" in response.content
    assert User.objects.count() == users and not SsoIdentity.objects.exists() and not signed_in(client)
