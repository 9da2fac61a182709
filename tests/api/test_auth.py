"""API keys: bearer authentication, scopes, rate limit, problem+json errors (api.authentication, api.permissions,
api.throttling, api.problems)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from api.models import ApiKey, RateWindow
from api.ratelimit import rate_hit
from api.services import hash_secret, key_revoke, key_touch
from tests import factories

pytestmark = pytest.mark.django_db
PARTNERS = "/api/v1/partners/"
PROBLEM = "application/problem+json"
INVALID = "Invalid, expired or revoked API key."


def assert_problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert set(body) >= {"type", "title", "status", "detail"}
    return body


def test_secret_is_shown_once_and_stored_hashed(manager, make_key):
    key, secret = make_key(manager)
    assert secret.startswith(f"prm_{key.prefix}_") and len(key.prefix) == 8
    stored = ApiKey.objects.get(pk=key.pk)
    assert stored.key_hash == hash_secret(secret)
    assert secret not in {stored.key_hash, stored.prefix, stored.name}


def test_valid_key_reads_and_records_last_use(client, manager, make_key, bearer):
    factories.PartnerFactory(assigned_to=manager)
    key, secret = make_key(manager)
    response = client.get(PARTNERS, **bearer(secret))
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1
    key.refresh_from_db()
    assert key.last_used_at is not None


@pytest.mark.parametrize("header", [
    "Bearer prm_abcdefgh_wrong",  # unknown prefix
    "Bearer nonsense",
    "Bearer prm_",
    "Bearer a b",
    "Bearer prm_\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9_x",
])
def test_unknown_or_malformed_keys_are_401(client, header):
    response = client.get(PARTNERS, HTTP_AUTHORIZATION=header)
    body = assert_problem(response, 401)
    assert body["detail"] == INVALID
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_wrong_secret_for_a_known_prefix_is_401(client, manager, make_key):
    key, secret = make_key(manager)
    response = client.get(PARTNERS, HTTP_AUTHORIZATION=f"Bearer prm_{key.prefix}_not-the-secret")
    assert assert_problem(response, 401)["detail"] == INVALID


def test_expired_key_is_401(client, manager, make_key, bearer):
    key, secret = make_key(manager, expires_at=timezone.now() + timedelta(days=1))
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert assert_problem(client.get(PARTNERS, **bearer(secret)), 401)["detail"] == INVALID


def test_revoked_key_is_401(client, manager, make_key, bearer):
    key, secret = make_key(manager)
    assert client.get(PARTNERS, **bearer(secret)).status_code == 200
    key_revoke(key=key, by=manager)
    assert assert_problem(client.get(PARTNERS, **bearer(secret)), 401)["detail"] == INVALID


def test_inactive_owner_is_401(client, manager, make_key, bearer):
    key, secret = make_key(manager)
    manager.is_active = False
    manager.save(update_fields=["is_active"])
    assert assert_problem(client.get(PARTNERS, **bearer(secret)), 401)["detail"] == INVALID


def test_no_credentials_is_401(client):
    assert_problem(client.get(PARTNERS), 401)


def test_only_the_owner_revokes(manager, make_key):
    key, _secret = make_key(manager)
    other = factories.manager_user(username="manager2")
    with pytest.raises(PermissionError):
        key_revoke(key=key, by=other)


def test_last_used_is_written_at_most_once_a_minute(manager, make_key):
    key, _secret = make_key(manager)
    now = timezone.now()
    assert key_touch(key=key, now=now) is True
    stale = ApiKey.objects.get(pk=key.pk)  # another process's copy
    stale.last_used_at = None
    assert key_touch(key=stale, now=now + timedelta(seconds=30)) is False  # the conditional UPDATE matched nothing
    assert ApiKey.objects.get(pk=key.pk).last_used_at == now
    assert key_touch(key=stale, now=now + timedelta(seconds=61)) is True


# --- Scopes ---------------------------------------------------------------------------------------------------------


def test_key_without_the_group_scope_is_403(client, manager, make_key, bearer):
    _key, secret = make_key(manager, scopes=["leads:read"])
    body = assert_problem(client.get(PARTNERS, **bearer(secret)), 403)
    assert "partners:read" in body["detail"]


def test_read_key_cannot_write_403_and_write_key_gets_405_on_read_only_list(client, manager, make_key, bearer):
    """DRF checks permissions before it looks for the method's handler: a read-only key is refused (403, the scope
    partners:write is missing); a key with partners:write reaches the list, whose POST validates the body (400) and
    which has no PUT (405)."""
    _key, read_secret = make_key(manager, scopes=["partners:read"])
    _key, write_secret = make_key(manager, scopes=["partners:read", "partners:write"])
    body = assert_problem(client.post(PARTNERS, {}, content_type="application/json", **bearer(read_secret)), 403)
    assert "partners:write" in body["detail"]
    assert_problem(client.post(PARTNERS, {}, content_type="application/json", **bearer(write_secret)), 400)
    assert_problem(client.put(PARTNERS, {}, content_type="application/json", **bearer(write_secret)), 405)
    for method in (client.put, client.patch, client.delete):
        assert_problem(method(PARTNERS, **bearer(read_secret)), 403)
    # OPTIONS is a read: allowed with the read scope
    assert client.options(PARTNERS, **bearer(read_secret)).status_code == 200


def test_session_user_has_every_scope_and_csrf_on_writes(client, rep):
    client.force_login(rep)
    assert client.get(PARTNERS).status_code == 200
    csrf_client = type(client)(enforce_csrf_checks=True)
    csrf_client.force_login(rep)
    assert_problem(csrf_client.post(PARTNERS, {}, content_type="application/json"), 403)  # CSRF failed


# --- Rate limit -----------------------------------------------------------------------------------------------------


def test_rate_limit_429_with_retry_after(client, manager, make_key, bearer, settings):
    settings.API_RATE_LIMIT = 3
    key, secret = make_key(manager)
    for _ in range(3):
        assert client.get(PARTNERS, **bearer(secret)).status_code == 200
    response = client.get(PARTNERS, **bearer(secret))
    body = assert_problem(response, 429)
    assert 1 <= int(response["Retry-After"]) <= 60
    assert body["title"] == "Too many requests"
    # another key of the same owner has its own count
    _other, other_secret = make_key(manager)
    assert client.get(PARTNERS, **bearer(other_secret)).status_code == 200


def test_rate_windows_count_per_minute_and_prune_old_ones(db):
    start = timezone.now().replace(second=5, microsecond=0)
    assert rate_hit(bucket="key:1", now=start) == (1, 55)
    assert rate_hit(bucket="key:1", now=start + timedelta(seconds=10))[0] == 2
    assert rate_hit(bucket="key:2", now=start)[0] == 1
    assert rate_hit(bucket="key:1", now=start + timedelta(minutes=1))[0] == 1  # a new window
    assert RateWindow.objects.filter(bucket="key:1").count() == 1  # the old one pruned
    assert RateWindow.objects.filter(bucket="key:2").count() == 1


# --- problem+json ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query, field", [
    ("status=weird", "status"),
    ("limit=0", "limit"),
    ("limit=501", "limit"),
    ("limit=abc", "limit"),
    ("tier=-1", "tier"),
    ("tier=99999999999999999999", "tier"),
    ("updated_since=yesterday", "updated_since"),
    ("cursor=garbage", "cursor"),
    ("q=%00", "q"),
    ("q=", "q"),
    ("updated_since=", "updated_since"),
    ("status=", "status"),
])
def test_invalid_parameters_are_400_with_field_paths(client, manager, make_key, bearer, query, field):
    _key, secret = make_key(manager)
    body = assert_problem(client.get(f"{PARTNERS}?{query}", **bearer(secret)), 400)
    assert body["type"].endswith("/validation")
    assert [error["field"] for error in body["errors"]] == [field]
    assert all(error["message"] for error in body["errors"])


def test_nested_error_paths():
    from api.problems import field_errors

    detail = {"a": {"b": [{}, {}, {"c": ["bad"]}]}, "non_field_errors": ["whole"], "rows": {"3": {"value": ["x"]}}}
    assert field_errors(detail) == [
        {"field": "a.b[2].c", "message": "bad"},
        {"field": "", "message": "whole"},
        {"field": "rows[3].value", "message": "x"},
    ]


@pytest.mark.parametrize("path", ["partners/nope/", "partners/1/x", "nothing", "partners/-1/"])
def test_unknown_paths_under_the_api_are_problem_404s(client, manager, make_key, bearer, path):
    _key, secret = make_key(manager)
    assert_problem(client.get(reverse("api:partners").replace("partners/", path), **bearer(secret)), 404)
    assert_problem(client.post(f"/api/v1/{path}", **bearer(secret)), 404)
    assert_problem(client.get(f"/api/v1/{path}"), 401)  # nothing said before authentication


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_rate_window_counts_are_exact_across_connections():
    """Four threads (four database connections, as four web processes would have) hit one bucket: no hit is lost."""
    import threading

    from django.db import connection

    now = timezone.now().replace(second=10)
    counts = []

    def hit():
        try:
            for _ in range(25):
                counts.append(rate_hit(bucket="key:concurrent", now=now)[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=hit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(counts) == list(range(1, 101))
    assert RateWindow.objects.get(bucket="key:concurrent").count == 100
