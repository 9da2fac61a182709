"""/api/v1/deals/ (api.deals): the staff's view of deal registrations through portal.deal_selectors, and the
decision through portal.deal_services.deal_decide."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from leads.models import Lead
from portal import deal_services as services
from portal.models import DealEvent, DealRegistration, Membership
from tests import factories

pytestmark = pytest.mark.django_db
DEALS = "/api/v1/deals/"
Status = DealRegistration.Status
FIELDS = dict(company="Initech", domain="initech.com", contact_name="Bill", contact_email="", contact_phone="",
              country="DE", amount=Decimal("100"), currency="EUR", expected_close=date(2027, 1, 1), notes="")


def member_of(partner, username):
    user = factories.UserFactory(username=username)
    return Membership.objects.create(user=user, partner=partner, role=Membership.Role.ADMIN)


def submitted(member, **overrides):
    registration = services.deal_save(member=member, **{**FIELDS, **overrides})
    return services.deal_submit(registration=registration, member=member).registration


@pytest.fixture
def acme(rep):
    return factories.PartnerFactory(name="Acme", assigned_to=rep)


@pytest.fixture
def globex(other_rep):
    return factories.PartnerFactory(name="Globex", assigned_to=other_rep)


@pytest.fixture
def acme_member(acme):
    return member_of(acme, "ada")


@pytest.fixture
def globex_member(globex):
    return member_of(globex, "gina")


def read_all(client, headers, query="", limit=2):
    seen, cursor = [], None
    for _ in range(100):
        response = client.get(f"{DEALS}?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else ""), **headers)
        assert response.status_code == 200, response.content
        body = response.json()
        seen += body["results"]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("endless paging")


def test_list_detail_and_history(client, rep, acme_member, make_key, bearer):
    registration = submitted(acme_member, company="Initech <b>")
    services.deal_save(member=acme_member, **{**FIELDS, "company": "A draft"})  # drafts are never shown to staff
    _key, secret = make_key(rep, scopes=["deals:read"])
    rows = read_all(client, bearer(secret))
    assert [row["id"] for row in rows] == [registration.pk]
    row = rows[0]
    assert row["company"] == "Initech <b>" and row["status"] == "submitted" and row["number"] == registration.number
    assert row["partner"] == {"id": registration.partner_id, "code": registration.partner.code, "name": "Acme"}
    response = client.get(f"{DEALS}{registration.pk}/", **bearer(secret))
    assert response.status_code == 200 and response["ETag"]
    detail = response.json()
    assert [step["status"] for step in detail["history"]] == ["draft", "submitted"]
    assert detail["history"][0]["by"]["username"] == "ada"
    again = client.get(f"{DEALS}{registration.pk}/", HTTP_IF_NONE_MATCH=response["ETag"], **bearer(secret))
    assert again.status_code == 304


def test_filters(client, manager, acme_member, globex_member, make_key, bearer):
    first = submitted(acme_member)
    second = submitted(globex_member, company="Globex deal")
    services.deal_decide(registration=second, by=manager, decision="reject", reason="Duplicate")
    DealRegistration.objects.filter(pk=first.pk).update(submitted_at=timezone.now() - timedelta(days=5),
                                                        updated_at=timezone.now() - timedelta(days=5))
    _key, secret = make_key(manager, scopes=["deals:read"])
    headers = bearer(secret)

    def ids(query):
        return sorted(row["id"] for row in read_all(client, headers, query=query))

    assert ids("") == sorted([first.pk, second.pk])
    assert ids("&status=rejected") == [second.pk]
    assert ids(f"&partner={first.partner_id}") == [first.pk]
    since = (timezone.now() - timedelta(days=1)).isoformat().replace("+", "%2B")
    assert ids(f"&submitted_after={since}") == [second.pk]
    assert ids(f"&updated_since={since}") == [second.pk]
    for query in ("status=draft", "status=nope", "partner=x", "submitted_after=yesterday", "cursor=abc", "limit=501"):
        response = client.get(f"{DEALS}?{query}", **headers)
        assert response.status_code == 400, query
        assert response.json()["errors"][0]["field"] == query.split("=")[0]


def test_paging_while_registrations_change(client, manager, acme_member, make_key, bearer):
    registrations = [submitted(acme_member, company=f"Co {n}") for n in range(6)]
    base = timezone.now() - timedelta(hours=1)
    for index, registration in enumerate(registrations):
        DealRegistration.objects.filter(pk=registration.pk).update(updated_at=base + timedelta(seconds=index))
    _key, secret = make_key(manager, scopes=["deals:read"])
    headers = bearer(secret)
    page = client.get(f"{DEALS}?limit=2", **headers).json()
    seen = [row["id"] for row in page["results"]]
    services.deal_decide(registration=registrations[0], by=manager, decision="approve", reason="Fine")
    cursor = page["next_cursor"]
    while cursor:
        page = client.get(f"{DEALS}?limit=2&cursor={cursor}", **headers).json()
        seen += [row["id"] for row in page["results"]]
        cursor = page["next_cursor"]
    assert sorted(set(seen)) == sorted(r.pk for r in registrations)
    assert seen[-1] == registrations[0].pk and seen.count(registrations[0].pk) == 2
    assert page["results"][-1]["status"] == "approved"


@pytest.mark.parametrize("page", [1, 2])
def test_list_query_count(client, rep, acme_member, make_key, bearer, django_assert_num_queries, page):
    for n in range(7):
        registration = submitted(acme_member, company=f"Co {n}")
        if n % 2:
            services.deal_decide(registration=registration, by=rep, decision="return", reason="More please")
    _key, secret = make_key(rep, scopes=["deals:read"])
    headers = bearer(secret)
    first = client.get(f"{DEALS}?limit=3", **headers).json()
    url = f"{DEALS}?limit=3" + (f"&cursor={first['next_cursor']}" if page == 2 else "")
    # 1. the API key and its owner
    # 2. the rate window
    # 3. the owner's visibility (user_sees_all_partners)
    # 4. the page with partner, reviewer and decider joined
    with django_assert_num_queries(4):
        body = client.get(url, **headers).json()
    assert len(body["results"]) == 3


def test_detail_query_count(client, rep, acme_member, make_key, bearer, django_assert_num_queries):
    registration = submitted(acme_member)
    _key, secret = make_key(rep, scopes=["deals:read"])
    client.get(f"{DEALS}{registration.pk}/", **bearer(secret))
    # 1. key, 2. rate window, 3. visibility, 4. the registration (partner, reviewer, decider), 5. its history
    with django_assert_num_queries(5):
        assert client.get(f"{DEALS}{registration.pk}/", **bearer(secret)).status_code == 200


def test_another_reps_registrations_are_404_on_every_verb(client, rep, acme_member, globex_member, make_key, bearer):
    mine = submitted(acme_member)
    theirs = submitted(globex_member)
    _key, secret = make_key(rep, scopes=["deals:read", "deals:write"])
    headers = bearer(secret)
    assert [row["id"] for row in read_all(client, headers)] == [mine.pk]
    assert read_all(client, headers, query=f"&partner={theirs.partner_id}") == []
    assert client.get(f"{DEALS}{theirs.pk}/", **headers).status_code == 404
    response = client.post(f"{DEALS}{theirs.pk}/decision", {"decision": "approve", "reason": "x"},
                           content_type="application/json", **headers)
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
    theirs.refresh_from_db()
    assert theirs.status == Status.SUBMITTED
    for verb in ("put", "patch", "delete"):
        assert getattr(client, verb)(f"{DEALS}{theirs.pk}/decision", **headers).status_code in (404, 405)


def test_approve_creates_the_lead_as_the_page_does(client, rep, acme_member, make_key, bearer):
    registration = submitted(acme_member)
    _key, secret = make_key(rep, scopes=["deals:read", "deals:write"])
    response = client.post(f"{DEALS}{registration.pk}/decision", {"decision": "approve", "reason": "Looks good"},
                           content_type="application/json", **bearer(secret))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "approved" and body["decision_reason"] == "Looks good"
    assert body["decided_by"]["username"] == rep.username and body["protection_expires_at"]
    assert [step["status"] for step in body["history"]] == ["draft", "submitted", "approved"]
    lead = Lead.objects.get(pk=body["lead"])
    assert lead.partner_id == registration.partner_id
    assert response["ETag"]
    # Decided already: a 409 problem, nothing written.
    again = client.post(f"{DEALS}{registration.pk}/decision", {"decision": "reject", "reason": "Oops"},
                        content_type="application/json", **bearer(secret))
    assert again.status_code == 409 and "approved" in again.json()["detail"]
    assert Lead.objects.count() == 1


def test_decision_validation(client, rep, acme_member, make_key, bearer):
    registration = submitted(acme_member)
    _key, secret = make_key(rep, scopes=["deals:read", "deals:write"])
    url = f"{DEALS}{registration.pk}/decision"
    cases = [
        ({"decision": "maybe", "reason": "x"}, "decision"),
        ({"decision": "approve", "reason": "   "}, "reason"),
        ({"decision": "approve"}, "reason"),
        ({"decision": "approve", "reason": "x" * 5000}, "reason"),
    ]
    for body, field in cases:
        response = client.post(url, body, content_type="application/json", **bearer(secret))
        assert response.status_code == 400, body
        assert response["Content-Type"] == "application/problem+json"
        assert field in [error["field"] for error in response.json()["errors"]], response.json()
    registration.refresh_from_db()
    assert registration.status == Status.SUBMITTED


def test_scopes(client, rep, acme_member, make_key, bearer):
    registration = submitted(acme_member)
    _key, read_only = make_key(rep, scopes=["deals:read"])
    _key, other_group = make_key(rep, scopes=["partners:read", "partners:write"], name="Other")
    url = f"{DEALS}{registration.pk}/decision"
    body = {"decision": "approve", "reason": "ok"}
    assert client.post(url, body, content_type="application/json", **bearer(read_only)).status_code == 403
    assert client.get(DEALS, **bearer(other_group)).status_code == 403
    assert client.post(url, body, content_type="application/json", **bearer(other_group)).status_code == 403
    registration.refresh_from_db()
    assert registration.status == Status.SUBMITTED


def test_if_match_and_idempotency(client, rep, acme_member, make_key, bearer):
    registration = submitted(acme_member)
    _key, secret = make_key(rep, scopes=["deals:read", "deals:write"])
    headers = bearer(secret)
    etag = client.get(f"{DEALS}{registration.pk}/", **headers)["ETag"]
    DealRegistration.objects.filter(pk=registration.pk).update(updated_at=timezone.now())  # changed since
    url = f"{DEALS}{registration.pk}/decision"
    body = {"decision": "return", "reason": "Which products?"}
    stale = client.post(url, body, content_type="application/json", HTTP_IF_MATCH=etag, **headers)
    assert stale.status_code == 412
    current = client.get(f"{DEALS}{registration.pk}/", **headers)["ETag"]
    first = client.post(url, body, content_type="application/json", HTTP_IF_MATCH=current,
                        HTTP_IDEMPOTENCY_KEY="decide-1", **headers)
    assert first.status_code == 200 and first.json()["status"] == "returned"
    replay = client.post(url, body, content_type="application/json", HTTP_IF_MATCH=current,
                         HTTP_IDEMPOTENCY_KEY="decide-1", **headers)
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert DealEvent.objects.filter(registration=registration, status=Status.RETURNED).count() == 1
    other = client.post(url, {**body, "reason": "Other"}, content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY="decide-1", **headers)
    assert other.status_code == 422


def test_a_manager_decides_any_partners_registration(client, manager, globex_member, make_key, bearer):
    registration = submitted(globex_member)
    _key, secret = make_key(manager, scopes=["deals:read", "deals:write"])
    response = client.post(f"{DEALS}{registration.pk}/decision", {"decision": "reject", "reason": "Not a fit"},
                           content_type="application/json", **bearer(secret))
    assert response.status_code == 200 and response.json()["status"] == "rejected"
