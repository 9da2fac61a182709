"""/api/v1/customers/ (api.customers → leads.customer_selectors, leads.customer_services)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from activities.services import activity_schedule
from leads.models import Customer, CustomerContact
from tests import factories

pytestmark = pytest.mark.django_db
CUSTOMERS = "/api/v1/customers/"
WRITE = ["customers:read", "customers:write"]


@pytest.fixture
def rep_key(rep, make_key, bearer):
    return bearer(make_key(rep, scopes=WRITE)[1])


@pytest.fixture
def manager_key(manager, make_key, bearer):
    return bearer(make_key(manager, scopes=WRITE)[1])


def patch(client, headers, pk, body, **extra):
    return client.patch(f"{CUSTOMERS}{pk}/", body, content_type="application/json", **headers, **extra)


def fields_of(response):
    return {error["field"]: error["message"] for error in response.json()["errors"]}


def read_all(client, headers, query="", limit=3):
    seen, cursor = [], None
    for _ in range(100):
        url = f"{CUSTOMERS}?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url, **headers)
        assert response.status_code == 200, response.content
        seen += response.json()["results"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("too many pages")


def test_a_rep_sees_their_customers_only(client, rep, other_rep, rep_key):
    mine = factories.CustomerFactory(partner=factories.PartnerFactory(assigned_to=rep))
    assigned = factories.CustomerFactory(partner=factories.PartnerFactory(assigned_to=other_rep), assigned_to=rep)
    hidden = factories.CustomerFactory(partner=factories.PartnerFactory(assigned_to=other_rep), name="Hidden")
    assert {row["id"] for row in read_all(client, rep_key)} == {mine.pk, assigned.pk}
    assert client.get(f"{CUSTOMERS}{hidden.pk}/", **rep_key).status_code == 404
    assert patch(client, rep_key, hidden.pk, {"name": "Mine"}).status_code == 404
    hidden.refresh_from_db()
    assert hidden.name == "Hidden"


def test_shape(client, rep, rep_key):
    customer = factories.customer_with_contacts(partner=factories.PartnerFactory(assigned_to=rep))
    body = client.get(f"{CUSTOMERS}{customer.pk}/", **rep_key).json()
    assert body["partner"] == customer.partner_id and body["assigned_to"]["id"] == rep.pk
    assert body["segment"] is None and body["engagement_due_at"] is not None
    assert {c["kind"] for c in body["contacts"]} == {"mobile", "phone", "email"}
    assert len(body["locations"]) == 1 and body["locations"][0]["is_primary"]


def test_filters(client, manager, rep, other_rep, manager_key):
    a, b = factories.PartnerFactory(assigned_to=rep), factories.PartnerFactory(assigned_to=other_rep)
    acme = factories.CustomerFactory(partner=a, name="Acme Stores")
    bolt = factories.CustomerFactory(partner=b, name="Bolt", company="Acme Group")
    other = factories.CustomerFactory(partner=b, name="Other", segment=factories.segment())
    Customer.objects.filter(pk=other.pk).update(engagement_due_at=timezone.now() - timedelta(days=2))

    def ids(query):
        return sorted(row["id"] for row in read_all(client, manager_key, query=query))

    assert ids("&q=acme") == sorted([acme.pk, bolt.pk])
    assert ids(f"&partner={b.pk}") == sorted([bolt.pk, other.pk])
    assert ids(f"&assigned_to={rep.username}") == [acme.pk]
    assert ids(f"&segment={factories.segment().pk}") == [other.pk]
    assert ids("&overdue=true") == [other.pk]
    Customer.objects.filter(pk=acme.pk).update(updated_at=timezone.now() - timedelta(days=3))
    since = (timezone.now() - timedelta(days=1)).isoformat().replace("+", "%2B")
    assert ids(f"&updated_since={since}") == sorted([bolt.pk, other.pk])
    bad = client.get(f"{CUSTOMERS}?overdue=perhaps", **manager_key)
    assert bad.status_code == 400 and "overdue" in fields_of(bad)


def test_an_engagement_moves_the_customer_to_the_end_of_the_sync(client, rep, rep_key):
    first, second = (factories.CustomerFactory(partner=factories.PartnerFactory(assigned_to=rep)) for _ in range(2))
    base = timezone.now() - timedelta(hours=1)
    Customer.objects.filter(pk=first.pk).update(updated_at=base)
    Customer.objects.filter(pk=second.pk).update(updated_at=base + timedelta(seconds=1))
    page = client.get(f"{CUSTOMERS}?limit=2", **rep_key).json()
    assert [row["id"] for row in page["results"]] == [first.pk, second.pk]
    activity_schedule(customer=first, by=rep, kind="call", start_at=timezone.now() + timedelta(days=1))
    since = page["results"][-1]["updated_at"].replace("+", "%2B")
    rows = client.get(f"{CUSTOMERS}?updated_since={since}", **rep_key).json()["results"]
    assert rows[-1]["id"] == first.pk and rows[-1]["next_engagement_at"] is not None


@pytest.mark.parametrize("page", [1, 2])
def test_query_count_per_page(client, make_key, bearer, django_assert_num_queries, page):
    rep = factories.rep_user(username="rep-q")
    for _ in range(7):
        factories.customer_with_contacts(partner=factories.PartnerFactory(assigned_to=rep),
                                         segment=factories.segment())
    headers = bearer(make_key(rep, scopes=WRITE)[1])
    first = client.get(f"{CUSTOMERS}?limit=3", **headers).json()
    url = f"{CUSTOMERS}?limit=3" + (f"&cursor={first['next_cursor']}" if page == 2 else "")
    # 1. the API key and its owner
    # 2. the rate window
    # 3. the owner's visibility (may they see every partner?)
    # 4. the page's customers (assigned to them UNION of their partners), segment and assignee joined
    # 5. their contacts
    # 6. their locations
    with django_assert_num_queries(6):
        body = client.get(url, **headers).json()
    assert len(body["results"]) == 3
    assert all(len(row["contacts"]) == 3 and row["segment"]["name"] for row in body["results"])


def test_patch_fields_contacts_and_locations_with_if_match(client, rep, rep_key):
    customer = factories.customer_with_contacts(partner=factories.PartnerFactory(assigned_to=rep))
    keep = customer.contacts.get(kind="email")
    tag = client.get(f"{CUSTOMERS}{customer.pk}/", **rep_key)["ETag"]
    response = patch(client, rep_key, customer.pk, {
        "name": "Renamed", "segment": factories.segment().pk, "website": "https://shop.example",
        "contacts": [{"id": keep.pk, "kind": "email", "value": "new@shop.example"},
                     {"kind": "mobile", "value": "+91 90000 00001"}],
    }, HTTP_IF_MATCH=tag)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "Renamed" and body["segment"]["name"] == factories.segment().name
    assert sorted((c["kind"], c["value"], c["is_primary"]) for c in body["contacts"]) == [
        ("email", "new@shop.example", True), ("mobile", "+91 90000 00001", True)]
    assert len(body["locations"]) == 1  # not given: left alone
    assert patch(client, rep_key, customer.pk, {"name": "Stale"}, HTTP_IF_MATCH=tag).status_code == 412
    # contacts alone move the ETag too (the sync and If-Match see the change)
    tag = response["ETag"]
    assert patch(client, rep_key, customer.pk, {"locations": []}, HTTP_IF_MATCH=tag).status_code == 200
    assert patch(client, rep_key, customer.pk, {"locations": []}, HTTP_IF_MATCH=tag).status_code == 412


@pytest.mark.parametrize("body, field", [
    ({"name": ""}, "name"),
    ({"email": "nope"}, "email"),
    ({"phone": "call me"}, "phone"),
    ({"website": "nope"}, "website"),
    ({"segment": 999_999}, "segment"),
    ({"assigned_to": "rep2"}, "assigned_to"),
    ({"contacts": [{"kind": "email", "value": "x"}]}, "contacts[0].value"),
    ({"contacts": [{"kind": "mobile", "value": "+9111111", "is_primary": True},
                   {"kind": "mobile", "value": "+9122222", "is_primary": True}]}, "contacts[1].is_primary"),
    ({"contacts": [{"value": "+9111111"}]}, "contacts[0].kind"),
    ({"locations": [{"address": "a", "longitude": "181"}]}, "locations[0].longitude"),
])
def test_invalid_patches_are_400_naming_the_field(client, rep, other_rep, rep_key, body, field):
    customer = factories.customer_with_contacts(partner=factories.PartnerFactory(assigned_to=rep), name="Kept")
    response = patch(client, rep_key, customer.pk, body)
    assert response.status_code == 400 and field in fields_of(response), response.content
    customer.refresh_from_db()
    assert customer.name == "Kept" and CustomerContact.objects.filter(customer=customer).count() == 3


def test_a_manager_reassigns(client, manager_key, rep, other_rep):
    customer = factories.CustomerFactory(partner=factories.PartnerFactory(assigned_to=rep))
    response = patch(client, manager_key, customer.pk, {"assigned_to": other_rep.username})
    assert response.status_code == 200 and response.json()["assigned_to"]["id"] == other_rep.pk


def test_scopes_and_no_create(client, rep, make_key, bearer):
    customer = factories.CustomerFactory(partner=factories.PartnerFactory(assigned_to=rep))
    read_only = bearer(make_key(rep, scopes=["customers:read"])[1])
    assert client.get(CUSTOMERS, **read_only).status_code == 200
    assert patch(client, read_only, customer.pk, {"name": "x"}).status_code == 403
    writer = bearer(make_key(rep, scopes=WRITE)[1])
    assert client.post(CUSTOMERS, {"name": "x"}, content_type="application/json", **writer).status_code == 405
    leads_only = bearer(make_key(rep, scopes=["leads:read"])[1])
    assert client.get(CUSTOMERS, **leads_only).status_code == 403
