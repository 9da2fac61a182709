"""Deactivating a user (accounts.services.user_deactivate, the admin's "Active" box and its action) ends every session
of theirs, revokes their API keys and their calendar feed token — in a constant number of statements — and their next
sign-in, password or SSO, is refused."""

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts import services
from accounts.models import UserSession
from api.models import ApiKey
from api.services import key_create
from notifications.preferences import calendar_token_create
from tests import factories
from tests.accounts.flow import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def logged_in_clients(user, n):
    clients = []
    for _ in range(n):
        c = Client()
        assert c.post("/accounts/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
        clients.append(c)
    return clients


def test_deactivation_ends_sessions_and_revokes_keys_and_the_feed():
    rep = factories.rep_user(username="pat", email="pat@example.com")
    other = factories.rep_user(username="sam")
    clients = logged_in_clients(rep, 3)
    others_client = logged_in_clients(other, 1)[0]
    keys = [key_create(owner=rep, name=f"k{i}", scopes=["partners:read"]) for i in range(4)]
    other_key, _ = key_create(owner=other, name="theirs", scopes=["partners:read"])
    token = calendar_token_create(user=rep)
    assert Client().get(f"/calendar/{token}.ics").status_code == 200
    assert Client().get("/api/v1/partners/", HTTP_AUTHORIZATION=f"Bearer {keys[0][1]}").status_code == 200

    with CaptureQueriesContext(connection) as queries:
        result = services.user_deactivate(user=rep)
    statements = [" ".join(q["sql"].split()[:3]).replace(" FROM", "").replace(" SET", "")
                  for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    # whatever the number of sessions and keys, five statements (the savepoints are the nested atomic blocks'):
    assert statements == [
        'UPDATE "auth_user"',  # is_active off
        'DELETE "django_session"',  # the sessions, WHERE session_key IN (the user's tracked keys)
        'DELETE "accounts_usersession"',  # our records of them
        'UPDATE "api_apikey"',  # every live key revoked
        'UPDATE "notifications_preference"',  # the calendar feed token
    ]
    assert (result.sessions, result.api_keys) == (3, 4)

    rep.refresh_from_db()
    assert not rep.is_active
    assert not UserSession.objects.filter(user=rep).exists()
    for c in clients:
        assert c.get("/today/")["Location"].startswith("/accounts/login/")
    assert others_client.get("/today/").status_code == 200  # nobody else's session ended
    assert ApiKey.objects.filter(owner=rep, revoked_at__isnull=True).count() == 0
    assert ApiKey.objects.get(pk=other_key.pk).revoked_at is None
    assert Client().get("/api/v1/partners/", HTTP_AUTHORIZATION=f"Bearer {keys[0][1]}").status_code == 401
    assert Client().get(f"/calendar/{token}.ics").status_code == 404
    assert Session.objects.count() == 1  # the other user's
    # and the password no longer opens anything
    assert Client().post("/accounts/login/", {"username": "pat", "password": PASSWORD}).status_code == 200


def test_deactivating_twice_is_harmless_and_keeps_the_first_revocation_time():
    rep = factories.rep_user(username="pat")
    key, _ = key_create(owner=rep, name="k", scopes=["partners:read"])
    services.user_deactivate(user=rep)
    first = ApiKey.objects.get(pk=key.pk).revoked_at
    assert services.user_deactivate(user=rep).api_keys == 0
    assert ApiKey.objects.get(pk=key.pk).revoked_at == first


def test_nobody_deactivates_themselves():
    manager = factories.manager_user(username="boss")
    with pytest.raises(ValidationError):
        services.user_deactivate(user=manager, by=manager)


def test_unticking_active_in_the_admin_deactivates_through_the_service(admin_client):
    rep = factories.rep_user(username="pat", first_name="Pat")
    c = logged_in_clients(rep, 1)[0]
    key, _ = key_create(owner=rep, name="k", scopes=["partners:read"])
    form = admin_client.get(f"/admin/auth/user/{rep.pk}/change/").context["adminform"].form
    data = {"username": rep.username, "first_name": rep.first_name, "last_name": rep.last_name, "email": rep.email,
            "is_staff": "", "groups": [g.pk for g in rep.groups.all()], "user_permissions": [],
            "date_joined_0": form["date_joined"].value().strftime("%Y-%m-%d"),
            "date_joined_1": form["date_joined"].value().strftime("%H:%M:%S"), "last_login_0": "", "last_login_1": ""}
    data = {k: v for k, v in data.items() if v != ""}  # an unticked box is absent: is_active off
    response = admin_client.post(f"/admin/auth/user/{rep.pk}/change/", data)
    assert response.status_code == 302
    rep.refresh_from_db()
    assert not rep.is_active
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert c.get("/today/")["Location"].startswith("/accounts/login/")


def test_the_admin_action_deactivates(admin_client):
    reps = [factories.rep_user(username=f"r{i}") for i in range(3)]
    keys = [key_create(owner=r, name="k", scopes=["partners:read"])[0] for r in reps]
    response = admin_client.post("/admin/auth/user/", {"action": "deactivate_users",
                                                       "_selected_action": [r.pk for r in reps[:2]]})
    assert response.status_code == 302
    assert [ApiKey.objects.get(pk=k.pk).revoked_at is not None for k in keys] == [True, True, False]


def test_a_user_deactivated_in_the_app_is_refused_at_their_next_sso_sign_in(client, corp, idp):
    rep = factories.rep_user(username="pat", email="pat@example.com")
    idp.set_user("sub-pat", email="pat@example.com", email_verified=True)
    assert sign_in(client, "sub-pat").status_code == 302
    services.user_deactivate(user=rep)
    assert client.get("/today/")["Location"].startswith("/accounts/login/")
    response = sign_in(client, "sub-pat")
    assert response.status_code == 403 and b"deactivated" in response.content
