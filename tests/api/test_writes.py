"""api.writes: Idempotency-Key replays (also under concurrency), If-Match / ETag, the purge. Driven through test
endpoints (tests/api/write_urls.py) that write partners with the real partners.services."""

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone

from api.models import IdempotencyRecord
from api.services import idempotency_claim, idempotency_purge, idempotency_store
from partners.models import Partner
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.api.write_urls")]
URL = "/api/v1/test-partners/"


@pytest.fixture
def writer(manager, make_key, bearer):
    _key, secret = make_key(manager, scopes=["partners:read", "partners:write"])
    return bearer(secret)


def post(client, headers, body, key=None, **extra):
    if key is not None:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(URL, body, content_type="application/json", **headers, **extra)


def test_without_a_key_each_post_writes(client, writer):
    assert post(client, writer, {"name": "Acme", "code": "A1"}).status_code == 201
    assert post(client, writer, {"name": "Acme", "code": "A2"}).status_code == 201
    assert Partner.objects.filter(name="Acme").count() == 2
    assert not IdempotencyRecord.objects.exists()


def test_a_retry_with_the_same_key_replays_the_first_answer(client, writer):
    first = post(client, writer, {"name": "Acme", "code": "A1"}, key="k-1")
    again = post(client, writer, {"name": "Acme", "code": "A1"}, key="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert Partner.objects.filter(code="A1").count() == 1


def test_the_same_key_with_another_body_is_a_422(client, writer):
    post(client, writer, {"name": "Acme", "code": "A1"}, key="k-1")
    response = post(client, writer, {"name": "Other", "code": "B1"}, key="k-1")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert "different request" in response.json()["detail"]
    assert not Partner.objects.filter(code="B1").exists()


def test_keys_are_per_caller(client, writer, other_rep, make_key, bearer):
    _key, secret = make_key(other_rep, scopes=["partners:read", "partners:write"])
    post(client, writer, {"name": "Acme", "code": "A1"}, key="shared")
    response = post(client, bearer(secret), {"name": "Other", "code": "B1"}, key="shared")
    assert response.status_code == 201
    assert Partner.objects.filter(code__in=["A1", "B1"]).count() == 2


def test_a_validation_error_is_stored_and_replayed_and_writes_nothing(client, writer):
    first = post(client, writer, {"name": "", "code": "A1"}, key="k-bad")
    assert first.status_code == 400
    assert any(error["field"] == "name" for error in first.json()["errors"])
    assert IdempotencyRecord.objects.get(key="k-bad").status_code == 400
    again = post(client, writer, {"name": "", "code": "A1"}, key="k-bad")
    assert again.status_code == 400 and again.json() == first.json()
    assert again["Content-Type"] == "application/problem+json"
    assert not Partner.objects.filter(code="A1").exists()


def test_an_answer_echoing_a_nul_or_a_lone_surrogate_can_be_stored(manager):
    """jsonb refuses U+0000 and lone surrogates; an error answer may echo them from the request."""
    record = idempotency_claim(bucket=f"user:{manager.pk}", key="k-nul", request_hash="0" * 64)
    idempotency_store(record=record, status_code=400, headers={},
                      body={"errors": [{"field": "x\u0000", "message": '"\u0000\ud800" is not a valid choice.'}]})
    stored = IdempotencyRecord.objects.get(pk=record.pk).response_body
    assert stored == {"errors": [{"field": "x\ufffd", "message": '"\ufffd\ufffd" is not a valid choice.'}]}


@pytest.mark.parametrize("key", ["", " ", "x" * 256, "naïve"])
def test_a_malformed_key_is_a_400_naming_the_header(client, writer, key):
    response = post(client, writer, {"name": "Acme", "code": "A1"}, key=key)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert not Partner.objects.exists()


def test_an_expired_record_is_taken_over(client, writer):
    post(client, writer, {"name": "Acme", "code": "A1"}, key="k-old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    response = post(client, writer, {"name": "Newer", "code": "A2"}, key="k-old")
    assert response.status_code == 201 and not response.has_header("Idempotent-Replayed")
    assert Partner.objects.filter(code="A2").exists()


def test_purge_deletes_records_older_than_a_day(client, writer):
    post(client, writer, {"name": "Acme", "code": "A1"}, key="k-1")
    post(client, writer, {"name": "Acme", "code": "A2"}, key="k-2")
    IdempotencyRecord.objects.filter(key="k-1").update(created_at=timezone.now() - timedelta(hours=25))
    assert idempotency_purge() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["k-2"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_key_sent_twice_at_once_writes_one_row(manager, make_key, bearer):
    """Two requests in two threads (two connections): the second waits on the first's uncommitted claim, then
    replays its answer."""
    _key, secret = make_key(manager, scopes=["partners:read", "partners:write"])
    headers = bearer(secret)
    answers = []

    def send(sleep):
        try:
            answers.append(post(Client(), headers, {"name": "Acme", "code": "C1"}, key="k-race",
                                HTTP_X_TEST_SLEEP=str(sleep)))
        finally:
            connections.close_all()

    first = threading.Thread(target=send, args=(0.5,))
    first.start()
    threading.Event().wait(0.2)
    second = threading.Thread(target=send, args=(0,))
    second.start()
    first.join()
    second.join()
    assert [answer.status_code for answer in answers] == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert sorted(answer.has_header("Idempotent-Replayed") for answer in answers) == [False, True]
    assert Partner.objects.filter(code="C1").count() == 1


def test_etag_and_if_none_match(client, writer, manager):
    partner = factories.PartnerFactory(assigned_to=manager)
    url = f"{URL}{partner.pk}/"
    first = client.get(url, **writer)
    assert first.status_code == 200 and first["ETag"].startswith('"')
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"], **writer).status_code == 304
    assert client.get(url, HTTP_IF_NONE_MATCH='"other"', **writer).status_code == 200


def test_if_match_guards_updates(client, writer, manager):
    partner = factories.PartnerFactory(assigned_to=manager, name="Old")
    url = f"{URL}{partner.pk}/"
    tag = client.get(url, **writer)["ETag"]
    changed = client.patch(url, {"name": "New"}, content_type="application/json", HTTP_IF_MATCH=tag, **writer)
    assert changed.status_code == 200 and changed["ETag"] != tag
    stale = client.patch(url, {"name": "Stale"}, content_type="application/json", HTTP_IF_MATCH=tag, **writer)
    assert stale.status_code == 412
    assert stale["Content-Type"] == "application/problem+json"
    partner.refresh_from_db()
    assert partner.name == "New"
    star = client.patch(url, {"name": "Any"}, content_type="application/json", HTTP_IF_MATCH="*", **writer)
    assert star.status_code == 200
    bare = client.patch(url, {"name": "Bare"}, content_type="application/json", **writer)
    assert bare.status_code == 200


def test_updates_of_records_not_visible_are_404(client, other_rep, make_key, bearer, manager):
    partner = factories.PartnerFactory(assigned_to=manager)
    _key, secret = make_key(other_rep, scopes=["partners:read", "partners:write"])
    response = client.patch(f"{URL}{partner.pk}/", {"name": "X"}, content_type="application/json", **bearer(secret))
    assert response.status_code == 404


def test_the_purge_task_runs_the_service(client, writer):
    from api.tasks import purge_idempotency_records

    post(client, writer, {"name": "Acme", "code": "A1"}, key="k-1")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert purge_idempotency_records.apply().get() == 1
