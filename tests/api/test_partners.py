"""GET /api/v1/partners/, /api/v1/partners/<id>/, /api/v1/tiers/ (api.views, api.selectors, api.pagination)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from api.pagination import cursor_encode
from partners.models import Partner
from partners.services import partner_update
from tests import factories

pytestmark = pytest.mark.django_db
PARTNERS = "/api/v1/partners/"


def read_all(client, headers, query="", limit=3, between_pages=None):
    """Every page of the list; ``between_pages(page_number)`` runs after each page."""
    seen, cursor, number = [], None, 0
    while True:
        url = f"{PARTNERS}?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
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


def test_partner_shape(client, manager, make_key, bearer):
    partner = factories.partner_with_contacts(assigned_to=manager, status_reason="")
    _key, secret = make_key(manager)
    body = client.get(f"{PARTNERS}{partner.pk}/", **bearer(secret)).json()
    assert body["code"] == partner.code and body["tier"]["name"] == "Gold"
    assert body["status"] == "active" and "status_reason" in body
    assert body["assigned_to"] == {"id": manager.pk, "username": manager.username, "name": manager.get_full_name()}
    assert {c["kind"] for c in body["contact_points"]} == {"mobile", "phone", "email", "whatsapp"}
    assert len(body["locations"]) == 1 and body["locations"][0]["is_primary"] is True
    listed = client.get(PARTNERS, **bearer(secret)).json()["results"]
    assert listed == [body]


def test_tiers(client, rep, make_key, bearer):
    _key, secret = make_key(factories.manager_user(username="m9"))
    body = client.get("/api/v1/tiers/", **bearer(secret)).json()
    assert [tier["name"] for tier in body["results"]] == ["Platinum", "Gold", "Silver"]
    assert body["next_cursor"] is None


def test_a_reps_key_never_sees_another_reps_partners(client, rep, other_rep, make_key, bearer):
    mine = factories.PartnerFactory(assigned_to=rep)
    theirs = factories.PartnerFactory(assigned_to=other_rep)
    _key, secret = make_key(rep, scopes=["partners:read", "partners:write"])
    ids = [row["id"] for row in read_all(client, bearer(secret))]
    assert ids == [mine.pk]
    assert client.get(f"{PARTNERS}{mine.pk}/", **bearer(secret)).status_code == 200
    for method in (client.get, client.head, client.put, client.patch, client.delete, client.post):
        response = method(f"{PARTNERS}{theirs.pk}/", **bearer(secret))
        assert response.status_code in (404, 405), method
        if method in (client.get, client.head):
            assert response.status_code == 404
    assert client.get(f"{PARTNERS}?assigned_to={other_rep.username}", **bearer(secret)).json()["results"] == []
    assert client.get(f"{PARTNERS}999999999/", **bearer(secret)).status_code == 404


def test_others_records_are_404_on_every_verb_for_the_detail(client, rep, other_rep, make_key, bearer):
    """The detail view has GET and PATCH: another rep's partner is a 404 on both; the verbs it lacks are 405 for every
    id (own or not), so they reveal nothing."""
    mine = factories.PartnerFactory(assigned_to=rep)
    theirs = factories.PartnerFactory(assigned_to=other_rep)
    _key, secret = make_key(rep, scopes=["partners:read", "partners:write"])
    for verb in ("put", "delete", "post"):
        own = getattr(client, verb)(f"{PARTNERS}{mine.pk}/", **bearer(secret)).status_code
        other = getattr(client, verb)(f"{PARTNERS}{theirs.pk}/", **bearer(secret)).status_code
        assert own == other == 405
    own = client.patch(f"{PARTNERS}{mine.pk}/", {}, content_type="application/json", **bearer(secret))
    other = client.patch(f"{PARTNERS}{theirs.pk}/", {"name": "x"}, content_type="application/json", **bearer(secret))
    assert (own.status_code, other.status_code) == (200, 404)


def test_a_manager_sees_everyone_and_filters(client, manager, rep, other_rep, make_key, bearer):
    silver = factories.tier("Silver")
    a = factories.PartnerFactory(assigned_to=rep, name="Alpha Traders")
    b = factories.PartnerFactory(assigned_to=other_rep, tier=silver)
    c = factories.PartnerFactory(assigned_to=other_rep, status=Partner.Status.INACTIVE, status_reason="Closed")
    _key, secret = make_key(manager)
    headers = bearer(secret)

    def ids(query):
        return sorted(row["id"] for row in read_all(client, headers, query=query))

    assert ids("") == sorted([a.pk, b.pk, c.pk])
    assert ids(f"&tier={silver.pk}") == [b.pk]
    assert ids("&status=inactive") == [c.pk]
    assert ids(f"&assigned_to={other_rep.username}") == sorted([b.pk, c.pk])
    assert ids("&q=alpha") == [a.pk]
    Partner.objects.filter(pk=a.pk).update(updated_at=timezone.now() - timedelta(days=3))
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(f"&updated_since={since.replace('+', '%2B')}") == sorted([b.pk, c.pk])
    inactive = [row for row in read_all(client, headers, query="&status=inactive")]
    assert inactive[0]["status_reason"] == "Closed"


def test_cursor_paging_is_stable_when_rows_change_during_the_sync(client, manager, make_key, bearer):
    """Rows updated while a client pages move to the end: every unchanged row comes exactly once, every changed row
    comes (again) in its latest state, and nothing is missed."""
    partners = [factories.PartnerFactory(assigned_to=manager) for _ in range(10)]
    base = timezone.now() - timedelta(hours=1)
    for index, partner in enumerate(partners):  # a known order: partners[0] oldest
        Partner.objects.filter(pk=partner.pk).update(updated_at=base + timedelta(seconds=index))
    _key, secret = make_key(manager)
    renamed = {}

    def change(page_number):
        if page_number == 1:  # one row already read, one not yet read
            for partner in (partners[0], partners[7]):
                partner.refresh_from_db()
                partner_update(partner=partner, by=manager, name=f"{partner.name} (renamed)")
                renamed[partner.pk] = partner.name

    rows = read_all(client, bearer(secret), limit=3, between_pages=change)
    ids = [row["id"] for row in rows]
    unchanged = [p.pk for p in partners if p.pk not in renamed]
    assert sorted(set(ids)) == sorted(p.pk for p in partners)  # none missed
    for pk in unchanged:
        assert ids.count(pk) == 1  # none repeated
    assert ids.count(partners[0].pk) == 2  # read before its change, then again after it
    assert ids.count(partners[7].pk) == 1  # moved to the end before it was read: read once, in its new state
    latest = {row["id"]: row for row in rows}
    for pk, name in renamed.items():
        assert latest[pk]["name"] == name
    assert ids[-2:] == [partners[0].pk, partners[7].pk]


def test_cursor_is_signed(client, manager, make_key, bearer):
    partner = factories.PartnerFactory(assigned_to=manager)
    _key, secret = make_key(manager)
    good = cursor_encode(partner.updated_at - timedelta(seconds=1), 0)
    assert [r["id"] for r in client.get(f"{PARTNERS}?cursor={good}", **bearer(secret)).json()["results"]] == [
        partner.pk]
    forged = good[:-2] + ("aa" if not good.endswith("aa") else "bb")
    assert client.get(f"{PARTNERS}?cursor={forged}", **bearer(secret)).status_code == 400


@pytest.mark.parametrize("page", [1, 2])
def test_query_count_per_page_is_six(client, manager, make_key, bearer, django_assert_num_queries, page):
    rep = factories.rep_user(username="rep-q")
    for _ in range(7):
        factories.partner_with_contacts(assigned_to=rep)
    _key, secret = make_key(rep)
    headers = bearer(secret)
    first = client.get(f"{PARTNERS}?limit=3", **headers).json()  # records last_used_at (once a minute)
    url = f"{PARTNERS}?limit=3" + (f"&cursor={first['next_cursor']}" if page == 2 else "")
    # 1. the API key and its owner (by prefix)
    # 2. the rate window (INSERT … ON CONFLICT … RETURNING count, pruning older windows)
    # 3. the owner's visibility: may they see every partner? (partners.selectors.user_sees_all_partners)
    # 4. the page's partners with their tier and assignee (LIMIT 4)
    # 5. their contact points
    # 6. their locations
    with django_assert_num_queries(6):
        body = client.get(url, **headers).json()
    assert len(body["results"]) == 3
    assert all(len(row["contact_points"]) == 4 and len(row["locations"]) == 1 for row in body["results"])


def test_detail_query_count(client, manager, make_key, bearer, django_assert_num_queries):
    partner = factories.partner_with_contacts(assigned_to=manager)
    _key, secret = make_key(manager)
    client.get(f"{PARTNERS}{partner.pk}/", **bearer(secret))
    # 1. key + owner, 2. rate window, 3. visibility, 4. the partner, 5. contact points, 6. locations
    with django_assert_num_queries(6):
        assert client.get(f"{PARTNERS}{partner.pk}/", **bearer(secret)).status_code == 200


@pytest.mark.parametrize("pk", ["0", "99999999999999999999", "9223372036854775808"])
def test_out_of_range_ids_are_404(client, manager, make_key, bearer, pk):
    _key, secret = make_key(manager)
    response = client.get(f"{PARTNERS}{pk}/", **bearer(secret))
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"


def test_session_user_reads_the_same_rows(client, rep, other_rep):
    mine = factories.PartnerFactory(assigned_to=rep)
    factories.PartnerFactory(assigned_to=other_rep)
    client.force_login(rep)
    assert [row["id"] for row in client.get(PARTNERS).json()["results"]] == [mine.pk]


def test_an_engagement_moves_the_partner_to_the_end_of_the_sync(client, manager, make_key, bearer):
    """partners.services bumps updated_at when an activity changes the engagement dates (and in its other
    set-based updates of fields the API shows), so an incremental sync picks the change up."""
    from activities.models import Activity
    from activities.services import activity_log

    first, second = (factories.PartnerFactory(assigned_to=manager) for _ in range(2))
    base = timezone.now() - timedelta(hours=1)
    Partner.objects.filter(pk=first.pk).update(updated_at=base)
    Partner.objects.filter(pk=second.pk).update(updated_at=base + timedelta(seconds=1))
    _key, secret = make_key(manager)
    page = client.get(f"{PARTNERS}?limit=2", **bearer(secret)).json()
    assert [row["id"] for row in page["results"]] == [first.pk, second.pk] and page["next_cursor"] is None
    last_seen = page["results"][-1]["updated_at"]
    activity_log(partner=first, by=manager, kind=Activity.Kind.CALL, start_at=timezone.now() - timedelta(minutes=5))
    since = last_seen.replace("+", "%2B")
    rows = client.get(f"{PARTNERS}?updated_since={since}", **bearer(secret)).json()["results"]
    assert [row["id"] for row in rows][-1] == first.pk
    assert rows[-1]["last_engaged_at"] is not None
