"""POST /api/v1/partners/ and PATCH /api/v1/partners/<id>/ (api.views, api.partner_writes → partners.services)."""

import pytest

from api.models import IdempotencyRecord
from partners.models import ContactPoint, Location, Partner, StatusChange
from tests import factories

pytestmark = pytest.mark.django_db
PARTNERS = "/api/v1/partners/"
WRITE = ["partners:read", "partners:write"]


@pytest.fixture
def manager_key(manager, make_key, bearer):
    return bearer(make_key(manager, scopes=WRITE)[1])


@pytest.fixture
def rep_key(rep, make_key, bearer):
    return bearer(make_key(rep, scopes=WRITE)[1])


def post(client, headers, body, **extra):
    return client.post(PARTNERS, body, content_type="application/json", **headers, **extra)


def patch(client, headers, pk, body, **extra):
    return client.patch(f"{PARTNERS}{pk}/", body, content_type="application/json", **headers, **extra)


def fields_of(response):
    return {error["field"]: error["message"] for error in response.json()["errors"]}


NEW = {
    "code": "ACME-1",
    "name": "Acme Traders",
    "kind": "organisation",
    "tier": None,
    "website": "https://acme.example",
    "contact_points": [
        {"kind": "mobile", "value": "+91 98450 00001", "is_primary": True, "preferred_channel": "whatsapp"},
        {"kind": "email", "value": "sales@acme.example", "label": "Sales"},
    ],
    "locations": [{"label": "Office", "address": "1 MG Road", "latitude": "12.97", "longitude": "77.59"}],
}


def test_a_manager_creates_a_partner_with_contacts_and_locations(client, manager_key, other_rep):
    body = {**NEW, "tier": factories.tier("Gold").pk, "assigned_to": other_rep.username, "country": "in"}
    response = post(client, manager_key, body)
    assert response.status_code == 201, response.content
    data = response.json()
    partner = Partner.objects.get(code="ACME-1")
    assert response["Location"] == f"{PARTNERS}{partner.pk}/" and response["ETag"]
    assert data["id"] == partner.pk and data["tier"]["name"] == "Gold" and data["country"] == "IN"
    assert data["assigned_to"]["username"] == other_rep.username
    assert partner.created_by is not None and partner.engagement_due_at is not None  # the service's work
    contacts = {c["kind"]: c for c in data["contact_points"]}
    assert contacts["mobile"]["preferred_channel"] == "whatsapp"
    assert contacts["email"]["is_primary"] is True  # the first of its kind becomes primary, as on the page
    assert [loc["address"] for loc in data["locations"]] == ["1 MG Road"] and data["locations"][0]["is_primary"]
    # searchable through the list's search document right away
    assert [p["id"] for p in client.get(f"{PARTNERS}?q=acme", **manager_key).json()["results"]] == [partner.pk]


def test_a_reps_new_partner_is_theirs_and_they_cannot_assign(client, rep, rep_key, other_rep):
    created = post(client, rep_key, {"code": "R-1", "name": "Mine"})
    assert created.status_code == 201 and created.json()["assigned_to"]["id"] == rep.pk
    refused = post(client, rep_key, {"code": "R-2", "name": "Theirs", "assigned_to": other_rep.pk})
    assert refused.status_code == 400
    assert "manager" in fields_of(refused)["assigned_to"]
    assert not Partner.objects.filter(code="R-2").exists()
    # naming themselves is allowed (nothing changes)
    assert post(client, rep_key, {"code": "R-3", "name": "Also mine", "assigned_to": rep.username}).status_code == 201


@pytest.mark.parametrize("body, field", [
    ({"name": "No code"}, "code"),
    ({"code": "X1"}, "name"),
    ({"code": "X1", "name": " "}, "name"),
    ({"code": "X1", "name": "A", "tier": 999999}, "tier"),
    ({"code": "X1", "name": "A", "tier": "gold"}, "tier"),
    ({"code": "X1", "name": "A", "status": "inactive"}, "status_reason"),
    ({"code": "X1", "name": "A", "status": "asleep"}, "status"),
    ({"code": "X1", "name": "A", "website": "not a url"}, "website"),
    ({"code": "X1", "name": "A", "business_potential": "NaN"}, "business_potential"),
    ({"code": "X1", "name": "A", "assigned_to": "nobody-here"}, "assigned_to"),
    ({"code": "X1", "name": "A", "assigned_to": True}, "assigned_to"),
    ({"code": "X1", "name": "A", "contact_points": [{"kind": "email", "value": "nope"}]}, "contact_points[0].value"),
    ({"code": "X1", "name": "A", "contact_points": [{"kind": "mobile", "value": "call me"}]},
     "contact_points[0].value"),
    ({"code": "X1", "name": "A", "contact_points": [
        {"kind": "email", "value": "a@b.example", "preferred_channel": "whatsapp"}]},
     "contact_points[0].preferred_channel"),
    ({"code": "X1", "name": "A", "contact_points": [
        {"kind": "mobile", "value": "+911111111", "is_primary": True},
        {"kind": "mobile", "value": "+912222222", "is_primary": True}]}, "contact_points[1].is_primary"),
    ({"code": "X1", "name": "A", "contact_points": [
        {"kind": "mobile", "value": "+911111111", "preferred_channel": "sms"},
        {"kind": "phone", "value": "+912222222", "preferred_channel": "call"}]},
     "contact_points[1].preferred_channel"),
    ({"code": "X1", "name": "A", "locations": [{"address": "x", "latitude": "91"}]}, "locations[0].latitude"),
    ({"code": "X1", "name": "A", "locations": [{"label": "no address"}]}, "locations[0].address"),
    ({"code": "X1", "name": "A", "locations": [
        {"address": "a", "is_primary": True}, {"address": "b", "is_primary": True}]}, "locations[1].is_primary"),
    ({"code": "X1", "name": "A", "profile": {"unknown": 1}}, "profile.unknown"),
    ({"code": "X1", "name": "A\x00"}, "name"),
    ({"code": "X1", "name": "A", "country": "Germany"}, "country"),
    ({"code": "X1", "name": "A", "country": "1X"}, "country"),
])
def test_invalid_bodies_are_400_naming_the_field_and_write_nothing(client, manager_key, body, field):
    response = post(client, manager_key, body)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field in fields_of(response), response.json()
    assert not Partner.objects.exists()


def test_a_duplicate_code_is_a_400_on_code(client, manager_key, manager):
    factories.PartnerFactory(code="DUP", assigned_to=manager)
    response = post(client, manager_key, {"code": "DUP", "name": "Again"})
    assert response.status_code == 400 and "code" in fields_of(response)


def test_profile_fields_are_checked_like_the_form(client, manager_key):
    factories.ProfileFieldFactory(key="employees", label="Employees", kind="number", required=True)
    factories.ProfileFieldFactory(key="founded", label="Founded", kind="date")
    missing = post(client, manager_key, {"code": "P1", "name": "A", "profile": {"founded": "2001-02-03"}})
    assert missing.status_code == 400 and "profile.employees" in fields_of(missing)
    bad = post(client, manager_key, {"code": "P1", "name": "A", "profile": {"employees": "many", "founded": "x"}})
    assert set(fields_of(bad)) >= {"profile.employees", "profile.founded"}
    good = post(client, manager_key, {"code": "P1", "name": "A", "profile": {"employees": "12", "founded": "2001-02-03"}})
    assert good.status_code == 201, good.content
    assert good.json()["profile"] == {"employees": 12, "founded": "2001-02-03"}
    cleared = patch(client, manager_key, good.json()["id"], {"profile": {"founded": None}})
    assert cleared.status_code == 200 and cleared.json()["profile"] == {"employees": 12}


def test_patch_changes_fields_tier_and_assignee(client, manager_key, manager, rep):
    partner = factories.partner_with_contacts(assigned_to=manager, name="Old")
    silver = factories.tier("Silver")
    response = patch(client, manager_key, partner.pk, {"name": "New", "tier": silver.pk, "assigned_to": rep.pk})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["name"] == "New" and data["tier"]["name"] == "Silver" and data["assigned_to"]["id"] == rep.pk
    assert len(data["contact_points"]) == 4 and len(data["locations"]) == 1  # not given: left alone
    partner.refresh_from_db()
    assert partner.name == "New" and partner.assigned_to == rep
    unassigned = patch(client, manager_key, partner.pk, {"assigned_to": None})
    assert unassigned.status_code == 200 and unassigned.json()["assigned_to"] is None


def test_patch_status_with_reason_writes_a_status_change(client, manager_key, manager):
    partner = factories.PartnerFactory(assigned_to=manager)
    refused = patch(client, manager_key, partner.pk, {"status": "inactive"})
    assert refused.status_code == 400 and "status_reason" in fields_of(refused)
    response = patch(client, manager_key, partner.pk, {"status": "inactive", "status_reason": "Closed the shop"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "inactive" and response.json()["status_reason"] == "Closed the shop"
    change = StatusChange.objects.get(partner=partner)
    assert (change.from_status, change.to_status, change.reason, change.changed_by) == (
        "active", "inactive", "Closed the shop", manager)
    again = patch(client, manager_key, partner.pk, {"status": "active"})
    assert again.json()["status_reason"] == "" and StatusChange.objects.filter(partner=partner).count() == 2


def test_patch_replaces_contacts_and_locations_when_given(client, manager_key, manager):
    partner = factories.partner_with_contacts(assigned_to=manager)
    keep = partner.contact_points.get(kind="email")
    response = patch(client, manager_key, partner.pk, {
        "contact_points": [{"id": keep.pk, "kind": "email", "value": "new@acme.example", "is_primary": True}],
        "locations": [],
    })
    assert response.status_code == 200, response.content
    assert [(c["id"], c["value"]) for c in response.json()["contact_points"]] == [(keep.pk, "new@acme.example")]
    assert response.json()["locations"] == []
    assert ContactPoint.objects.filter(partner=partner).count() == 1
    assert not Location.objects.filter(partner=partner).exists()


def test_the_code_is_fixed_once_created(client, manager_key, manager):
    partner = factories.PartnerFactory(assigned_to=manager, code="FIX-1")
    assert patch(client, manager_key, partner.pk, {"code": "FIX-1", "name": "Same code"}).status_code == 200
    response = patch(client, manager_key, partner.pk, {"code": "OTHER"})
    assert response.status_code == 400 and "Fixed" in fields_of(response)["code"]
    partner.refresh_from_db()
    assert partner.code == "FIX-1"


def test_a_rep_edits_their_partner_but_cannot_reassign_it(client, rep, rep_key, other_rep):
    partner = factories.PartnerFactory(assigned_to=rep)
    assert patch(client, rep_key, partner.pk, {"notes": "Met the owner"}).status_code == 200
    response = patch(client, rep_key, partner.pk, {"assigned_to": other_rep.username})
    assert response.status_code == 400 and "assigned_to" in fields_of(response)
    partner.refresh_from_db()
    assert partner.assigned_to == rep


def test_another_reps_partner_is_404_on_every_verb(client, rep_key, other_rep):
    theirs = factories.PartnerFactory(assigned_to=other_rep, name="Theirs")
    url = f"{PARTNERS}{theirs.pk}/"
    assert client.get(url, **rep_key).status_code == 404
    assert patch(client, rep_key, theirs.pk, {"name": "Mine now"}).status_code == 404
    for verb in ("put", "delete"):
        assert getattr(client, verb)(url, **rep_key).status_code == 405  # no such verb on any partner
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"


def test_if_match_guards_updates_and_get_answers_304(client, manager_key, manager):
    partner = factories.PartnerFactory(assigned_to=manager, name="Old")
    first = client.get(f"{PARTNERS}{partner.pk}/", **manager_key)
    tag = first["ETag"]
    assert client.get(f"{PARTNERS}{partner.pk}/", HTTP_IF_NONE_MATCH=tag, **manager_key).status_code == 304
    changed = patch(client, manager_key, partner.pk, {"name": "New"}, HTTP_IF_MATCH=tag)
    assert changed.status_code == 200 and changed["ETag"] != tag
    stale = patch(client, manager_key, partner.pk, {"name": "Stale"}, HTTP_IF_MATCH=tag)
    assert stale.status_code == 412 and stale["Content-Type"] == "application/problem+json"
    partner.refresh_from_db()
    assert partner.name == "New"


def test_a_contacts_only_patch_moves_the_etag(client, manager_key, manager):
    partner = factories.partner_with_contacts(assigned_to=manager)
    tag = client.get(f"{PARTNERS}{partner.pk}/", **manager_key)["ETag"]
    response = patch(client, manager_key, partner.pk, {"locations": []}, HTTP_IF_MATCH=tag)
    assert response.status_code == 200
    assert patch(client, manager_key, partner.pk, {"locations": []}, HTTP_IF_MATCH=tag).status_code == 412


def test_idempotency_key_replays_a_create(client, manager_key):
    first = post(client, manager_key, {"code": "I-1", "name": "Once"}, HTTP_IDEMPOTENCY_KEY="create-1")
    again = post(client, manager_key, {"code": "I-1", "name": "Once"}, HTTP_IDEMPOTENCY_KEY="create-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert Partner.objects.filter(code="I-1").count() == 1 and IdempotencyRecord.objects.count() == 1
    other = post(client, manager_key, {"code": "I-2", "name": "Other"}, HTTP_IDEMPOTENCY_KEY="create-1")
    assert other.status_code == 422


def test_scopes(client, manager, make_key, bearer):
    _key, read_only = make_key(manager, scopes=["partners:read"])
    refused = post(client, bearer(read_only), {"code": "S-1", "name": "No"})
    assert refused.status_code == 403 and "partners:write" in refused.json()["detail"]
    _key, other_group = make_key(manager, scopes=["leads:read", "leads:write"])
    assert post(client, bearer(other_group), {"code": "S-1", "name": "No"}).status_code == 403
    assert client.get(PARTNERS, **bearer(other_group)).status_code == 403
    assert not Partner.objects.exists()


def test_session_writes_need_csrf(manager):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    response = client.post(PARTNERS, {"code": "C-1", "name": "No"}, content_type="application/json")
    assert response.status_code == 403
    assert not Partner.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_key_sent_twice_at_once_creates_one_partner(manager, make_key, bearer):
    """Two clients (two connections) send the same create with the same Idempotency-Key at once: one partner, and
    both get the same answer."""
    import threading

    from django.db import connections
    from django.test import Client

    headers = bearer(make_key(manager, scopes=WRITE)[1])
    answers, start = [], threading.Barrier(2)

    def send():
        try:
            start.wait()
            answers.append(post(Client(), headers, {"code": "RACE-1", "name": "Race"}, HTTP_IDEMPOTENCY_KEY="race"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answer.status_code for answer in answers) == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert Partner.objects.filter(code="RACE-1").count() == 1
