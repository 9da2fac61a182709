"""GET /api/v1/parameters/, /targets/, /achievements/ (api.figures): visibility through
business.selectors.figures_visible_to, filters, cursor paging and query counts."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from business.models import Achievement, Parameter, Target
from tests import factories

pytestmark = pytest.mark.django_db
TARGETS = "/api/v1/targets/"
ACHIEVEMENTS = "/api/v1/achievements/"
FIGURES = ["figures:read"]


def read_all(client, url, headers, query="", limit=3):
    seen, cursor = [], None
    for _ in range(200):
        response = client.get(f"{url}?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else ""), **headers)
        assert response.status_code == 200, response.content
        body = response.json()
        seen += body["results"]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("endless paging")


def test_parameters(client, rep, make_key, bearer):
    Parameter.objects.create(code="nps", name="NPS", unit="%", frequency="quarterly", is_active=False)
    _key, secret = make_key(rep, scopes=FIGURES)
    body = client.get("/api/v1/parameters/", **bearer(secret)).json()
    rows = {row["code"]: row for row in body["results"]}
    assert {"leads_generated", "leads_converted", "revenue", "nps"} <= set(rows)
    assert rows["revenue"]["source"] == "computed" and rows["revenue"]["is_system"] is True
    assert rows["nps"] == {**rows["nps"], "unit": "%", "frequency": "quarterly", "source": "uploaded",
                           "is_active": False}
    assert body["next_cursor"] is None


def test_shapes_and_visibility(client, rep, other_rep, make_key, bearer):
    mine = factories.PartnerFactory(assigned_to=rep)
    theirs = factories.PartnerFactory(assigned_to=other_rep)
    target = factories.TargetFactory(partner=mine, period_start=date(2026, 3, 1), value=Decimal("1000.5"))
    factories.TargetFactory(partner=theirs, period_start=date(2026, 3, 1))
    achievement = factories.AchievementFactory(partner=mine, period_start=date(2026, 3, 1), source="upload")
    factories.AchievementFactory(partner=theirs, period_start=date(2026, 3, 1))
    _key, secret = make_key(rep, scopes=FIGURES)
    targets = read_all(client, TARGETS, bearer(secret))
    assert [row["id"] for row in targets] == [target.pk]
    assert targets[0] == {
        "id": target.pk, "partner": mine.pk, "partner_code": mine.code, "parameter": "revenue", "period": "2026-03",
        "period_start": "2026-03-01", "value": "1000.5000", "upload_batch": None, "set_by": rep.pk,
        "updated_at": targets[0]["updated_at"],
    }
    achievements = read_all(client, ACHIEVEMENTS, bearer(secret))
    assert [(row["id"], row["source"]) for row in achievements] == [(achievement.pk, "upload")]
    # Another rep's partner, by id or code: nothing.
    for value in (theirs.pk, theirs.code):
        assert read_all(client, TARGETS, bearer(secret), query=f"&partner={value}") == []


def test_filters(client, manager, make_key, bearer):
    quarterly = Parameter.objects.create(code="nps", name="NPS", unit="%", frequency="quarterly")
    a, b = factories.PartnerFactory(code="P-A"), factories.PartnerFactory(code="12345")
    rows = {
        "a_jan": factories.AchievementFactory(partner=a, period_start=date(2026, 1, 1), source="computed"),
        "a_apr": factories.AchievementFactory(partner=a, period_start=date(2026, 4, 1), source="api"),
        "b_jun": factories.AchievementFactory(partner=b, period_start=date(2026, 6, 1), source="upload"),
        "b_q2": factories.AchievementFactory(partner=b, parameter=quarterly, period_start=date(2026, 4, 1),
                                             source="upload"),
    }
    Achievement.objects.filter(pk=rows["a_jan"].pk).update(updated_at=timezone.now() - timedelta(days=3))
    _key, secret = make_key(manager, scopes=FIGURES)
    headers = bearer(secret)

    def names(query):
        ids = {row["id"] for row in read_all(client, ACHIEVEMENTS, headers, query=query)}
        return sorted(name for name, row in rows.items() if row.pk in ids)

    assert names("") == ["a_apr", "a_jan", "b_jun", "b_q2"]
    assert names("&partner=P-A") == ["a_apr", "a_jan"]
    assert names(f"&partner={a.pk}") == ["a_apr", "a_jan"]
    assert names("&partner=12345") == ["b_jun", "b_q2"]  # a code made of digits works too
    assert names("&parameter=nps") == ["b_q2"]
    assert names("&period_from=2026-04") == ["a_apr", "b_jun", "b_q2"]
    assert names("&period_to=2026-Q1") == ["a_jan"]
    assert names("&period_from=2026-Q2&period_to=2026-05") == ["a_apr", "b_q2"]
    assert names("&period_to=2026-04-01") == ["a_apr", "a_jan", "b_q2"]
    assert names("&source=upload") == ["b_jun", "b_q2"]
    since = (timezone.now() - timedelta(days=1)).isoformat().replace("+", "%2B")
    assert names(f"&updated_since={since}") == ["a_apr", "b_jun", "b_q2"]
    quarter = [row for row in read_all(client, ACHIEVEMENTS, headers, query="&parameter=nps")]
    assert quarter[0]["period"] == "2026-Q2"
    for query in ("period_from=2026-13", "period_to=2026-Q5", "period_from=0000-01", "source=magic",
                  "parameter=not%20a%20slug", "updated_since=soon", "limit=0", "cursor=x"):
        response = client.get(f"{ACHIEVEMENTS}?{query}", **headers)
        assert response.status_code == 400, query
        assert response.json()["errors"][0]["field"] == query.split("=")[0]
    assert client.get(f"{TARGETS}?source=api", **headers).status_code == 200  # targets have no source: ignored


def test_cursor_paging_while_figures_change(client, manager, make_key, bearer):
    partner = factories.PartnerFactory()
    targets = [factories.TargetFactory(partner=partner, period_start=date(2025, month, 1)) for month in range(1, 9)]
    base = timezone.now() - timedelta(hours=1)
    for index, target in enumerate(targets):
        Target.objects.filter(pk=target.pk).update(updated_at=base + timedelta(seconds=index))
    _key, secret = make_key(manager, scopes=FIGURES)
    headers = bearer(secret)
    page = client.get(f"{TARGETS}?limit=3", **headers).json()
    seen = [row["id"] for row in page["results"]]
    for target in (targets[0], targets[5]):  # one read already, one not yet
        Target.objects.filter(pk=target.pk).update(value=Decimal("5"), updated_at=timezone.now())
    cursor = page["next_cursor"]
    while cursor:
        page = client.get(f"{TARGETS}?limit=3&cursor={cursor}", **headers).json()
        seen += [row["id"] for row in page["results"]]
        cursor = page["next_cursor"]
    assert sorted(set(seen)) == sorted(t.pk for t in targets)
    assert seen.count(targets[0].pk) == 2 and seen.count(targets[5].pk) == 1
    assert seen[-2:] == [targets[0].pk, targets[5].pk]


@pytest.mark.parametrize("url", [TARGETS, ACHIEVEMENTS])
@pytest.mark.parametrize("page", [1, 2])
def test_query_count_per_page(client, make_key, bearer, django_assert_num_queries, url, page):
    rep = factories.rep_user(username="rep-q")
    for _n in range(4):
        partner = factories.PartnerFactory(assigned_to=rep)
        for month in (1, 2):
            factories.TargetFactory(partner=partner, period_start=date(2026, month, 1))
            factories.AchievementFactory(partner=partner, period_start=date(2026, month, 1))
    _key, secret = make_key(rep, scopes=FIGURES)
    headers = bearer(secret)
    first = client.get(f"{url}?limit=3", **headers).json()
    query = f"{url}?limit=3" + (f"&cursor={first['next_cursor']}" if page == 2 else "")
    # 1. the API key and its owner
    # 2. the rate window
    # 3. the owner's visibility (user_sees_all_partners)
    # 4. the page's rows with partner code and parameter joined (LIMIT 4)
    with django_assert_num_queries(4):
        body = client.get(query, **headers).json()
    assert len(body["results"]) == 3


def test_scopes(client, rep, make_key, bearer):
    _key, partners_only = make_key(rep, scopes=["partners:read"])
    for url in ("/api/v1/parameters/", TARGETS, ACHIEVEMENTS):
        response = client.get(url, **bearer(partners_only))
        assert response.status_code == 403 and "figures:read" in response.json()["detail"]


def test_session_user(client, rep, other_rep):
    mine = factories.TargetFactory(partner=factories.PartnerFactory(assigned_to=rep))
    factories.TargetFactory(partner=factories.PartnerFactory(assigned_to=other_rep))
    client.force_login(rep)
    assert [row["id"] for row in client.get(TARGETS).json()["results"]] == [mine.pk]


def test_the_schema_documents_the_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/parameters/", "/api/v1/targets/", "/api/v1/achievements/", "/api/v1/targets/bulk",
            "/api/v1/achievements/bulk", "/api/v1/deals/", "/api/v1/deals/{id}/", "/api/v1/deals/{id}/decision"
            } <= set(paths)
    params = {p["name"] for p in paths["/api/v1/achievements/"]["get"]["parameters"]}
    assert {"partner", "parameter", "period_from", "period_to", "source", "updated_since", "cursor", "limit"} <= params
    bulk = paths["/api/v1/achievements/bulk"]["post"]
    assert {"200", "400", "403", "413", "422"} <= set(bulk["responses"])
    assert {p["name"] for p in bulk["parameters"]} >= {"Idempotency-Key", "dry_run"}
