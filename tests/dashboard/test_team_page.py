"""The team dashboard page (dashboard/team.py, /team/) and its CSV exports: managers only, the ?rep= filter, figures
linking to the partner list filtered to what they count, formula-safe exports, the query budget."""

import csv
import io
import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse
from django.utils import timezone

from insights.team_refresh import team_figures_refresh
from partners.models import Tier
from tests import factories
from tests.insights import team_data

pytestmark = pytest.mark.django_db
TEAM = reverse("team")


@pytest.fixture
def data(rep, other_rep):
    built = team_data.build(rep, other_rep)
    team_figures_refresh()
    return built


def export(client, table, **params):
    response = client.get(reverse("team_export", kwargs={"table": table}), params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def links(html):
    return [unescape(href) for href in re.findall(r'href="([^"]+)"', html)]


def listed_names(client, url):
    """The partner names the filtered partner list shows at ``url``."""
    response = client.get(url)
    assert response.status_code == 200
    return sorted(p.name for p in response.context["page"].rows)


def test_reps_and_anonymous_get_no_team_page(rep_client, data):
    assert rep_client.get(TEAM).status_code == 404
    assert rep_client.get(reverse("team_export", kwargs={"table": "movers"})).status_code == 404


def test_anonymous_is_sent_to_login(client):
    response = client.get(TEAM)
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_manager_sees_the_figures(manager_client, data):
    response = manager_client.get(TEAM)
    assert response.status_code == 200
    html = response.content.decode()
    context = response.context
    assert context["totals"] == {"partners": 5, "inactive": 1, "active": 4}
    assert sorted((row.rep.username, row.coverage.percent, row.coverage.overdue) for row in context["rep_rows"]) == [
        ("rep1", 50, 2), ("rep2", 50, 0)]  # (ordered by name: the factory's names are random)
    assert "Plat late" in html and "Plat engaged" in html  # the movers
    assert "figures as of" in html  # how fresh the pre-aggregated figures are
    assert 'data-team-chart="team-chart-coverage"' in html and 'id="team-chart-inactive"' in html
    assert f'href="{TEAM}" aria-current="page"' in html  # the "Team" link of the main navigation


def test_manager_navigation_has_team_link_elsewhere_rep_does_not(manager_client, rep, client):
    assert f'href="{TEAM}"' in manager_client.get(reverse("partners:list")).content.decode()
    client.force_login(rep)
    assert f'href="{TEAM}"' not in client.get(reverse("partners:list")).content.decode()


def test_without_nightly_figures_the_page_says_so(manager_client, rep, other_rep):
    team_data.build(rep, other_rep)
    html = manager_client.get(TEAM).content.decode()
    assert "have not been computed yet" in html


def test_rep_filter_narrows_every_figure(manager_client, data):
    response = manager_client.get(TEAM, {"rep": "rep2"})
    context = response.context
    assert context["rep"].username == "rep2"
    assert context["totals"]["partners"] == 2
    assert [row.rep.username for row in context["rep_rows"]] == ["rep2"]
    assert context["drops"] == [] and context["rises"] == []
    partner_links = [href for href in links(response.content.decode()) if href.startswith(reverse("partners:list"))
                     and "?" in href]
    assert partner_links and all(parse_qs(urlparse(h).query).get("assigned_to") == ["rep2"] for h in partner_links)


def test_unknown_rep_shows_everyone_with_a_message(manager_client, data):
    response = manager_client.get(TEAM, {"rep": "nobody"})
    assert response.context["rep"] is None and response.context["totals"]["partners"] == 5
    assert "There is no user with that username" in response.content.decode()


def test_figures_link_to_the_partners_they_count(manager_client, data):
    context = manager_client.get(TEAM).context
    platinum = next(row for row in context["tier_rows"] if row["tier"] and row["tier"].name == "Platinum")
    gold = next(row for row in context["tier_rows"] if row["tier"] and row["tier"].name == "Gold")
    assert listed_names(manager_client, platinum["state_urls"]["active"]) == ["Plat engaged", "Plat late"]
    assert listed_names(manager_client, gold["state_urls"]["inactive"]) == ["Gold gone"]
    # Coverage's complement: the tier's active partners not engaged within its frequency.
    assert listed_names(manager_client, platinum["not_engaged_url"]) == ["Plat late"]
    assert platinum["coverage"].not_engaged == 1
    rep1 = next(row for row in context["rep_rows"] if row.rep.username == "rep1")
    assert listed_names(manager_client, rep1.overdue_url) == ["Gold gone", "Plat late"]
    assert len(listed_names(manager_client, rep1.url)) == rep1.coverage.partners
    assert listed_names(manager_client, context["inactive_url"]) == ["Gold gone"]
    assert listed_names(manager_client, context["overdue_url"]) == ["Gold gone", "Plat late"]
    html = manager_client.get(TEAM).content.decode()
    assert reverse("partners:detail", args=[data.plat_late.pk]) in html  # a mover links to its partner


def test_query_budget_is_constant(manager_client, data, django_assert_num_queries, rep):
    for n in range(20):  # more partners, reps and movers: the same queries
        other = factories.rep_user(username=f"extra{n}")
        factories.PartnerFactory(assigned_to=other, tier=Tier.objects.get(name="Silver"))
    team_figures_refresh()
    # 1. session, 2. user (the test client's login), 3. whether the user sees all partners, 4. tiers, 5. active
    # parameters, 6. reps (names and the filter), 7. partners by tier × state, coverage, overdue (GROUPING SETS),
    # 8. status changes per month, 9. attainment (pre-aggregate), 10. largest drops, 11. largest rises.
    with django_assert_num_queries(11):
        response = manager_client.get(TEAM)
    assert response.status_code == 200
    with django_assert_num_queries(11):  # the same with ?rep=
        assert manager_client.get(TEAM, {"rep": "rep1"}).status_code == 200


def test_csv_exports_are_scoped(manager_client, data):
    coverage = export(manager_client, "coverage")
    assert coverage[0][:3] == ["Rep", "Username", "Partners"]
    assert sorted(row[1] for row in coverage[1:3]) == ["rep1", "rep2"]
    assert [row[0] for row in coverage[3:]] == ["Tier: Platinum", "Tier: Gold", "Tier: Silver"]
    assert sorted(row[1:4] for row in export(manager_client, "overdue")[1:]) == [["rep1", "3", "2"], ["rep2", "2", "0"]]
    assert [row[1] for row in export(manager_client, "overdue", rep="rep2")[1:]] == ["rep2"]
    attainment = export(manager_client, "attainment")
    platinum_now = next(row for row in attainment if row[2] == "Platinum" and row[4] == "no")
    assert platinum_now[0] == "Revenue" and platinum_now[5:9] == ["1", "1000", "500", "50"]
    movers = export(manager_client, "movers")
    assert [(row[0], row[1], row[-1]) for row in movers[1:]] == [("Drop", "Plat late", "-600"),
                                                                  ("Rise", "Plat engaged", "700")]
    assert export(manager_client, "movers", rep="rep2")[1:] == []


def test_csv_export_neutralises_formulas(manager_client, data, rep):
    data.plat_late.name = '=HYPERLINK("http://evil.example","x")'
    data.plat_late.save(update_fields=["name"])
    rep.first_name, rep.last_name = "+cmd", "|calc"
    rep.save(update_fields=["first_name", "last_name"])
    movers = export(manager_client, "movers")
    assert movers[1][1] == "'" + data.plat_late.name
    assert movers[1][4] == "'+cmd |calc"
    assert export(manager_client, "coverage")[1][0] == "'+cmd |calc"


def test_unknown_export_is_404(manager_client, data):
    assert manager_client.get("/team/export/secrets.csv").status_code == 404


def test_partners_engaged_long_ago_are_not_covered(manager_client, rep):
    factories.PartnerFactory(name="Old", assigned_to=rep, tier=Tier.objects.get(name="Gold"),
                             last_engaged_at=timezone.now() - timedelta(days=15))
    context = manager_client.get(TEAM).context
    assert context["rep_rows"][0].coverage.percent == 0  # Gold: every 14 days


@pytest.mark.django_db
def test_a_manager_finds_team_in_the_navigation_on_every_page_a_rep_does_not(client):
    manager, rep = factories.manager_user(username="boss"), factories.rep_user(username="ann")
    client.force_login(manager)  # force_login sends user_logged_in, as the login form does
    assert 'href="/team/"' in client.get("/settings/").content.decode()
    assert 'href="/team/"' in client.get("/notifications/").content.decode()
    client.force_login(rep)
    assert 'href="/team/"' not in client.get("/settings/").content.decode()
