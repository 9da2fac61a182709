"""/api/v1/deletions/ (api.deletions → outbox.selectors): tombstones written by the owning services, paged by
(deleted_at, id), scoped by the type's resource group."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from business.services import partner_targets_set
from outbox.models import Tombstone
from outbox.services import tombstones_record
from tests import factories

pytestmark = pytest.mark.django_db
DELETIONS = "/api/v1/deletions/"


def iso(when):
    return when.isoformat().replace("+", "%2B")


@pytest.fixture
def figures_key(rep, make_key, bearer):
    return bearer(make_key(rep, scopes=["figures:read"])[1])


def read_all(client, headers, query, limit=2):
    seen, cursor = [], None
    for _ in range(100):
        url = f"{DELETIONS}?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url, **headers)
        assert response.status_code == 200, response.content
        body = response.json()
        seen += body["results"]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("no end")


def test_a_deleted_target_is_listed(client, rep, figures_key):
    partner = factories.PartnerFactory(assigned_to=rep)
    kept = factories.TargetFactory(partner=partner)
    gone = factories.TargetFactory(partner=partner, period_start=date_before(kept))
    gone_key = (gone.parameter_id, gone.period_start)
    partner_targets_set(partner=partner, values={gone_key: None, (kept.parameter_id, kept.period_start): Decimal(5)},
                        by=rep)
    rows = read_all(client, figures_key, "&type=target")
    assert [(row["type"], row["id"]) for row in rows] == [("target", gone.pk)]
    assert rows[0]["deleted_at"]


def test_a_rolled_back_delete_leaves_no_tombstone(rep):
    partner = factories.PartnerFactory(assigned_to=rep)
    target = factories.TargetFactory(partner=partner)
    with pytest.raises(RuntimeError), transaction.atomic():
        partner_targets_set(partner=partner, values={(target.parameter_id, target.period_start): None}, by=rep)
        assert Tombstone.objects.count() == 1
        raise RuntimeError("the caller's transaction fails later")
    assert not Tombstone.objects.exists()
    target.refresh_from_db()


def date_before(target):
    return (target.period_start - timedelta(days=1)).replace(day=1)


def test_pages_by_deleted_at_then_id_and_since(client, figures_key):
    now = timezone.now()
    tombstones_record(subject_type="target", subject_ids=[10, 11, 12, 13, 14])
    tombstones_record(subject_type="achievement", subject_ids=[99])
    Tombstone.objects.filter(subject_id__in=[10, 11]).update(deleted_at=now - timedelta(days=2))
    Tombstone.objects.filter(subject_id=14).update(deleted_at=now - timedelta(days=3))
    rows = read_all(client, figures_key, "&type=target")
    assert [row["id"] for row in rows] == [14, 10, 11, 12, 13]
    since = read_all(client, figures_key, f"&type=target&since={iso(now - timedelta(days=1))}")
    assert [row["id"] for row in since] == [12, 13]
    assert [row["id"] for row in read_all(client, figures_key, "&type=achievement")] == [99]


def test_a_tombstone_recorded_while_paging_is_read_before_the_end(client, figures_key):
    tombstones_record(subject_type="target", subject_ids=[1, 2, 3])
    first = client.get(f"{DELETIONS}?type=target&limit=2", **figures_key).json()
    tombstones_record(subject_type="target", subject_ids=[4])
    second = client.get(f"{DELETIONS}?type=target&limit=2&cursor={first['next_cursor']}", **figures_key).json()
    assert [row["id"] for row in first["results"] + second["results"]] == [1, 2, 3, 4]
    assert second["next_cursor"] is None


@pytest.mark.parametrize("page", [1, 2])
def test_query_count_per_page(client, figures_key, django_assert_num_queries, page):
    tombstones_record(subject_type="target", subject_ids=list(range(1, 31)))
    first = client.get(f"{DELETIONS}?type=target&limit=10", **figures_key).json()
    url = f"{DELETIONS}?type=target&limit=10" + (f"&cursor={first['next_cursor']}" if page == 2 else "")
    # 1. the API key and its owner
    # 2. the rate window
    # 3. the page of tombstones (off the (subject_type, deleted_at, id) index)
    with django_assert_num_queries(3):
        body = client.get(url, **figures_key).json()
    assert len(body["results"]) == 10


def test_scope_follows_the_type(client, rep, make_key, bearer):
    tombstones_record(subject_type="target", subject_ids=[1])
    tombstones_record(subject_type="lead", subject_ids=[2])
    leads_only = bearer(make_key(rep, scopes=["leads:read"])[1])
    response = client.get(f"{DELETIONS}?type=target", **leads_only)
    assert response.status_code == 403 and "figures:read" in response.json()["detail"]
    assert [row["id"] for row in client.get(f"{DELETIONS}?type=lead", **leads_only).json()["results"]] == [2]


def test_bad_queries_are_400_naming_the_parameter(client, figures_key):
    for query, field in (("", "type"), ("?type=nope", "type"), ("?type=target&since=yesterday", "since"),
                         ("?type=target&cursor=abc", "cursor"), ("?type=target&limit=0", "limit"),
                         ("?type=target&limit=9999", "limit")):
        response = client.get(f"{DELETIONS}{query}", **figures_key)
        assert response.status_code == 400, (query, response.content)
        assert response["Content-Type"].startswith("application/problem+json")
        assert field in {error["field"] for error in response.json()["errors"]}, response.json()


def test_a_cursor_of_another_list_is_refused(client, rep, make_key, bearer, figures_key):
    both = bearer(make_key(rep, scopes=["partners:read", "figures:read"])[1])
    for _ in range(3):
        factories.PartnerFactory(assigned_to=rep)
    cursor = client.get("/api/v1/partners/?limit=1", **both).json()["next_cursor"]
    response = client.get(f"{DELETIONS}?type=target&cursor={cursor}", **figures_key)
    assert response.status_code == 400


def test_anonymous_is_refused(client):
    assert client.get(f"{DELETIONS}?type=target").status_code in (401, 403)


def test_a_session_user_reads_them(client, rep):
    tombstones_record(subject_type="target", subject_ids=[7])
    client.force_login(rep)
    assert client.get(f"{DELETIONS}?type=target").json()["results"][0]["id"] == 7
