"""/settings/api-keys/ (api.key_views) and the read-only admin."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from api.models import ApiKey
from api.services import hash_secret
from tests import factories

pytestmark = pytest.mark.django_db
URL = "/settings/api-keys/"


def test_reps_and_anonymous_cannot_reach_it(client, rep):
    assert client.get(URL).status_code == 302  # to the login page
    client.force_login(rep)
    assert client.get(URL).status_code == 404
    assert client.post(URL, {"name": "x", "scopes": ["partners:read"]}).status_code == 404
    assert not ApiKey.objects.exists()


def test_manager_creates_a_key_shown_once(manager_client, manager):
    expires = timezone.localdate() + timedelta(days=30)
    response = manager_client.post(URL, {"name": "BI <export>", "scopes": ["partners:read", "leads:read"],
                                         "expires_on": expires.isoformat()})
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    html = response.content.decode()
    secret = re.search(r'value="(prm_[a-z0-9]{8}_[^"]+)"', html).group(1)
    key = ApiKey.objects.get()
    assert key.owner == manager and key.key_hash == hash_secret(secret)
    assert key.scopes == ["partners:read", "leads:read"]
    assert timezone.localtime(key.expires_at).date() == expires
    assert "BI &lt;export&gt;" in html and "BI <export>" not in html
    # the key works, and the list never shows the secret again
    assert manager_client.get("/api/v1/partners/", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    page = manager_client.get(URL).content.decode()
    assert secret not in page and f"prm_{key.prefix}_" in page


@pytest.mark.parametrize("data, field", [
    ({"name": "", "scopes": ["partners:read"]}, "name"),
    ({"name": "x", "scopes": []}, "scopes"),
    ({"name": "x", "scopes": ["root:write"]}, "scopes"),
    ({"name": "x", "scopes": ["partners:read"], "expires_on": "2001-01-01"}, "expires_on"),
    ({"name": "x", "scopes": ["partners:read"], "expires_on": "9999-12-31"}, "expires_on"),
    ({"name": "x" * 101, "scopes": ["partners:read"]}, "name"),
])
def test_invalid_forms_are_refused_with_field_errors(manager_client, data, field):
    response = manager_client.post(URL, data)
    assert response.status_code == 400
    assert response.context["form"].errors.get(field)
    assert not ApiKey.objects.exists()


def test_list_and_revoke(manager_client, manager, make_key, django_assert_num_queries):
    for number in range(5):
        make_key(manager, name=f"key {number}")
    other_manager = factories.manager_user(username="manager2")
    theirs, _ = make_key(other_manager, name="not mine")
    # 1. the session, 2. the user, 3. may they see every partner (managers only), 4. their keys
    with django_assert_num_queries(4):
        page = manager_client.get(URL).content.decode()
    assert page.count("key ") >= 5 and "not mine" not in page
    key = ApiKey.objects.filter(owner=manager).first()
    assert manager_client.post(reverse("api_key_revoke", args=[key.pk])).status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    # someone else's key: 404 on every verb, untouched
    assert manager_client.post(reverse("api_key_revoke", args=[theirs.pk])).status_code == 404
    assert manager_client.get(reverse("api_key_revoke", args=[theirs.pk])).status_code == 405
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_admin_is_read_only(client, make_key):
    admin = factories.UserFactory(username="admin", is_staff=True, is_superuser=True)
    key, _ = make_key(admin)
    client.force_login(admin)
    assert client.get("/admin/api/apikey/").status_code == 200
    assert client.get(f"/admin/api/apikey/{key.pk}/change/").status_code == 200
    assert client.get("/admin/api/apikey/add/").status_code == 403
    assert client.post(f"/admin/api/apikey/{key.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ApiKey.objects.filter(pk=key.pk).exists()
