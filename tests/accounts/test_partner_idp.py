"""A partner organisation's own identity provider: its people sign in to the portal through it (matched by verified
email, or created just in time as that partner's members, the role from their groups); staff and other partners'
users are refused there; the provider's settings are validated."""

import pytest
from django.core.exceptions import ValidationError

from accounts import services
from accounts.models import IdentityProvider, SsoIdentity
from portal.models import Membership, PortalEvent
from tests import factories
from tests.accounts.conftest import make_provider
from tests.accounts.flow import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme():
    return factories.PartnerFactory(name="Acme Distributors")


def acme_idp(idp, acme, **fields):
    values = {"slug": "acme", "name": "Acme SSO", "audience": IdentityProvider.Audience.PARTNER, "partner": acme,
              "default_role": "member", "group_roles": {"acme-prm-admins": "admin"}}
    return make_provider(idp, **(values | fields))


def member(partner, email, role="member"):
    user = factories.UserFactory(username=email, email=email)
    Membership.objects.create(user=user, partner=partner, role=role)
    return user


def test_a_partner_user_signs_in_to_the_portal(client, idp, acme):
    acme_idp(idp, acme)
    nora = member(acme, "nora@acme.example")
    idp.set_user("acme-nora", email="Nora@Acme.example", email_verified=True)
    response = sign_in(client, "acme-nora", slug="acme")
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(nora.pk)
    assert client.get("/today/")["Location"] == "/portal/"  # the portal boundary treats them as a partner user
    assert client.get("/portal/").status_code == 200


def test_jit_creates_a_member_of_that_partner_with_the_role_from_groups(client, idp, acme):
    acme_idp(idp, acme, jit_enabled=True)
    idp.set_user("acme-ada", email="ada@acme.example", email_verified=True, given_name="Ada",
                 groups=["acme-prm-admins"])
    assert sign_in(client, "acme-ada", slug="acme").status_code == 302
    membership = Membership.objects.select_related("user").get(user__email="ada@acme.example")
    assert (membership.partner_id, membership.role, membership.user.username) == (acme.pk, "admin", "ada@acme.example")
    assert not membership.user.is_staff and not membership.user.has_usable_password()
    assert PortalEvent.objects.filter(partner=acme, kind=PortalEvent.Kind.COLLEAGUE_JOINED).exists()
    assert client.get("/portal/").status_code == 200


def test_jit_off_refuses_an_unknown_person(client, idp, acme):
    acme_idp(idp, acme)
    idp.set_user("acme-new", email="new@acme.example", email_verified=True)
    response = sign_in(client, "acme-new", slug="acme")
    assert response.status_code == 403 and b"Ask your administrator" in response.content
    assert not Membership.objects.exists()


def test_staff_and_other_partners_users_are_refused_on_a_partner_idp(client, idp, acme):
    acme_idp(idp, acme, jit_enabled=True)
    factories.rep_user(username="rep", email="rep@vendor.example")
    member(factories.PartnerFactory(name="Other"), "olga@other.example")
    for sub, email in [("x-rep", "rep@vendor.example"), ("x-olga", "olga@other.example")]:
        idp.set_user(sub, email=email, email_verified=True)
        response = sign_in(client, sub, slug="acme")
        assert response.status_code == 403 and b"This sign-in is for Acme Distributors" in response.content
        assert "_auth_user_id" not in client.session
    assert not SsoIdentity.objects.exists() and Membership.objects.count() == 1


def test_a_deactivated_colleague_is_refused(client, idp, acme):
    acme_idp(idp, acme)
    nora = member(acme, "nora@acme.example")
    Membership.objects.filter(user=nora).update(is_active=False)
    idp.set_user("acme-nora", email="nora@acme.example", email_verified=True)
    assert sign_in(client, "acme-nora", slug="acme").status_code == 403


@pytest.mark.parametrize(("fields", "field"), [
    ({"audience": "partner", "partner": None}, "partner"),
    ({"audience": "staff", "default_role": "admin"}, "default_role"),
    ({"group_roles": {"g": "owner"}}, "group_roles"),
    ({"group_roles": ["not", "a", "map"]}, "group_roles"),
    ({"issuer": "not a url"}, "issuer"),
    ({"slug": "openid_connect"}, "slug"),
])
def test_bad_provider_settings_name_the_field(idp, fields, field):
    values = {"slug": "x", "name": "X", "issuer": idp.url, "client_id": "c", "audience": "staff",
              "default_role": "rep"} | fields
    with pytest.raises(ValidationError) as error:
        services.identity_provider_save(idp=IdentityProvider(**values), client_secret="s")
    assert field in error.value.message_dict
    assert not IdentityProvider.objects.exists()


def test_the_client_secret_is_stored_encrypted(idp):
    provider = make_provider(idp)
    assert provider.client_secret_encrypted and "prm-test-secret" not in provider.client_secret_encrypted


def test_the_admin_form_shows_bad_settings_next_to_the_field(admin_client, idp):
    data = {"name": "Bad", "slug": "bad", "enabled": "on", "issuer": idp.url, "client_id": "c", "client_secret": "s",
            "audience": "partner", "default_role": "rep", "groups_claim": "groups", "group_roles": "{}"}
    response = admin_client.post("/admin/accounts/identityprovider/add/", data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "partner" in errors and "default_role" in errors
    assert not IdentityProvider.objects.exists()
    data.update(audience="staff")
    assert admin_client.post("/admin/accounts/identityprovider/add/", data).status_code == 302
    saved = IdentityProvider.objects.get()
    assert saved.client_secret_encrypted and "s" != saved.client_secret_encrypted
    # editing without typing the secret keeps it
    data.pop("client_secret")
    assert admin_client.post(f"/admin/accounts/identityprovider/{saved.pk}/change/", data).status_code == 302
    assert IdentityProvider.objects.get().client_secret_encrypted == saved.client_secret_encrypted
