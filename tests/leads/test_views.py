"""The leads pages (dashboard.leads_views): scoping on every verb, the list's filters and paging, the lead page's
actions, creating a lead from a partner's page, bad input, and query counts."""

import html
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from activities.models import Activity
from leads import services as lead_services
from leads.models import Customer, Lead, LeadStageChange
from tests import factories

pytestmark = pytest.mark.django_db

LIST_URL = reverse("leads:list")
XSS = '<script>alert("x")</script>'


def detail_url(lead):
    return reverse("leads:detail", args=[lead.pk])


def names(response):
    return [lead.name for lead in response.context["leads"]]


def messages_of(response):
    """The page's text (messages included), unescaped: ``"…" in messages_of(response)``."""
    return html.unescape(response.content.decode())


def customer_url(customer_id):
    """Where a convert lands: the customer's page when the customers pages are installed, else the lead."""
    try:
        return reverse("customers:detail", args=[customer_id])
    except NoReverseMatch:
        return None


@pytest.fixture
def world(rep, other_rep):
    """rep's partner with a lead, another rep's partner with two leads — one of them assigned to rep (so rep sees it
    without seeing the partner) — and a lead with no partner assigned to the other rep."""
    mine = factories.PartnerFactory(name="My partner", assigned_to=rep)
    theirs = factories.PartnerFactory(name="Their partner", assigned_to=other_rep)
    return {
        "mine": mine,
        "theirs": theirs,
        "my_lead": factories.LeadFactory(name="Mine", partner=mine),
        "their_lead": factories.LeadFactory(name="Theirs", partner=theirs),
        "assigned_to_me": factories.LeadFactory(name="Handed to me", partner=theirs, assigned_to=rep),
        "direct": factories.LeadFactory(name="Direct", partner=None, assigned_to=other_rep),
    }


# --- Access -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/leads/", "/leads/new/", "/leads/1/", "/leads/1/edit/"])
def test_pages_need_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_rep_sees_their_leads_and_their_partners_leads(rep_client, world):
    assert sorted(names(rep_client.get(LIST_URL))) == ["Handed to me", "Mine"]


def test_a_manager_sees_every_lead(manager_client, world):
    assert sorted(names(manager_client.get(LIST_URL))) == ["Direct", "Handed to me", "Mine", "Theirs"]


def test_a_rep_who_gets_a_partner_sees_its_leads(rep_client, rep, world):
    world["theirs"].assigned_to = rep
    world["theirs"].save()
    assert sorted(names(rep_client.get(LIST_URL))) == ["Handed to me", "Mine", "Theirs"]


@pytest.mark.parametrize("action", ["detail", "edit", "move", "convert", "lose"])
def test_another_reps_lead_is_404_on_every_verb(rep_client, world, action):
    lead = world["their_lead"]
    url = reverse(f"leads:{action}", args=[lead.pk])
    data = {"stage": "contacted", "value": "10", "reason": "nope", "name": "Hijacked"}
    if action in ("detail", "edit"):
        assert rep_client.get(url).status_code == 404
    assert rep_client.post(url, data).status_code in (404, 405)  # detail is GET only
    lead.refresh_from_db()
    assert lead.name == "Theirs" and lead.stage == Lead.Stage.NEW
    assert not Customer.objects.exists()
    assert LeadStageChange.objects.filter(lead=lead).count() == 0  # the factory writes no history


@pytest.mark.parametrize("action", ["move", "convert", "lose"])
def test_the_stage_actions_are_post_only(rep_client, world, action):
    assert rep_client.get(reverse(f"leads:{action}", args=[world["my_lead"].pk])).status_code == 405


def test_a_lead_assigned_to_a_rep_opens_without_its_partners_page(rep_client, world):
    response = rep_client.get(detail_url(world["assigned_to_me"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Their partner" in html and reverse("partners:detail", args=[world["theirs"].pk]) not in html
    assert response.context["follow_up_url"] == ""  # activities hang on a partner the rep cannot open
    response = rep_client.get(detail_url(world["my_lead"]))
    assert reverse("partners:detail", args=[world["mine"].pk]) in response.content.decode()


def test_missing_or_huge_ids_are_404(rep_client):
    for url in ["/leads/999999/", "/leads/99999999999999999999999/", "/leads/99999999999999999999999/edit/"]:
        assert rep_client.get(url).status_code == 404


# --- The list: filters, paging ----------------------------------------------------------------------------------------


def make_leads(partner, count, **fields):
    now = timezone.now()
    return Lead.objects.bulk_create(
        Lead(name=f"Lead {number:03d}", partner=partner, assigned_to=partner.assigned_to,
             created_at=now - timedelta(hours=number), **fields)
        for number in range(count)
    )


def test_newest_first_and_paged(rep_client, rep):
    make_leads(factories.PartnerFactory(assigned_to=rep), 60)
    first = rep_client.get(LIST_URL)
    assert names(first)[:2] == ["Lead 000", "Lead 001"] and len(names(first)) == 25
    page = first.context["page"]
    assert (page.count, page.num_pages, page.has_next) == (60, 3, True)
    last = rep_client.get(LIST_URL, {"page": "3"})
    assert names(last)[-1] == "Lead 059" and len(names(last)) == 10
    # past the end: the last page; nonsense: the first
    assert rep_client.get(LIST_URL, {"page": "99"}).context["page"].number == 3
    for nonsense in ("abc", "-1", "0", "1e9", "99999999999999999999999999"):
        response = rep_client.get(LIST_URL, {"page": nonsense})
        assert response.status_code == 200 and response.context["page"].number in (1, 3)


def test_the_count_stops_at_the_cap(rep, other_rep):
    from leads.selectors import lead_list_filter, lead_list_page

    make_leads(factories.PartnerFactory(assigned_to=rep), 30)
    page = lead_list_page(filterset=lead_list_filter(user=rep, data={}), page=1, per_page=5, cap=10)
    assert (page.count, page.count_capped, page.num_pages, page.has_next) == (10, True, None, True)
    last = lead_list_page(filterset=lead_list_filter(user=rep, data={}), page=6, per_page=5, cap=10)
    assert (last.count, last.count_capped, last.has_next) == (30, False, False)  # known on the last page


def test_the_label_says_more_than_the_cap(client, rep, manager):
    make_leads(factories.PartnerFactory(assigned_to=rep), 1002)
    client.force_login(rep)
    assert "1,000+ leads" in client.get(LIST_URL).content.decode()
    client.force_login(manager)
    assert "1,000+ leads" in client.get(LIST_URL, {"stage": "new"}).content.decode()
    # a manager's unfiltered list: the table's size as the planner knows it (after ANALYZE), not a count
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead")
    assert "about 1,002 leads" in client.get(LIST_URL).content.decode()


def test_filter_by_stage(rep_client, rep):
    partner = factories.PartnerFactory(assigned_to=rep)
    for stage in Lead.Stage.values:
        factories.LeadFactory(name=stage, partner=partner, stage=stage)
    assert names(rep_client.get(LIST_URL, {"stage": "won"})) == ["won"]
    assert sorted(names(rep_client.get(LIST_URL, {"stage": "open"}))) == ["contacted", "new", "qualified"]
    response = rep_client.get(LIST_URL, {"stage": "bogus"})
    assert response.status_code == 200 and "stage" in response.context["form"].errors


def test_filter_by_partner_picked_or_searched(rep_client, rep, world):
    other = factories.PartnerFactory(name="Zenith Agro", code="ZEN-1", assigned_to=rep)
    factories.LeadFactory(name="From Zenith", partner=other)
    response = rep_client.get(LIST_URL, {"partner": other.pk})
    assert names(response) == ["From Zenith"]
    assert response.context["picked_partner_name"] == "Zenith Agro"
    assert names(rep_client.get(LIST_URL, {"partner_q": "zenith"})) == ["From Zenith"]
    assert names(rep_client.get(LIST_URL, {"partner_q": "zen-1"})) == ["From Zenith"]
    # another rep's partner: only the lead handed to this rep, and no name for that partner
    response = rep_client.get(LIST_URL, {"partner": world["theirs"].pk})
    assert names(response) == ["Handed to me"]
    assert response.context["picked_partner_name"] == ""
    assert f"partner #{world['theirs'].pk}" in response.content.decode()
    for nonsense in ("abc", "1.5", "-3", "99999999999999999999999"):
        response = rep_client.get(LIST_URL, {"partner": nonsense})
        assert response.status_code == 200 and "partner" in response.context["form"].errors


def test_filter_by_assignee(manager_client, rep, other_rep, world):
    other_rep.first_name, other_rep.last_name = "Priya", "Sharma"
    other_rep.save()
    assert sorted(names(manager_client.get(LIST_URL, {"assigned_to": "rep2"}))) == ["Direct", "Theirs"]
    assert sorted(names(manager_client.get(LIST_URL, {"assigned_to": " priya  SHARMA "}))) == ["Direct", "Theirs"]
    response = manager_client.get(LIST_URL, {"assigned_to": "nobody"})
    assert names(response) == [] and response.context["page"].count == 0
    html = manager_client.get(LIST_URL).content.decode()
    assert 'data-options-url="/partners/assignees/"' in html and '<datalist id="assignee-options">' in html


def test_assigned_to_me(rep_client, rep, world):
    factories.LeadFactory(name="Mine but theirs to work", partner=world["mine"], assigned_to=world["theirs"].assigned_to)
    assert sorted(names(rep_client.get(LIST_URL, {"mine": "on"}))) == ["Handed to me", "Mine"]


def local(year, month, day, hour=12):
    return timezone.make_aware(datetime(year, month, day, hour))


def test_filter_by_created_dates_includes_the_whole_last_day(rep_client, rep):
    partner = factories.PartnerFactory(assigned_to=rep)
    factories.LeadFactory(name="Before", partner=partner, created_at=local(2026, 2, 28, 23))
    factories.LeadFactory(name="First", partner=partner, created_at=local(2026, 3, 1, 0))
    factories.LeadFactory(name="Last", partner=partner, created_at=local(2026, 3, 31, 23))
    factories.LeadFactory(name="After", partner=partner, created_at=local(2026, 4, 1, 0))
    response = rep_client.get(LIST_URL, {"created_from": "2026-03-01", "created_to": "2026-03-31"})
    assert names(response) == ["Last", "First"]
    assert names(rep_client.get(LIST_URL, {"created_from": "2026-04-01"})) == ["After"]


def test_filter_by_a_preset_period(rep_client, rep):
    partner = factories.PartnerFactory(assigned_to=rep)
    today = timezone.localdate()
    month_start = today.replace(day=1)
    last_month = (month_start - timedelta(days=1)).replace(day=1)
    factories.LeadFactory(name="This month", partner=partner,
                          created_at=timezone.make_aware(datetime.combine(month_start, datetime.min.time())))
    factories.LeadFactory(name="Last month", partner=partner,
                          created_at=timezone.make_aware(datetime.combine(last_month, datetime.min.time())))
    assert names(rep_client.get(LIST_URL, {"period": "this_month"})) == ["This month"]
    assert names(rep_client.get(LIST_URL, {"period": "last_month"})) == ["Last month"]
    assert "This month" in names(rep_client.get(LIST_URL, {"period": "this_year"})) or month_start.month == 1
    assert rep_client.get(LIST_URL, {"period": "someday"}).context["form"].errors["period"]


@pytest.mark.parametrize("data, field, message", [
    ({"created_from": "2026-03-10", "created_to": "2026-03-01"}, "created_to", "“Created to” is before “Created from”."),
    ({"created_from": "0001-01-01"}, "created_from", "Pick a date between 1970 and 2999."),
    ({"created_to": "9999-12-31"}, "created_to", "Pick a date between 1970 and 2999."),
    ({"created_from": "2026-02-30"}, "created_from", "Enter a valid date."),
    ({"created_from": "yesterday'; DROP TABLE leads_lead; --"}, "created_from", "Enter a valid date."),
])
def test_bad_dates_are_errors_on_their_field_not_500(rep_client, world, data, field, message):
    response = rep_client.get(LIST_URL, data)
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert message.replace("“", "&#8220;") in response.content.decode() or message in response.content.decode()
    assert sorted(names(response)) == ["Handed to me", "Mine"]  # the bad filter is ignored, the rest applies


def test_nasty_filter_values_never_500(rep_client, world):
    for data in ({"partner_q": "%_\\'\"\x00"}, {"assigned_to": "a" * 5000}, {"stage": ["new", "won"]},
                 {"mine": "maybe"}, {"partner_q": "+91 (80)"}):
        assert rep_client.get(LIST_URL, data).status_code == 200


def test_names_are_escaped(rep_client, rep):
    partner = factories.PartnerFactory(name=XSS, assigned_to=rep)
    lead = factories.LeadFactory(name=XSS, company=XSS, partner=partner)
    for url in (LIST_URL, detail_url(lead)):
        html = rep_client.get(url).content.decode()
        assert XSS not in html and "&lt;script&gt;" in html


# --- Query counts -----------------------------------------------------------------------------------------------------


def busy_list(rep, other_rep):
    mine = factories.PartnerFactory(assigned_to=rep)
    theirs = factories.PartnerFactory(assigned_to=other_rep)
    make_leads(mine, 40)
    make_leads(theirs, 20)
    Lead.objects.filter(partner=theirs).update(assigned_to=rep)  # rep sees these through the assignment
    return mine


def test_list_query_count_for_a_rep(rep_client, rep, other_rep, django_assert_num_queries):
    busy_list(rep, other_rep)
    # 1. session, 2. user, 3. whether the user sees all partners (visibility), 4. the capped count, the page's ids and
    # the table's estimate (one statement), 5. the page's leads with partner and assignee (JOINs).
    with django_assert_num_queries(5):
        response = rep_client.get(LIST_URL)
    assert len(names(response)) == 25


def test_list_query_count_with_every_filter(rep_client, rep, other_rep, django_assert_num_queries):
    mine = busy_list(rep, other_rep)
    data = {"stage": "open", "partner": mine.pk, "partner_q": "partner", "mine": "on", "period": "this_year",
            "created_from": "2000-01-01", "created_to": "2999-01-01", "assigned_to": "rep1"}
    # 1. session, 2. user, 3. visibility, 4. the ids of the users named in "Assigned to" (given to the leads query as
    # values, see leads.filters), 5. count + ids, 6. the rows, 7. the picked partner's name.
    with django_assert_num_queries(7):
        response = rep_client.get(LIST_URL, data)
    assert response.context["picked_partner_name"] == mine.name


def test_list_query_count_for_a_manager(manager_client, rep, other_rep, django_assert_num_queries):
    busy_list(rep, other_rep)
    # 1. session, 2. user, 3. visibility, 4. count + ids + estimate, 5. the rows.
    with django_assert_num_queries(5):
        response = manager_client.get(LIST_URL, {"page": "2"})
    assert len(names(response)) == 25


def test_lead_page_query_count(rep_client, rep, django_assert_num_queries):
    partner = factories.PartnerFactory(assigned_to=rep)
    lead = lead_services.lead_create(by=rep, name="Busy", partner=partner)
    for _ in range(12):
        lead_services.lead_move(lead=lead, to_stage=Lead.Stage.CONTACTED, by=rep)
        lead_services.lead_move(lead=lead, to_stage=Lead.Stage.QUALIFIED, by=rep)
    location = factories.LocationFactory(partner=partner)
    for number in range(25):
        factories.ActivityFactory(partner=partner, lead=lead, location=location, closed_by=rep,
                                  subject=f"Call {number}")
    factories.ActivityFactory(partner=partner, lead=lead, status=Activity.Status.PLANNED, mode="scheduled",
                              start_at=timezone.now() + timedelta(days=1))
    # 1. session, 2. user, 3. visibility, 4. the lead with partner, assignee and customer (JOINs), 5. its stage history
    # with who moved it (capped), 6. whether the user may open its partner, 7. its activities with location, owner
    # and who closed them (capped), 8. the partner it is shared with (portal's lead_share: jinja2/leads/_share.html).
    with django_assert_num_queries(8):
        response = rep_client.get(detail_url(lead))
    assert len(response.context["stage_history"]) == 20 and response.context["stage_history_more"]
    assert len(response.context["lead_activities"]) == 20 and response.context["lead_activities_more"]


# --- Lead page actions ------------------------------------------------------------------------------------------------


def test_move(rep_client, rep, world):
    lead = world["my_lead"]
    response = rep_client.post(reverse("leads:move", args=[lead.pk]), {"stage": "qualified"})
    assert response.status_code == 302 and response.url == detail_url(lead)
    lead.refresh_from_db()
    assert lead.stage == Lead.Stage.QUALIFIED
    change = LeadStageChange.objects.get(lead=lead)
    assert (change.from_stage, change.to_stage, change.changed_by) == ("new", "qualified", rep)
    page = rep_client.get(detail_url(lead))
    assert [c.to_stage for c in page.context["stage_history"]] == ["qualified"]


@pytest.mark.parametrize("stage", ["won", "lost", "qualified ", "", "x" * 100])
def test_move_to_a_bad_stage_is_a_400_naming_the_field(rep_client, world, stage):
    lead = world["my_lead"]
    response = rep_client.post(reverse("leads:move", args=[lead.pk]), {"stage": stage})
    assert response.status_code == 400 and response.context["move_form"].errors["stage"]
    lead.refresh_from_db()
    assert lead.stage == Lead.Stage.NEW


def test_moving_a_closed_lead_is_refused_with_a_message(rep_client, rep, world):
    lead = world["my_lead"]
    lead_services.lead_lose(lead=lead, by=rep, reason="No budget")
    response = rep_client.post(reverse("leads:move", args=[lead.pk]), {"stage": "contacted"}, follow=True)
    assert "This lead is already lost: it can't be moved." in messages_of(response)
    lead.refresh_from_db()
    assert lead.stage == Lead.Stage.LOST
    assert "move-form" not in response.content.decode()  # a closed lead offers no stage actions


def test_convert_creates_the_customer_once(rep_client, rep, world):
    lead = world["my_lead"]
    url = reverse("leads:convert", args=[lead.pk])
    first = rep_client.post(url, {"value": "2500.50"})
    customer = Customer.objects.get(lead=lead)
    assert first.status_code == 302 and first.url == (customer_url(customer.pk) or detail_url(lead))
    lead.refresh_from_db()
    assert lead.stage == Lead.Stage.WON and lead.value == Decimal("2500.50")
    # the double submit: told so, sent to the same customer, nothing more written
    second = rep_client.post(url, {"value": "9999"})
    assert second.status_code == 302 and second.url == (customer_url(customer.pk) or detail_url(lead))
    assert Customer.objects.filter(lead=lead).count() == 1
    lead.refresh_from_db()
    assert lead.value == Decimal("2500.50")
    page = rep_client.get(detail_url(lead))  # the next page shows the message
    assert "This lead was already converted: here is its customer." in messages_of(page)
    assert page.context["customer"] == customer


def test_convert_without_a_value_books_the_expected_one(rep_client, world):
    lead = world["my_lead"]
    rep_client.post(reverse("leads:convert", args=[lead.pk]), {"value": ""})
    lead.refresh_from_db()
    assert lead.value == lead.expected_value == Decimal("1000.00")


@pytest.mark.parametrize("value", ["-5", "abc", "1e400", "NaN", "Infinity", "12345678901234567", "1.234"])
def test_convert_with_a_bad_value_is_a_400_naming_the_field(rep_client, world, value):
    lead = world["my_lead"]
    response = rep_client.post(reverse("leads:convert", args=[lead.pk]), {"value": value})
    assert response.status_code == 400 and response.context["convert_form"].errors["value"]
    assert not Customer.objects.exists()


def test_converting_a_lost_lead_is_refused(rep_client, rep, world):
    lead = world["my_lead"]
    lead_services.lead_lose(lead=lead, by=rep, reason="No budget")
    response = rep_client.post(reverse("leads:convert", args=[lead.pk]), {"value": "10"}, follow=True)
    assert response.redirect_chain == [(detail_url(lead), 302)]
    assert "This lead is already lost: it can't be converted." in messages_of(response)
    assert not Customer.objects.exists()
    lead.refresh_from_db()
    assert lead.stage == Lead.Stage.LOST and lead.value is None


def test_lose_with_a_reason(rep_client, world):
    lead = world["my_lead"]
    response = rep_client.post(reverse("leads:lose", args=[lead.pk]), {"reason": "Chose a competitor"}, follow=True)
    assert "Marked lost." in messages_of(response)
    lead.refresh_from_db()
    assert lead.stage == Lead.Stage.LOST and lead.lost_reason == "Chose a competitor"
    assert "Chose a competitor" in response.content.decode()


@pytest.mark.parametrize("reason", ["", "   ", "x" * 301])
def test_lose_without_a_good_reason_is_a_400_naming_the_field(rep_client, world, reason):
    lead = world["my_lead"]
    response = rep_client.post(reverse("leads:lose", args=[lead.pk]), {"reason": reason})
    assert response.status_code == 400
    assert response.context["lose_form"].errors["reason"]
    assert 'id="lose-form"' in response.content.decode()
    lead.refresh_from_db()
    assert lead.stage == Lead.Stage.NEW and lead.lost_reason == ""


def test_losing_twice_is_refused(rep_client, rep, world):
    lead = world["my_lead"]
    lead_services.lead_lose(lead=lead, by=rep, reason="First")
    response = rep_client.post(reverse("leads:lose", args=[lead.pk]), {"reason": "Second"}, follow=True)
    assert "This lead is already lost: it can't be marked lost." in messages_of(response)
    lead.refresh_from_db()
    assert lead.lost_reason == "First"


# --- Add and edit -----------------------------------------------------------------------------------------------------


def test_new_lead_from_the_partner_page(rep_client, rep, world):
    partner = world["mine"]
    page = rep_client.get(reverse("partners:detail", args=[partner.pk])).content.decode()
    create_url = f"{reverse('leads:create')}?partner={partner.pk}"
    assert create_url in page
    form = rep_client.get(create_url)
    assert form.status_code == 200 and form.context["form"].initial["assigned_to"] == rep.pk
    assert "partner_ref" not in form.context["form"].fields  # the partner is fixed
    response = rep_client.post(create_url, {"name": " Acme order ", "company": "Acme", "email": "a@acme.test",
                                            "phone": "+91 98450 12345", "expected_value": "1500",
                                            "assigned_to": rep.pk})
    lead = Lead.objects.get(name="Acme order")
    assert response.status_code == 302 and response.url == detail_url(lead)
    assert (lead.partner, lead.assigned_to, lead.expected_value) == (partner, rep, Decimal("1500"))
    assert list(LeadStageChange.objects.filter(lead=lead).values_list("to_stage", "changed_by")) == [("new", rep.pk)]


def test_new_lead_for_another_reps_partner_is_404(rep_client, world):
    url = f"{reverse('leads:create')}?partner={world['theirs'].pk}"
    assert rep_client.get(url).status_code == 404
    assert rep_client.post(url, {"name": "Sneaky"}).status_code == 404
    for nonsense in ("abc", "", "1.5", "99999999999999999999999", "٣"):
        assert rep_client.get(f"{reverse('leads:create')}?partner={nonsense}").status_code == 404
    assert not Lead.objects.filter(name="Sneaky").exists()


def test_new_lead_from_the_list_with_a_partner_by_code_or_none(rep_client, rep, world):
    url = reverse("leads:create")
    mine = world["mine"]
    rep_client.post(url, {"name": "By code", "partner_ref": mine.code, "assigned_to": rep.pk})
    rep_client.post(url, {"name": "By name", "partner_ref": "my PARTNER", "assigned_to": rep.pk})
    rep_client.post(url, {"name": "Walk-in", "partner_ref": "", "assigned_to": rep.pk})
    assert Lead.objects.get(name="By code").partner == mine
    assert Lead.objects.get(name="By name").partner == mine
    assert Lead.objects.get(name="Walk-in").partner is None
    response = rep_client.post(url, {"name": "Theirs", "partner_ref": world["theirs"].code, "assigned_to": rep.pk})
    assert response.status_code == 200
    assert response.context["form"].errors["partner_ref"] == ["None of your partners has this code or name."]
    assert not Lead.objects.filter(name="Theirs", assigned_to=rep).exclude(pk=world["assigned_to_me"].pk).exists()


def test_new_lead_bad_input_names_the_field(rep_client, rep, other_rep):
    url = reverse("leads:create")
    response = rep_client.post(url, {"name": "", "email": "not-an-email", "expected_value": "-1",
                                      "assigned_to": other_rep.pk, "phone": "1" * 51})
    errors = response.context["form"].errors
    assert response.status_code == 200
    assert set(errors) == {"name", "email", "expected_value", "assigned_to", "phone"}
    assert not Lead.objects.exists()
    response = rep_client.post(url, {"name": "Nul\x00byte"})
    assert response.status_code == 200 and "name" in response.context["form"].errors


def test_a_manager_can_assign_a_new_lead_to_a_rep(manager_client, rep):
    response = manager_client.post(reverse("leads:create"), {"name": "For rep1", "assigned_to": rep.pk})
    assert response.status_code == 302
    assert Lead.objects.get(name="For rep1").assigned_to == rep


def test_edit_a_lead(rep_client, rep, world):
    lead = world["my_lead"]
    url = reverse("leads:edit", args=[lead.pk])
    form = rep_client.get(url)
    assert form.context["form"].initial["partner_ref"] == world["mine"].code
    data = {"name": "Renamed", "company": "Co", "email": "", "phone": "", "partner_ref": world["mine"].code,
            "expected_value": "10", "assigned_to": rep.pk}
    response = rep_client.post(url, data, follow=True)
    assert "Lead saved." in messages_of(response)
    lead.refresh_from_db()
    assert (lead.name, lead.company, lead.expected_value) == ("Renamed", "Co", Decimal("10"))
    response = rep_client.post(url, data, follow=True)
    assert "Nothing changed." in messages_of(response)


def test_editing_a_lead_from_a_partner_the_rep_cannot_see_keeps_that_partner(rep_client, rep, world):
    lead = world["assigned_to_me"]
    url = reverse("leads:edit", args=[lead.pk])
    data = {"name": "Handed to me", "partner_ref": world["theirs"].code, "assigned_to": rep.pk,
            "expected_value": "1000.00"}
    assert rep_client.post(url, data).status_code == 302
    lead.refresh_from_db()
    assert lead.partner == world["theirs"]


# --- Follow-up activity -----------------------------------------------------------------------------------------------


def test_schedule_a_follow_up_of_the_lead(rep_client, rep, world):
    lead = world["my_lead"]
    page = rep_client.get(detail_url(lead))
    follow_up = page.context["follow_up_url"]
    assert follow_up.startswith(reverse("activities:schedule", args=[world["mine"].pk]))
    form = rep_client.get(follow_up)
    assert form.context["form"].initial["lead"] == lead.pk
    assert form.context["form"].initial["subject"] == f"Follow up: {lead.name}"
    start = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = rep_client.post(follow_up, {"kind": "call", "start_at": start, "duration_minutes": "15",
                                           "subject": "Follow up", "lead": str(lead.pk), "next": detail_url(lead)})
    assert response.status_code == 302 and response.url == detail_url(lead)
    activity = Activity.objects.get(subject="Follow up")
    assert activity.lead == lead and activity.partner == world["mine"]
    assert [a.pk for a in rep_client.get(detail_url(lead)).context["lead_activities"]] == [activity.pk]


def test_a_follow_up_ignores_a_lead_of_another_partner(rep_client, world):
    partner = world["mine"]
    url = reverse("activities:schedule", args=[partner.pk])
    form = rep_client.get(url, {"lead": world["their_lead"].pk})
    assert "lead" not in form.context["form"].initial
    start = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    for lead_value in (str(world["their_lead"].pk), "abc", "9" * 30):
        response = rep_client.post(url, {"kind": "call", "start_at": start, "duration_minutes": "15",
                                         "subject": f"x{lead_value[:5]}", "lead": lead_value})
        assert response.status_code == 302
    assert not Activity.objects.filter(lead__isnull=False).exists()
