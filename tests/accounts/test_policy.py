"""The admin setting "staff must use SSO": a staff member's correct password is refused with that reason (on our login
page and the admin's), SSO still admits them; superusers and partner users keep their passwords."""

import pytest

from accounts import services
from accounts.forms import SSO_REQUIRED
from accounts.models import AccountPolicy
from portal.models import Membership
from tests import factories
from tests.accounts.conftest import ask_reset
from tests.accounts.flow import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def password_login(client, username, path="/accounts/login/"):
    return client.post(path, {"username": username, "password": PASSWORD})


def test_without_the_setting_staff_use_their_password(client):
    factories.rep_user(username="pat")
    assert password_login(client, "pat").status_code == 302


def test_staff_password_refused_with_the_reason_and_sso_still_works(client, corp, idp):
    services.policy_save(staff_must_use_sso=True)
    rep = factories.rep_user(username="pat", email="pat@example.com")
    response = password_login(client, "pat")
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert SSO_REQUIRED in response.context["form"].non_field_errors()
    assert b"Sign in with Corp ID" in response.content
    idp.set_user("sub-pat", email="pat@example.com", email_verified=True)
    assert sign_in(client, "sub-pat").status_code == 302 and client.session["_auth_user_id"] == str(rep.pk)


def test_the_admin_login_applies_the_policy_too(client):
    services.policy_save(staff_must_use_sso=True)
    factories.manager_user(username="boss")
    response = password_login(client, "boss", "/admin/login/?next=/admin/")
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert SSO_REQUIRED in response.context["form"].non_field_errors()


def test_superusers_and_partner_users_keep_their_passwords(client):
    services.policy_save(staff_must_use_sso=True)
    factories.UserFactory(username="root", is_superuser=True, is_staff=True)
    assert password_login(client, "root").status_code == 302
    client.logout()
    user = factories.UserFactory(username="nora@acme.example", email="nora@acme.example")
    Membership.objects.create(user=user, partner=factories.PartnerFactory(), role="member")
    assert password_login(client, "nora@acme.example").status_code == 302


def test_a_wrong_password_is_still_just_a_wrong_password(client):
    services.policy_save(staff_must_use_sso=True)
    factories.rep_user(username="pat")
    response = client.post("/accounts/login/", {"username": "pat", "password": "wrong"})
    assert response.status_code == 200 and SSO_REQUIRED not in response.content.decode()


def test_no_reset_email_for_staff_who_must_use_sso(client, smtp_server, reset_worker):
    services.policy_save(staff_must_use_sso=True)
    factories.rep_user(username="pat", email="pat@example.com")
    assert ask_reset(client, "pat@example.com").status_code == 302
    assert smtp_server.messages == []


def test_the_policy_is_one_row_saved_through_the_admin(admin_client):
    response = admin_client.post("/admin/accounts/accountpolicy/add/", {"staff_must_use_sso": "on"})
    assert response.status_code == 302
    assert list(AccountPolicy.objects.values_list("pk", "staff_must_use_sso")) == [(1, True)]
    assert admin_client.get("/admin/accounts/accountpolicy/add/").status_code == 403
