"""The partner list and partner page: rendering, filters, sorting, visibility and query counts."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from activities import services as activity_services
from activities.models import Activity
from business import periods
from business.models import Target
from partners.models import ContactPoint, Partner
from partners.services import partner_set_status
from tests import factories

pytestmark = pytest.mark.django_db

LIST_URL = reverse("partners:list")


def detail_url(partner):
    return reverse("partners:detail", args=[partner.pk])


def names_in(response):
    return [partner.name for partner in response.context["partners"]]


# --- Access ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url_name, args", [("partners:list", []), ("partners:detail", [1])])
def test_pages_need_login(client, url_name, args):
    response = client.get(reverse(url_name, args=args))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_rep_sees_only_their_partners(rep_client, rep, other_rep):
    factories.PartnerFactory(name="Mine", assigned_to=rep)
    factories.PartnerFactory(name="Theirs", assigned_to=other_rep)
    response = rep_client.get(LIST_URL)
    assert response.status_code == 200
    assert names_in(response) == ["Mine"]
    assert "assigned_to" not in response.context["filterset"].form.fields


def test_manager_sees_all_partners_and_can_filter_by_rep(manager_client, rep, other_rep):
    factories.PartnerFactory(name="A", assigned_to=rep)
    factories.PartnerFactory(name="B", assigned_to=other_rep)
    response = manager_client.get(LIST_URL)
    assert names_in(response) == ["A", "B"]
    # "Assigned to" is a text input whose suggestions (a <datalist>) are fetched when the field is first used: the
    # page itself carries no option list.
    html = response.content.decode()
    assert 'name="assigned_to"' in html and 'list="assignee-options"' in html
    assert '<datalist id="assignee-options"></datalist>' in html and "rep2" not in html
    assert 'data-options-url="/partners/assignees/"' in html
    options = manager_client.get("/partners/assignees/").json()["options"]
    assert {"value": "rep2", "label": other_rep.get_full_name() or "rep2"} in options
    assert names_in(manager_client.get(LIST_URL, {"assigned_to": other_rep.username})) == ["B"]
    assert names_in(manager_client.get(LIST_URL, {"assigned_to": " rep2 "})) == ["B"]
    assert names_in(manager_client.get(LIST_URL, {"assigned_to": "nobody-by-that-name"})) == []
    other_rep.first_name, other_rep.last_name = "Priya", "Sharma"
    other_rep.save()
    assert names_in(manager_client.get(LIST_URL, {"assigned_to": "priya sharma"})) == ["B"]  # the name suggested


def test_rep_cannot_widen_the_list_with_assigned_to(rep_client, rep, other_rep):
    factories.PartnerFactory(name="Mine", assigned_to=rep)
    factories.PartnerFactory(name="Theirs", assigned_to=other_rep)
    assert names_in(rep_client.get(LIST_URL, {"assigned_to": other_rep.username})) == ["Mine"]


def test_detail_of_another_reps_partner_is_404(rep_client, other_rep):
    partner = factories.PartnerFactory(assigned_to=other_rep)
    assert rep_client.get(detail_url(partner)).status_code == 404
    assert rep_client.post(detail_url(partner)).status_code in (404, 405)


def test_manager_sees_any_partner_page(manager_client, rep):
    partner = factories.PartnerFactory(assigned_to=rep)
    assert manager_client.get(detail_url(partner)).status_code == 200


def test_list_and_detail_refuse_post(rep_client, rep):
    partner = factories.PartnerFactory(assigned_to=rep)
    assert rep_client.post(LIST_URL).status_code == 405
    assert rep_client.post(detail_url(partner)).status_code == 405


# --- Filters --------------------------------------------------------------------------------------------------------


def test_search_by_name_code_phone_and_email(rep_client, rep):
    alpha = factories.PartnerFactory(name="Alpha Traders", code="ALP-1", assigned_to=rep)
    beta = factories.PartnerFactory(name="Beta Stores", code="BET-2", assigned_to=rep)
    factories.ContactPointFactory(partner=alpha, kind=ContactPoint.Kind.MOBILE, value="+91 98765 43210")
    factories.ContactPointFactory(partner=beta, kind=ContactPoint.Kind.EMAIL, value="owner@beta.example")
    assert names_in(rep_client.get(LIST_URL, {"q": "alpha"})) == ["Alpha Traders"]
    assert names_in(rep_client.get(LIST_URL, {"q": "bet-2"})) == ["Beta Stores"]
    assert names_in(rep_client.get(LIST_URL, {"q": "98765"})) == ["Alpha Traders"]
    assert names_in(rep_client.get(LIST_URL, {"q": "OWNER@beta"})) == ["Beta Stores"]
    assert names_in(rep_client.get(LIST_URL, {"q": "nothing-like-it"})) == []


def test_search_does_not_find_another_reps_partner_by_contact(rep_client, rep, other_rep):
    theirs = factories.PartnerFactory(name="Theirs", assigned_to=other_rep)
    factories.ContactPointFactory(partner=theirs, kind=ContactPoint.Kind.MOBILE, value="+91 11111 22222")
    assert names_in(rep_client.get(LIST_URL, {"q": "11111"})) == []


def test_manager_search_alone_and_with_other_filters(manager_client, rep, other_rep):
    """The search document holds name, code and contact values: the same answers alone or with other filters."""
    gold, silver = factories.tier("Gold"), factories.tier("Silver")
    mine = factories.PartnerFactory(name="Mine", assigned_to=rep, tier=gold)
    theirs = factories.PartnerFactory(name="Theirs", assigned_to=other_rep, tier=silver)
    factories.ContactPointFactory(partner=mine, kind=ContactPoint.Kind.EMAIL, value="desk@harbor.example")
    factories.ContactPointFactory(partner=theirs, kind=ContactPoint.Kind.EMAIL, value="sales@harbor.example")
    factories.PartnerFactory(name="Harbor Stores", assigned_to=other_rep, tier=gold)
    assert names_in(manager_client.get(LIST_URL, {"q": "harbor"})) == ["Harbor Stores", "Mine", "Theirs"]
    assert names_in(manager_client.get(LIST_URL, {"q": "harbor", "tier": gold.pk})) == ["Harbor Stores", "Mine"]
    assert names_in(manager_client.get(LIST_URL, {"q": "sales@", "tier": gold.pk})) == []
    assert names_in(manager_client.get(LIST_URL, {"q": "harbor", "assigned_to": "rep2"})) == ["Harbor Stores", "Theirs"]
    assert manager_client.get(LIST_URL, {"q": "harbor"}).context["page"].count == 3


def test_assignee_suggestions_are_json_for_managers_only(client, manager, rep):
    """The suggestions are JSON (the script sets them as text, never as HTML) and only a manager's list has them."""
    factories.rep_user(username="rep9", first_name="<script>alert(1)</script>", last_name="O'Neil & Co")
    client.force_login(manager)
    response = client.get("/partners/assignees/")
    assert response["Content-Type"] == "application/json"
    assert {"value": "rep9", "label": "<script>alert(1)</script> O'Neil & Co"} in response.json()["options"]
    assert "<script>alert(1)" not in client.get(LIST_URL).content.decode()
    client.force_login(rep)
    assert client.get("/partners/assignees/").status_code == 404


def test_filter_by_tier_and_state(rep_client, rep):
    factories.PartnerFactory(name="Gold active", tier=factories.tier("Gold"), assigned_to=rep)
    silver = factories.PartnerFactory(name="Silver inactive", tier=factories.tier("Silver"), assigned_to=rep)
    partner_set_status(partner=silver, status=Partner.Status.INACTIVE, reason="closed", by=rep)
    silver_id = factories.tier("Silver").pk
    assert names_in(rep_client.get(LIST_URL, {"tier": silver_id})) == ["Silver inactive"]
    assert names_in(rep_client.get(LIST_URL, {"status": "active"})) == ["Gold active"]
    assert names_in(rep_client.get(LIST_URL, {"status": "inactive", "tier": silver_id})) == ["Silver inactive"]


def test_filter_overdue_only(rep_client, rep):
    now = timezone.now()
    factories.PartnerFactory(name="Late", assigned_to=rep, engagement_due_at=now - timedelta(days=1))
    factories.PartnerFactory(name="Fine", assigned_to=rep, engagement_due_at=now + timedelta(days=3))
    factories.PartnerFactory(name="No tier", assigned_to=rep, tier=None, engagement_due_at=None)
    response = rep_client.get(LIST_URL, {"overdue": "on"})
    assert names_in(response) == ["Late"]
    assert b"overdue" in response.content
    assert len(names_in(rep_client.get(LIST_URL))) == 3


def test_filter_not_engaged_since(rep_client, rep):
    now = timezone.now()
    factories.PartnerFactory(name="Recent", assigned_to=rep, last_engaged_at=now - timedelta(days=2))
    factories.PartnerFactory(name="Old", assigned_to=rep, last_engaged_at=now - timedelta(days=40))
    factories.PartnerFactory(name="Never", assigned_to=rep, last_engaged_at=None)
    since = (now - timedelta(days=10)).date().isoformat()
    assert names_in(rep_client.get(LIST_URL, {"not_engaged_since": since, "sort": "name"})) == ["Never", "Old"]


def test_invalid_filter_value_shows_an_error_not_a_crash(rep_client, rep):
    factories.PartnerFactory(assigned_to=rep)
    response = rep_client.get(LIST_URL, {"not_engaged_since": "not-a-date", "tier": "999999"})
    assert response.status_code == 200
    assert response.context["filterset"].form.errors


# --- Sorting and pagination ----------------------------------------------------------------------------------------


def test_sort_by_last_engagement_with_id_tie_breaker(rep_client, rep):
    when = timezone.now() - timedelta(days=5)
    first = factories.PartnerFactory(name="Z same", assigned_to=rep, last_engaged_at=when)
    second = factories.PartnerFactory(name="A same", assigned_to=rep, last_engaged_at=when)
    latest = factories.PartnerFactory(name="Latest", assigned_to=rep, last_engaged_at=when + timedelta(days=1))
    response = rep_client.get(LIST_URL, {"sort": "-last_engaged"})
    assert [p.pk for p in response.context["partners"]] == [latest.pk, second.pk, first.pk]
    response = rep_client.get(LIST_URL, {"sort": "last_engaged"})
    assert [p.pk for p in response.context["partners"]][:2] == [first.pk, second.pk]


def test_sort_by_tier_and_state_and_unknown_sort(rep_client, rep):
    factories.PartnerFactory(name="S", tier=factories.tier("Silver"), assigned_to=rep)
    factories.PartnerFactory(name="P", tier=factories.tier("Platinum"), assigned_to=rep)
    assert names_in(rep_client.get(LIST_URL, {"sort": "tier"})) == ["P", "S"]
    assert names_in(rep_client.get(LIST_URL, {"sort": "-tier"})) == ["S", "P"]
    response = rep_client.get(LIST_URL, {"sort": "password"})
    assert response.status_code == 200
    assert names_in(response) == ["P", "S"]


def test_pagination_and_sort_links_keep_the_filters(rep_client, rep):
    for number in range(30):
        factories.PartnerFactory(name=f"Shop {number:02d}", assigned_to=rep, tier=factories.tier("Gold"))
    gold = factories.tier("Gold").pk
    response = rep_client.get(LIST_URL, {"q": "shop", "tier": gold, "sort": "-name"})
    page = response.context["page"]
    assert page.count == 30 and page.num_pages == 2 and len(response.context["partners"]) == 25
    assert names_in(response)[0] == "Shop 29"
    html = response.content.decode()
    assert f"?q=shop&amp;tier={gold}&amp;sort=-name&amp;page=2" in html
    # Header links: the filters stay, the page resets, the direction of the current sort flips.
    assert f'href="?q=shop&amp;tier={gold}&amp;sort=name"' in html
    assert f'href="?q=shop&amp;tier={gold}&amp;sort=last_engaged"' in html
    page2 = rep_client.get(LIST_URL, {"q": "shop", "tier": gold, "sort": "-name", "page": 2})
    assert names_in(page2) == [f"Shop {n:02d}" for n in range(4, -1, -1)]


# --- Row content ----------------------------------------------------------------------------------------------------


def test_row_has_quick_actions_to_primary_contacts_and_location(rep_client, rep):
    partner = factories.PartnerFactory(name="Quick", assigned_to=rep)
    factories.ContactPointFactory(partner=partner, kind=ContactPoint.Kind.MOBILE, value="+91 98 7654 3210", is_primary=True)
    factories.ContactPointFactory(partner=partner, kind=ContactPoint.Kind.MOBILE, value="+91 00 0000 0000")
    factories.ContactPointFactory(partner=partner, kind=ContactPoint.Kind.EMAIL, value="a@quick.example", is_primary=True)
    factories.ContactPointFactory(partner=partner, kind=ContactPoint.Kind.WHATSAPP, value="+44 7700 900123", is_primary=True)
    factories.LocationFactory(partner=partner, is_primary=True, latitude=Decimal("12.5"), longitude=Decimal("77.25"))
    html = rep_client.get(LIST_URL).content.decode()
    assert 'href="tel:+919876543210"' in html
    assert 'href="sms:+919876543210"' in html
    assert 'href="https://wa.me/447700900123"' in html
    assert 'href="mailto:a@quick.example"' in html
    assert "https://www.google.com/maps/search/?api=1&amp;query=12.500000%2C77.250000" in html
    assert "00 0000 0000" not in html  # only the primary contacts are used


def test_user_text_is_escaped(rep_client, rep):
    factories.PartnerFactory(name="<script>alert(1)</script>", assigned_to=rep)
    html = rep_client.get(LIST_URL).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_quick_action_values_are_escaped(rep_client, rep):
    partner = factories.PartnerFactory(name='Q"><b>x</b>', assigned_to=rep)
    factories.ContactPointFactory(partner=partner, kind=ContactPoint.Kind.EMAIL, value='"><script>e()</script>',
                                  is_primary=True)
    factories.LocationFactory(partner=partner, label='"><script>l()</script>', is_primary=True)
    html = rep_client.get(LIST_URL).content.decode()
    assert "<script>e()" not in html and "<script>l()" not in html and "<b>x</b>" not in html
    assert 'href="mailto:&#34;&gt;&lt;script&gt;e()&lt;/script&gt;"' in html  # markupsafe's escaping


def test_completion_column_comes_from_the_business_selector(rep_client, rep):
    with_target = factories.PartnerFactory(name="Has target", assigned_to=rep)
    factories.PartnerFactory(name="No target", assigned_to=rep)
    this_month = timezone.localdate().replace(day=1)
    factories.TargetFactory(partner=with_target, parameter=factories.parameter("revenue"), period_start=this_month,
                            value=Decimal("1000"))
    factories.AchievementFactory(partner=with_target, parameter=factories.parameter("revenue"),
                                 period_start=this_month, value=Decimal("734"))
    response = rep_client.get(LIST_URL)
    rows = {p.name: p.completion for p in response.context["partners"]}
    elapsed, total = periods.elapsed_days(this_month, "monthly", periods.org_today())
    pace = (Decimal(734) * 100 * total / (1000 * elapsed)).quantize(Decimal("1"))  # of what is due by today
    assert rows == {"Has target": {"parameter": "Revenue", "percent": Decimal("73"), "pace": pace,
                                   "on_pace": pace >= 100}, "No target": None}
    html = response.content.decode()
    assert f"{'on pace' if pace >= 100 else 'behind'} {pace}%" in html and "Revenue" in html
    assert "73% of target so far" in html  # the plain completion, labelled


def test_add_partner_button_is_on_the_list(rep_client):
    html = rep_client.get(LIST_URL).content.decode()
    assert html.count(f'href="{reverse("partners:create")}"') == 2  # header button and the floating one (phone)


# --- Query counts ---------------------------------------------------------------------------------------------------


def make_list_rows(rep, count):
    tiers = [factories.tier(name) for name in ("Platinum", "Gold", "Silver")]
    for number in range(count):
        factories.partner_with_contacts(assigned_to=rep, tier=tiers[number % 3])


def count_queries(client, url, data=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, data or {})
    assert response.status_code == 200
    return len(queries)


def test_list_query_count_is_fixed(rep_client, rep, django_assert_num_queries):
    make_list_rows(rep, 60)
    # 1. session, 2. user (login), 3. whether the user sees all partners (one permission query, visibility rule),
    # 4. tiers (validates ?tier= and fills its <select>), 5. COUNT for the paginator, 6. the page of partners with
    # tier, assigned_to, primary contacts and primary location (one query with JOINs and subqueries),
    # 7. this period's target completion of the page's partners (business), 8. how each row's partner is usually
    # reached (activities.selectors.channels_detected: one query for the page's rows).
    with django_assert_num_queries(8):
        response = rep_client.get(LIST_URL, {"sort": "-tier"})
    assert len(response.context["partners"]) == 25


def test_list_query_count_for_a_manager_with_filters(manager_client, rep, django_assert_num_queries):
    make_list_rows(rep, 60)
    Partner.objects.update(engagement_due_at=timezone.now() - timedelta(days=1))
    gold = factories.tier("Gold").pk
    # 1. session, 2. user, 3. permission, 4. tiers (validation and <select>), 5. the first 1,001 matching ids (count
    # and the page's ids at once), 6. the page with its primary contacts and location, 7. target completion,
    # 8. the rows' detected channels.
    with django_assert_num_queries(8):
        response = manager_client.get(LIST_URL, {"tier": gold, "q": "partner", "overdue": "on", "assigned_to": "rep1"})
    assert len(response.context["partners"]) == 20


# The pages `manage.py bench` measures, all with rows (the business column's query only runs for a non-empty page).
BENCH_PAGES = [
    {},
    {"tier": "Gold", "overdue": "on"},
    {"sort": "-last_engaged"},
    {"page": "3"},
    {"q": "partner"},
    {"sort": "assigned", "page": "2"},
]


@pytest.mark.parametrize("data", BENCH_PAGES, ids=lambda data: "&".join(f"{k}={v}" for k, v in data.items()) or "first")
@pytest.mark.parametrize("who, expected", [("rep", 8), ("manager", 8)])
def test_list_query_count_on_every_page_including_business_column(client, rep, manager, who, expected, data):
    """At most 8 queries on every list page, business (completion) column included, for reps and managers alike:
    session, user, permission, tiers, the capped ids (count and page), the page's rows, completion, the rows'
    detected channels. (The "Assigned to" suggestions are fetched by the page's script, only when used.)"""
    make_list_rows(rep, 60)
    Partner.objects.filter(pk__in=Partner.objects.order_by("id").values("pk")[:30]).update(
        engagement_due_at=timezone.now() - timedelta(days=1), last_engaged_at=timezone.now() - timedelta(days=40)
    )
    gold = factories.tier("Gold")
    revenue = factories.parameter()
    for partner in Partner.objects.order_by("id")[:40]:  # a target this period: the business column has values
        Target.objects.create(partner=partner, parameter=revenue, value=100,
                              period_start=periods.period_start(timezone.localdate(), revenue.frequency))
    data = {**data, "tier": gold.pk} if "tier" in data else data
    client.force_login(rep if who == "rep" else manager)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST_URL, data)
    assert response.status_code == 200
    assert response.context["partners"], "the page must have rows for the count to mean something"
    assert len(queries) == expected, "\n".join(query["sql"] for query in queries)
    assert len(queries) <= 9


def test_list_query_count_does_not_grow_with_rows_including_business_column(rep_client, rep):
    make_list_rows(rep, 5)
    few = count_queries(rep_client, LIST_URL)
    make_list_rows(rep, 60)
    assert count_queries(rep_client, LIST_URL) == few


# --- Partner page ---------------------------------------------------------------------------------------------------


@pytest.fixture
def full_partner(rep):
    partner = factories.partner_with_contacts(name="Full Partner", assigned_to=rep, tier=factories.tier("Gold"))
    factories.LocationFactory(partner=partner, label="Warehouse", address="12 Dock Road", is_primary=False)
    field = factories.ProfileFieldFactory(key="gst_number", label="GST number")
    Partner.objects.filter(pk=partner.pk).update(profile={field.key: "29ABCDE1234F1Z5"})
    partner.refresh_from_db()
    return partner


def test_detail_shows_everything(rep_client, rep, full_partner):
    partner = full_partner
    now = timezone.now()
    location = partner.locations.get(label="Warehouse")
    activity_services.activity_schedule(
        partner=partner, by=rep, kind=Activity.Kind.MEETING, start_at=now + timedelta(days=2),
        duration_minutes=45, location=location, subject="Quarterly review",
    )
    activity_services.activity_remind(partner=partner, by=rep, start_at=now + timedelta(days=1), subject="Send catalogue")
    activity_services.activity_log(
        partner=partner, by=rep, kind=Activity.Kind.CALL, start_at=now - timedelta(days=3), outcome="Wants a demo"
    )
    factories.LeadFactory(partner=partner, name="Lead Rajan", stage="qualified", expected_value=Decimal("5000.00"))
    factories.CustomerFactory(partner=partner, name="Customer Meera")
    partner_set_status(
        partner=partner, status=Partner.Status.INACTIVE, reason="not engaged for 45 days (Gold: every 14)", by=None,
        set_by=Partner.StatusSetBy.RULE,
    )
    response = rep_client.get(detail_url(partner))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Inactive — not engaged for 45 days (Gold: every 14)" in html
    assert 'class="tier tier-2">Gold<' in html
    assert 'class="qa qa-call" href="tel:' in html and 'class="qa qa-navigate"' in html  # quick actions
    for text in ("Quarterly review", "45 min", "12 Dock Road", "Send catalogue", "Wants a demo", "Lead Rajan",
                 "Qualified", "Customer Meera", "GST number", "29ABCDE1234F1Z5", "Warehouse", 'id="business-card"'):
        assert text in html, text
    contacts = response.context["contacts"]
    assert contacts[0].is_primary and not contacts[-1].is_primary  # primary first
    assert [a.subject for a in response.context["upcoming"]] == ["Quarterly review"]
    assert [a.subject for a in response.context["reminders"]] == ["Send catalogue"]
    assert [a.outcome for a in response.context["past"]] == ["Wants a demo"]
    assert [c.to_status for c in response.context["status_history"]] == ["inactive"]


def test_detail_passes_the_parameter_to_the_business_card(rep_client, rep):
    partner = factories.PartnerFactory(assigned_to=rep)
    this_month = timezone.localdate().replace(day=1)
    for code in ("leads_generated", "revenue"):
        factories.TargetFactory(partner=partner, parameter=factories.parameter(code), period_start=this_month)
    assert rep_client.get(detail_url(partner)).context["trend_parameter"].code == "leads_generated"
    response = rep_client.get(detail_url(partner), {"parameter": "revenue"})
    assert response.context["trend_parameter"].code == "revenue"


def make_history(partner, rep, count):
    now = timezone.now()
    for number in range(count):
        factories.ActivityFactory(partner=partner, start_at=now - timedelta(days=number + 1), outcome=f"o{number}")
        factories.ActivityFactory(
            partner=partner, mode=Activity.Mode.SCHEDULED, status=Activity.Status.PLANNED,
            start_at=now + timedelta(days=number + 1), location=partner.locations.first(),
        )
        factories.ActivityFactory(
            partner=partner, kind=Activity.Kind.TASK, mode=Activity.Mode.REMINDER, status=Activity.Status.PLANNED,
            start_at=now + timedelta(hours=number + 1), subject=f"r{number}",
        )
        factories.LeadFactory(partner=partner)
        factories.TicketFactory(customer=factories.CustomerFactory(partner=partner))  # an open ticket (issue 13)
        partner_set_status(partner=partner, status=["inactive", "active"][number % 2], reason=f"r{number}", by=rep)


def test_detail_query_count_is_fixed(rep_client, rep, full_partner, django_assert_num_queries):
    """The whole partner page, every app's part of it, with long histories and twelve months of figures."""
    make_history(full_partner, rep, 30)
    this_month = timezone.localdate().replace(day=1)
    for months_ago in range(12):
        month = (this_month - timedelta(days=31 * months_ago)).replace(day=1)
        factories.TargetFactory(partner=full_partner, parameter=factories.parameter("revenue"), period_start=month)
        factories.AchievementFactory(partner=full_partner, parameter=factories.parameter("revenue"), period_start=month)
    # 1. session, 2. user, 3. permission (visibility), 4. the partner with tier and assigned_to,
    # partners: 5. contact points, 6. locations, 7. status history with who, 8. profile fields;
    # activities: 9. planned engagements with location, 10. planned reminders, 11. past activities with location
    # and owner; leads: 12. leads, 13. customers;
    # business: 14. active parameters, 15. targets of the card's and the trend's periods, 16. achievements of the same;
    # insights (issue 12, within the page's budget + 2): 17. the top insights with their rule ("What to do next"),
    # 18. the tier's expected business bands shown on the business card (insights.tier_review);
    # issue 13 (+1 each): 19. its customers' open tickets with customer and assignee (service.selectors
    # .partner_open_tickets), 20. leads generated and converted per period (business.charts.partner_leads_trend);
    # issue 14: 21. the profile update waiting for approval (portal.profile_selectors.profile_update_pending).
    with django_assert_num_queries(21):
        response = rep_client.get(detail_url(full_partner))
    assert len(response.context["past"]) == 20 and response.context["past_more"]
    assert len(response.context["leads"]) == 20 and response.context["leads_more"]


def test_detail_query_count_does_not_grow_with_history(rep_client, rep, full_partner):
    make_history(full_partner, rep, 2)
    few = count_queries(rep_client, detail_url(full_partner))
    make_history(full_partner, rep, 30)
    assert count_queries(rep_client, detail_url(full_partner)) == few


def test_search_uses_the_search_document_trigram_index(manager):
    """partners/migrations/0006: one trigram GIN index on the search document (the three of 0004 are gone); the
    search's ``LIKE '%…%'`` can use it."""
    from partners.selectors import partner_list

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE %s AND tablename LIKE %s",
                       ["%trgm_idx", "partners_%"])
        assert {row[0] for row in cursor.fetchall()} == {"partner_search_trgm_idx"}
        # Empty tables: make every other access path unattractive, so the plan shows which index *can* serve it.
        for setting in ("enable_seqscan", "enable_indexscan", "enable_indexonlyscan"):
            cursor.execute(f"SET LOCAL {setting} = off")
    plan = partner_list(user=manager, data={"q": "acme"}).explain()
    assert "partner_search_trgm_idx" in plan, plan
