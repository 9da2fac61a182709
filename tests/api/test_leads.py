"""/api/v1/leads/ (api.leads → leads.selectors, leads.services)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from leads.models import Customer, Lead, LeadStageChange
from leads.services import lead_create, lead_move
from tests import factories

pytestmark = pytest.mark.django_db
LEADS = "/api/v1/leads/"
WRITE = ["leads:read", "leads:write"]


@pytest.fixture
def rep_key(rep, make_key, bearer):
    return bearer(make_key(rep, scopes=WRITE)[1])


@pytest.fixture
def manager_key(manager, make_key, bearer):
    return bearer(make_key(manager, scopes=WRITE)[1])


def post(client, headers, url, body, **extra):
    return client.post(url, body, content_type="application/json", **headers, **extra)


def patch(client, headers, pk, body, **extra):
    return client.patch(f"{LEADS}{pk}/", body, content_type="application/json", **headers, **extra)


def fields_of(response):
    return {error["field"]: error["message"] for error in response.json()["errors"]}


def read_all(client, headers, query="", limit=3, between_pages=None):
    seen, cursor, number = [], None, 0
    while True:
        url = f"{LEADS}?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url, **headers)
        assert response.status_code == 200, response.content
        body = response.json()
        seen += body["results"]
        number += 1
        if between_pages:
            between_pages(number)
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
        assert number < 100


# --- Reads ------------------------------------------------------------------------------------------------------------


def test_a_rep_sees_their_leads_and_their_partners_leads_only(client, rep, other_rep, rep_key):
    mine = factories.PartnerFactory(assigned_to=rep)
    theirs = factories.PartnerFactory(assigned_to=other_rep)
    of_my_partner = lead_create(by=other_rep, name="From my partner", partner=mine, assigned_to=other_rep)
    assigned_to_me = lead_create(by=other_rep, name="Mine", partner=theirs, assigned_to=rep)
    hidden = lead_create(by=other_rep, name="Not mine", partner=theirs)
    assert {row["id"] for row in read_all(client, rep_key)} == {of_my_partner.pk, assigned_to_me.pk}
    url = f"{LEADS}{hidden.pk}/"
    assert client.get(url, **rep_key).status_code == 404
    for response in (
        patch(client, rep_key, hidden.pk, {"name": "x"}),
        post(client, rep_key, f"{url}stage", {"stage": "contacted"}),
        post(client, rep_key, f"{url}convert", {}),
    ):
        assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
    hidden.refresh_from_db()
    assert (hidden.name, hidden.stage) == ("Not mine", "new") and not Customer.objects.exists()


def test_shape_with_stage_history(client, rep, rep_key):
    partner = factories.PartnerFactory(assigned_to=rep)
    lead = lead_create(by=rep, name="Asha", partner=partner, expected_value=Decimal("5000"), email="a@x.example")
    lead_move(lead=lead, to_stage="contacted", by=rep)
    body = client.get(f"{LEADS}{lead.pk}/", **rep_key).json()
    assert (body["name"], body["partner"], body["stage"], body["expected_value"]) == ("Asha", partner.pk,
                                                                                       "contacted", "5000.00")
    assert body["assigned_to"]["id"] == rep.pk and body["customer"] is None
    assert [(h["from_stage"], h["to_stage"]) for h in body["stage_history"]] == [("", "new"), ("new", "contacted")]
    assert body["stage_history"][1]["changed_by"]["username"] == rep.username


def test_filters(client, manager, rep, other_rep, manager_key):
    a, b = factories.PartnerFactory(assigned_to=rep), factories.PartnerFactory(assigned_to=other_rep)
    first = lead_create(by=rep, name="One", partner=a)
    second = lead_create(by=other_rep, name="Two", partner=b)
    third = lead_create(by=rep, name="Three", partner=b, assigned_to=rep)
    lead_move(lead=third, to_stage="qualified", by=rep)

    def ids(query):
        return sorted(row["id"] for row in read_all(client, manager_key, query=query))

    assert ids("") == sorted([first.pk, second.pk, third.pk])
    assert ids("&stage=qualified") == [third.pk]
    assert ids(f"&partner={b.pk}") == sorted([second.pk, third.pk])
    assert ids(f"&assigned_to={rep.username}") == sorted([first.pk, third.pk])
    Lead.objects.filter(pk=first.pk).update(updated_at=timezone.now() - timedelta(days=3))
    since = (timezone.now() - timedelta(days=1)).isoformat().replace("+", "%2B")
    assert ids(f"&updated_since={since}") == sorted([second.pk, third.pk])


@pytest.mark.parametrize("query, field", [
    ("stage=open", "stage"), ("partner=-1", "partner"), ("updated_since=today", "updated_since"), ("limit=0", "limit"),
    ("cursor=abc", "cursor"),
])
def test_bad_filters(client, manager_key, query, field):
    response = client.get(f"{LEADS}?{query}", **manager_key)
    assert response.status_code == 400 and field in fields_of(response)


def test_paging_is_stable_when_leads_change(client, rep, rep_key):
    partner = factories.PartnerFactory(assigned_to=rep)
    leads = [lead_create(by=rep, name=f"L{n}", partner=partner) for n in range(8)]
    base = timezone.now() - timedelta(hours=1)
    for index, lead in enumerate(leads):
        Lead.objects.filter(pk=lead.pk).update(updated_at=base + timedelta(seconds=index))

    def change(page_number):
        if page_number == 1:
            for lead in (leads[0], leads[6]):
                lead_move(lead=lead, to_stage="contacted", by=rep)

    seen = read_all(client, rep_key, limit=3, between_pages=change)
    ids = [row["id"] for row in seen]
    assert sorted(set(ids)) == sorted(lead.pk for lead in leads)
    assert ids.count(leads[0].pk) == 2 and ids.count(leads[6].pk) == 1
    assert all(ids.count(lead.pk) == 1 for lead in leads[1:6] + leads[7:])
    assert ids[-2:] == [leads[0].pk, leads[6].pk]
    assert seen[-2]["stage"] == "contacted"


@pytest.mark.parametrize("page", [1, 2])
def test_query_count_per_page(client, make_key, bearer, django_assert_num_queries, page):
    rep = factories.rep_user(username="rep-q")
    for n in range(7):
        partner = factories.PartnerFactory(assigned_to=rep)
        lead = lead_create(by=rep, name=f"L{n}", partner=partner)
        lead_move(lead=lead, to_stage="contacted", by=factories.rep_user(username=f"mover{n}"))
    headers = bearer(make_key(rep, scopes=WRITE)[1])
    first = client.get(f"{LEADS}?limit=3", **headers).json()
    url = f"{LEADS}?limit=3" + (f"&cursor={first['next_cursor']}" if page == 2 else "")
    # 1. the API key and its owner
    # 2. the rate window
    # 3. the owner's visibility (may they see every partner?)
    # 4. the page's leads (assigned to them UNION of their partners), assignee and customer joined
    # 5. the page's stage history, with who moved each
    with django_assert_num_queries(5):
        body = client.get(url, **headers).json()
    assert len(body["results"]) == 3 and all(len(row["stage_history"]) == 2 for row in body["results"])


# --- Writes -----------------------------------------------------------------------------------------------------------


def test_create_a_lead(client, rep, rep_key):
    partner = factories.PartnerFactory(assigned_to=rep)
    response = post(client, rep_key, LEADS, {"name": "Ravi", "company": "Ravi & Co", "partner": partner.pk,
                                             "expected_value": "1200.50", "email": "ravi@x.example"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"{LEADS}{body['id']}/" and response["ETag"]
    assert (body["stage"], body["assigned_to"]["id"], body["partner"]) == ("new", rep.pk, partner.pk)
    assert [h["to_stage"] for h in body["stage_history"]] == ["new"]


@pytest.mark.parametrize("body, field", [
    ({}, "name"),
    ({"name": "  "}, "name"),
    ({"name": "A", "email": "nope"}, "email"),
    ({"name": "A", "expected_value": "-1"}, "expected_value"),
    ({"name": "A", "expected_value": "1e20"}, "expected_value"),
    ({"name": "A", "partner": 999_999}, "partner"),
    ({"name": "A", "assigned_to": "rep2"}, "assigned_to"),  # a rep assigns to themselves only
    ({"name": "A", "phone": "1" * 51}, "phone"),
])
def test_invalid_leads_are_400_naming_the_field(client, rep_key, other_rep, body, field):
    response = post(client, rep_key, LEADS, body)
    assert response.status_code == 400 and field in fields_of(response), response.content
    assert not Lead.objects.exists()


def test_another_reps_partner_cannot_be_named(client, rep_key, other_rep):
    theirs = factories.PartnerFactory(assigned_to=other_rep)
    response = post(client, rep_key, LEADS, {"name": "A", "partner": theirs.pk})
    assert response.status_code == 400 and "partner" in fields_of(response)


def test_a_manager_assigns_by_username_or_id(client, manager_key, rep, other_rep):
    by_name = post(client, manager_key, LEADS, {"name": "A", "assigned_to": rep.username})
    by_id = post(client, manager_key, LEADS, {"name": "B", "assigned_to": other_rep.pk})
    assert by_name.json()["assigned_to"]["id"] == rep.pk and by_id.json()["assigned_to"]["id"] == other_rep.pk


def test_patch_with_if_match(client, rep, rep_key):
    lead = lead_create(by=rep, name="Old", partner=factories.PartnerFactory(assigned_to=rep))
    tag = client.get(f"{LEADS}{lead.pk}/", **rep_key)["ETag"]
    changed = patch(client, rep_key, lead.pk, {"name": "New", "expected_value": "99"}, HTTP_IF_MATCH=tag)
    assert changed.status_code == 200, changed.content
    assert changed.json()["name"] == "New" and changed.json()["expected_value"] == "99.00"
    assert patch(client, rep_key, lead.pk, {"name": "Stale"}, HTTP_IF_MATCH=tag).status_code == 412
    unlinked = patch(client, rep_key, lead.pk, {"partner": None})
    assert unlinked.status_code == 200 and unlinked.json()["partner"] is None
    lead.refresh_from_db()
    assert lead.name == "New" and lead.partner is None


def test_stage_moves_and_losing_with_a_reason(client, rep, rep_key):
    lead = lead_create(by=rep, name="A", partner=factories.PartnerFactory(assigned_to=rep))
    url = f"{LEADS}{lead.pk}/stage"
    moved = post(client, rep_key, url, {"stage": "qualified"})
    assert moved.status_code == 200 and moved.json()["stage"] == "qualified"
    same = post(client, rep_key, url, {"stage": "qualified"})
    assert same.status_code == 400 and "stage" in fields_of(same)
    noted = post(client, rep_key, url, {"stage": "contacted", "note": "Called"})
    assert noted.status_code == 400 and "note" in fields_of(noted)
    won = post(client, rep_key, url, {"stage": "won"})
    assert won.status_code == 400 and "stage" in fields_of(won)
    no_reason = post(client, rep_key, url, {"stage": "lost"})
    assert no_reason.status_code == 400 and "note" in fields_of(no_reason)
    lost = post(client, rep_key, url, {"stage": "lost", "note": "Went with a competitor"})
    assert lost.status_code == 200, lost.content
    assert (lost.json()["stage"], lost.json()["lost_reason"]) == ("lost", "Went with a competitor")
    assert [h["to_stage"] for h in lost.json()["stage_history"]] == ["new", "qualified", "lost"]
    closed = post(client, rep_key, url, {"stage": "new"})
    assert closed.status_code == 409 and "already lost" in closed.json()["detail"]
    assert LeadStageChange.objects.filter(lead=lead).count() == 3


def test_convert_creates_the_customer_once(client, rep, rep_key):
    partner = factories.PartnerFactory(assigned_to=rep)
    lead = lead_create(by=rep, name="Big deal", partner=partner, expected_value=Decimal("700"))
    url = f"{LEADS}{lead.pk}/convert"
    response = post(client, rep_key, url, {"value": "800"})
    assert response.status_code == 201, response.content
    customer = Customer.objects.get(lead=lead)
    body = response.json()
    assert body["customer"] == customer.pk and body["customer_url"] == f"/api/v1/customers/{customer.pk}/"
    assert response["Location"] == body["customer_url"]
    assert (body["lead"]["stage"], body["lead"]["value"], body["lead"]["customer"]) == ("won", "800.00", customer.pk)
    assert (customer.name, customer.partner, customer.assigned_to) == ("Big deal", partner, rep)
    again = post(client, rep_key, url, {})
    assert again.status_code == 409 and Customer.objects.count() == 1
    negative = post(client, rep_key, f"{LEADS}{lead_create(by=rep, name='B').pk}/convert", {"value": "-5"})
    assert negative.status_code == 400 and "value" in fields_of(negative)


def test_a_convert_retried_with_its_idempotency_key_replays(client, rep, rep_key):
    lead = lead_create(by=rep, name="A", partner=factories.PartnerFactory(assigned_to=rep))
    url = f"{LEADS}{lead.pk}/convert"
    first = post(client, rep_key, url, {}, HTTP_IDEMPOTENCY_KEY="conv-1")
    again = post(client, rep_key, url, {}, HTTP_IDEMPOTENCY_KEY="conv-1")
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and Customer.objects.count() == 1


def test_scopes(client, rep, make_key, bearer):
    lead = lead_create(by=rep, name="A", partner=factories.PartnerFactory(assigned_to=rep))
    read_only = bearer(make_key(rep, scopes=["leads:read"])[1])
    assert client.get(LEADS, **read_only).status_code == 200
    assert post(client, read_only, LEADS, {"name": "B"}).status_code == 403
    assert post(client, read_only, f"{LEADS}{lead.pk}/stage", {"stage": "contacted"}).status_code == 403
    assert post(client, read_only, f"{LEADS}{lead.pk}/convert", {}).status_code == 403
    customers_only = bearer(make_key(rep, scopes=["customers:read"])[1])
    assert client.get(LEADS, **customers_only).status_code == 403
    lead.refresh_from_db()
    assert lead.stage == "new" and Lead.objects.count() == 1


def test_a_rep_hands_a_lead_back_to_its_partners_rep(client, rep, other_rep, rep_key):
    """As on the lead page: a lead assigned to me from another rep's partner may go to that partner's rep; the answer
    is the lead as saved, and from then on it is theirs (404 for me)."""
    theirs = factories.PartnerFactory(assigned_to=other_rep)
    lead = lead_create(by=other_rep, name="A", partner=theirs, assigned_to=rep)
    response = patch(client, rep_key, lead.pk, {"assigned_to": other_rep.username})
    assert response.status_code == 200 and response.json()["assigned_to"]["id"] == other_rep.pk
    assert client.get(f"{LEADS}{lead.pk}/", **rep_key).status_code == 404
