"""/api/v1/activities/ (api.activities → activities.selectors, activities.services)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from activities.models import Activity
from activities.services import activity_log, activity_remind, activity_schedule
from api.models import IdempotencyRecord
from tests import factories

pytestmark = pytest.mark.django_db
ACTIVITIES = "/api/v1/activities/"
WRITE = ["activities:read", "activities:write"]


@pytest.fixture
def rep_key(rep, make_key, bearer):
    return bearer(make_key(rep, scopes=WRITE)[1])


@pytest.fixture
def manager_key(manager, make_key, bearer):
    return bearer(make_key(manager, scopes=WRITE)[1])


def soon(**delta):
    return timezone.now() + timedelta(**(delta or {"days": 1}))


def iso(when):
    return when.isoformat().replace("+", "%2B")


def post(client, headers, url, body, **extra):
    return client.post(url, body, content_type="application/json", **headers, **extra)


def patch(client, headers, pk, body, **extra):
    return client.patch(f"{ACTIVITIES}{pk}/", body, content_type="application/json", **headers, **extra)


def fields_of(response):
    return {error["field"]: error["message"] for error in response.json()["errors"]}


def read_all(client, headers, query="", limit=3, between_pages=None):
    seen, cursor, number = [], None, 0
    while True:
        url = f"{ACTIVITIES}?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
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


def test_a_rep_sees_the_activities_of_their_partners_and_customers_only(client, rep, other_rep, rep_key):
    mine = factories.PartnerFactory(assigned_to=rep)
    theirs = factories.PartnerFactory(assigned_to=other_rep)
    my_customer = factories.CustomerFactory(partner=theirs, assigned_to=rep)
    by_colleague = activity_schedule(partner=mine, by=other_rep, kind="call", start_at=soon())  # still on my partner
    on_customer = activity_log(customer=my_customer, by=rep, kind="visit", start_at=soon(hours=-1))
    hidden = activity_schedule(partner=theirs, by=other_rep, kind="meeting", start_at=soon())
    ids = {row["id"] for row in read_all(client, rep_key)}
    assert ids == {by_colleague.pk, on_customer.pk}
    assert client.get(f"{ACTIVITIES}{hidden.pk}/", **rep_key).status_code == 404
    for response in (
        patch(client, rep_key, hidden.pk, {"subject": "x"}),
        post(client, rep_key, f"{ACTIVITIES}{hidden.pk}/complete", {}),
        post(client, rep_key, f"{ACTIVITIES}{hidden.pk}/cancel", {}),
    ):
        assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
    hidden.refresh_from_db()
    assert hidden.status == Activity.Status.PLANNED and hidden.subject == ""
    assert read_all(client, rep_key, query=f"&partner={theirs.pk}") == []


def test_shape(client, rep, rep_key):
    partner = factories.partner_with_contacts(assigned_to=rep)
    location = partner.locations.get()
    activity = activity_schedule(partner=partner, by=rep, kind="meeting", start_at=soon(), duration_minutes=45,
                                 location=location, subject="Review")
    body = client.get(f"{ACTIVITIES}{activity.pk}/", **rep_key).json()
    assert body["partner"] == partner.pk and body["customer"] is None and body["location"] == location.pk
    assert (body["kind"], body["mode"], body["state"], body["duration_minutes"]) == ("meeting", "scheduled",
                                                                                       "planned", 45)
    assert body["owner"] == {"id": rep.pk, "username": rep.username, "name": rep.get_full_name()}
    assert body["closed_by"] is None and body["sequence"] == 0


def test_filters(client, manager, rep, other_rep, manager_key):
    a, b = factories.PartnerFactory(assigned_to=rep), factories.PartnerFactory(assigned_to=other_rep)
    call = activity_schedule(partner=a, by=rep, kind="call", start_at=soon(days=2))
    meeting = activity_schedule(partner=b, by=other_rep, kind="meeting", start_at=soon(days=5))
    logged = activity_log(partner=a, by=other_rep, kind="email", start_at=soon(days=-3))
    reminder = activity_remind(partner=b, by=rep, start_at=soon(days=1), subject="Send the price list")

    def ids(query):
        return sorted(row["id"] for row in read_all(client, manager_key, query=query))

    assert ids("") == sorted([call.pk, meeting.pk, logged.pk, reminder.pk])
    assert ids(f"&partner={a.pk}") == sorted([call.pk, logged.pk])
    assert ids(f"&owner={rep.username}") == sorted([call.pk, reminder.pk])
    assert ids("&kind=meeting") == [meeting.pk]
    assert ids("&mode=reminder") == [reminder.pk]
    assert ids("&state=done") == [logged.pk]
    assert ids(f"&starts_after={iso(soon(days=1, hours=12))}") == sorted([call.pk, meeting.pk])
    assert ids(f"&starts_before={iso(timezone.now())}") == [logged.pk]
    Activity.objects.filter(pk=call.pk).update(updated_at=timezone.now() - timedelta(days=3))
    assert call.pk not in ids(f"&updated_since={iso(soon(days=-1))}")


@pytest.mark.parametrize("query, field", [
    ("kind=dance", "kind"), ("state=", "state"), ("starts_after=yesterday", "starts_after"), ("partner=x", "partner"),
    ("partner=0", "partner"), ("limit=501", "limit"), ("cursor=forged", "cursor"), ("mode=sometimes", "mode"),
])
def test_bad_filters_are_400_naming_the_parameter(client, manager_key, query, field):
    response = client.get(f"{ACTIVITIES}?{query}", **manager_key)
    assert response.status_code == 400
    assert field in fields_of(response)


def test_paging_is_stable_when_activities_change_during_the_sync(client, rep, rep_key):
    partner = factories.PartnerFactory(assigned_to=rep)
    rows = [activity_schedule(partner=partner, by=rep, kind="call", start_at=soon(days=n + 1)) for n in range(8)]
    base = timezone.now() - timedelta(hours=1)
    for index, row in enumerate(rows):
        Activity.objects.filter(pk=row.pk).update(updated_at=base + timedelta(seconds=index))
    from activities.services import activity_complete

    def change(page_number):
        if page_number == 1:  # one already read, one not yet
            for row in (rows[0], rows[6]):
                activity_complete(activity=row, by=rep, outcome="Done early")

    seen = read_all(client, rep_key, limit=3, between_pages=change)
    ids = [row["id"] for row in seen]
    assert sorted(set(ids)) == sorted(row.pk for row in rows)
    for row in rows[1:6] + rows[7:]:
        assert ids.count(row.pk) == 1
    assert ids.count(rows[0].pk) == 2 and ids.count(rows[6].pk) == 1
    assert {row["id"]: row["state"] for row in seen}[rows[0].pk] == "done"  # the latest state wins
    assert ids[-2:] == [rows[0].pk, rows[6].pk]


@pytest.mark.parametrize("page", [1, 2])
def test_query_count_per_page(client, make_key, bearer, django_assert_num_queries, page):
    rep = factories.rep_user(username="rep-q")
    for _ in range(4):
        partner = factories.PartnerFactory(assigned_to=rep)
        customer = factories.CustomerFactory(partner=partner, assigned_to=rep)
        activity_schedule(partner=partner, by=rep, kind="call", start_at=soon())
        activity_log(customer=customer, by=factories.rep_user(username=f"closer-{customer.pk}"), kind="call",
                     start_at=soon(hours=-2))
    headers = bearer(make_key(rep, scopes=WRITE)[1])
    first = client.get(f"{ACTIVITIES}?limit=3", **headers).json()
    url = f"{ACTIVITIES}?limit=3" + (f"&cursor={first['next_cursor']}" if page == 2 else "")
    # 1. the API key and its owner
    # 2. the rate window
    # 3. the owner's visibility (may they see every partner?)
    # 4. the page's activities (their partner's or customer's visible: one statement), owner and closer joined
    with django_assert_num_queries(4):
        body = client.get(url, **headers).json()
    assert len(body["results"]) == 3 and all(row["owner"] for row in body["results"])


def test_detail_query_count_and_etag(client, rep, rep_key, django_assert_num_queries):
    activity = activity_schedule(partner=factories.PartnerFactory(assigned_to=rep), by=rep, kind="call",
                                 start_at=soon())
    url = f"{ACTIVITIES}{activity.pk}/"
    tag = client.get(url, **rep_key)["ETag"]
    # 1. key + owner, 2. rate window, 3. visibility, 4. the activity with owner and closer
    with django_assert_num_queries(4):
        assert client.get(url, **rep_key).status_code == 200
    assert client.get(url, HTTP_IF_NONE_MATCH=tag, **rep_key).status_code == 304


# --- Writes -----------------------------------------------------------------------------------------------------------


def test_schedule_a_meeting_moves_the_partners_next_engagement(client, rep, rep_key):
    partner = factories.partner_with_contacts(assigned_to=rep)
    location = partner.locations.get()
    when = soon(days=2)
    response = post(client, rep_key, ACTIVITIES, {
        "partner": partner.pk, "mode": "scheduled", "kind": "meeting", "start_at": when.isoformat(),
        "duration_minutes": 30, "location": location.pk, "subject": "Quarterly review",
    })
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"{ACTIVITIES}{body['id']}/" and response["ETag"]
    assert (body["mode"], body["state"], body["owner"]["id"], body["location"]) == ("scheduled", "planned", rep.pk,
                                                                                     location.pk)
    partner.refresh_from_db()
    assert partner.next_engagement_at == when  # the service's work, in the same transaction


def test_log_an_engagement_and_set_a_reminder(client, rep, rep_key):
    partner = factories.PartnerFactory(assigned_to=rep)
    happened = timezone.now() - timedelta(hours=3)
    logged = post(client, rep_key, ACTIVITIES, {
        "partner": partner.pk, "mode": "logged", "kind": "call", "channel": "whatsapp",
        "start_at": happened.isoformat(), "outcome": "Wants a demo",
    })
    assert logged.status_code == 201, logged.content
    assert (logged.json()["state"], logged.json()["channel"], logged.json()["outcome"]) == ("done", "whatsapp",
                                                                                            "Wants a demo")
    partner.refresh_from_db()
    assert partner.last_engaged_at == happened
    reminder = post(client, rep_key, ACTIVITIES, {
        "partner": partner.pk, "mode": "reminder", "start_at": soon().isoformat(), "subject": "Send the demo link",
    })
    assert reminder.status_code == 201, reminder.content
    assert (reminder.json()["kind"], reminder.json()["mode"]) == ("task", "reminder")


def test_a_customers_activity_with_its_location(client, rep, rep_key):
    customer = factories.customer_with_contacts(partner=factories.PartnerFactory(assigned_to=rep), assigned_to=rep)
    location = customer.locations.get()
    response = post(client, rep_key, ACTIVITIES, {
        "customer": customer.pk, "mode": "scheduled", "kind": "meeting", "start_at": soon().isoformat(),
        "location": location.pk,
    })
    assert response.status_code == 201, response.content
    assert response.json()["customer"] == customer.pk and response.json()["place"] == location.address
    customer.refresh_from_db()
    assert customer.next_engagement_at is not None


def test_a_follow_up_of_a_lead(client, rep, rep_key):
    partner = factories.PartnerFactory(assigned_to=rep)
    lead = factories.LeadFactory(partner=partner)
    other_lead = factories.LeadFactory(partner=factories.PartnerFactory(assigned_to=rep))
    body = {"partner": partner.pk, "mode": "scheduled", "kind": "call", "start_at": soon().isoformat()}
    assert post(client, rep_key, ACTIVITIES, {**body, "lead": lead.pk}).json()["lead"] == lead.pk
    refused = post(client, rep_key, ACTIVITIES, {**body, "lead": other_lead.pk})
    assert refused.status_code == 400 and "lead" in fields_of(refused)


@pytest.mark.parametrize("change, field", [
    ({"partner": None}, "partner"),
    ({"customer": 1}, "partner"),  # both
    ({"mode": "later"}, "mode"),
    ({"kind": "email"}, "kind"),
    ({"kind": None}, "kind"),
    ({"start_at": "2001-01-01T10:00:00Z"}, "start_at"),
    ({"start_at": "tomorrow"}, "start_at"),
    ({"duration_minutes": 2}, "duration_minutes"),
    ({"duration_minutes": 100_000}, "duration_minutes"),
    ({"location": 999_999}, "location"),
    ({"location": 1, "place": "Somewhere"}, "place"),
    ({"outcome": "Already?"}, "outcome"),
    ({"lead": 9_223_372_036_854_775_807}, "lead"),
    ({"subject": "x" * 201}, "subject"),
])
def test_invalid_schedules_are_400_naming_the_field(client, rep, rep_key, change, field):
    partner = factories.PartnerFactory(assigned_to=rep)
    body = {"partner": partner.pk, "mode": "scheduled", "kind": "call", "start_at": soon().isoformat(), **change}
    response = post(client, rep_key, ACTIVITIES, body)
    assert response.status_code == 400, response.content
    assert field in fields_of(response), response.json()
    assert not Activity.objects.exists()


@pytest.mark.parametrize("body, field", [
    ({"mode": "logged", "kind": "call", "start_at": "2099-01-01T10:00:00Z"}, "start_at"),
    ({"mode": "logged", "kind": "task", "start_at": "2020-01-01T10:00:00Z"}, "kind"),
    ({"mode": "logged", "start_at": "2020-01-01T10:00:00Z"}, "kind"),
    ({"mode": "logged", "kind": "call", "start_at": "2020-01-01T10:00:00Z", "channel": "pigeon"}, "channel"),
    ({"mode": "reminder", "start_at": "2099-01-01T10:00:00Z"}, "subject"),
    ({"mode": "reminder", "start_at": "2099-01-01T10:00:00Z", "subject": "x", "duration_minutes": 5},
     "duration_minutes"),
])
def test_invalid_logs_and_reminders(client, rep, rep_key, body, field):
    partner = factories.PartnerFactory(assigned_to=rep)
    response = post(client, rep_key, ACTIVITIES, {"partner": partner.pk, **body})
    assert response.status_code == 400 and field in fields_of(response), response.content


def test_another_reps_partner_cannot_be_named(client, rep_key, other_rep):
    theirs = factories.PartnerFactory(assigned_to=other_rep)
    response = post(client, rep_key, ACTIVITIES, {"partner": theirs.pk, "mode": "scheduled", "kind": "call",
                                                  "start_at": soon().isoformat()})
    assert response.status_code == 400 and "partner" in fields_of(response)
    assert not Activity.objects.exists()


def test_reschedule_with_if_match(client, rep, rep_key):
    partner = factories.PartnerFactory(assigned_to=rep)
    activity = activity_schedule(partner=partner, by=rep, kind="call", start_at=soon(days=1), subject="Old")
    tag = client.get(f"{ACTIVITIES}{activity.pk}/", **rep_key)["ETag"]
    later = soon(days=3)
    moved = patch(client, rep_key, activity.pk, {"start_at": later.isoformat(), "subject": "New"}, HTTP_IF_MATCH=tag)
    assert moved.status_code == 200, moved.content
    assert moved.json()["subject"] == "New" and moved.json()["sequence"] == 1 and moved["ETag"] != tag
    partner.refresh_from_db()
    assert partner.next_engagement_at == later
    stale = patch(client, rep_key, activity.pk, {"subject": "Stale"}, HTTP_IF_MATCH=tag)
    assert stale.status_code == 412
    past = patch(client, rep_key, activity.pk, {"start_at": "2001-01-01T00:00:00Z"})
    assert past.status_code == 400 and "start_at" in fields_of(past)
    activity.refresh_from_db()
    assert activity.subject == "New"


def test_complete_and_cancel(client, rep, rep_key):
    partner = factories.PartnerFactory(assigned_to=rep)
    call = activity_schedule(partner=partner, by=rep, kind="call", start_at=soon(hours=-1))
    meeting = activity_schedule(partner=partner, by=rep, kind="meeting", start_at=soon(days=2))
    done = post(client, rep_key, f"{ACTIVITIES}{call.pk}/complete", {"outcome": "Ordered 40 units"})
    assert done.status_code == 200, done.content
    assert (done.json()["state"], done.json()["outcome"], done.json()["closed_by"]["id"]) == (
        "done", "Ordered 40 units", rep.pk)
    partner.refresh_from_db()
    assert partner.last_engaged_at is not None and partner.next_engagement_at is not None
    again = post(client, rep_key, f"{ACTIVITIES}{call.pk}/complete", {"outcome": "Twice?"})
    assert again.status_code == 409 and "already done" in again.json()["detail"]
    cancelled = post(client, rep_key, f"{ACTIVITIES}{meeting.pk}/cancel", {"outcome": "They cancelled"})
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    partner.refresh_from_db()
    assert partner.next_engagement_at is None
    edit_done = patch(client, rep_key, call.pk, {"subject": "Late edit"})
    assert edit_done.status_code == 409


def test_idempotent_create(client, rep, rep_key):
    partner = factories.PartnerFactory(assigned_to=rep)
    body = {"partner": partner.pk, "mode": "scheduled", "kind": "call", "start_at": soon().isoformat()}
    first = post(client, rep_key, ACTIVITIES, body, HTTP_IDEMPOTENCY_KEY="a-1")
    again = post(client, rep_key, ACTIVITIES, body, HTTP_IDEMPOTENCY_KEY="a-1")
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert Activity.objects.count() == 1 and IdempotencyRecord.objects.count() == 1
    assert post(client, rep_key, ACTIVITIES, {**body, "kind": "meeting"}, HTTP_IDEMPOTENCY_KEY="a-1").status_code == 422


def test_scopes(client, rep, make_key, bearer):
    partner = factories.PartnerFactory(assigned_to=rep)
    activity = activity_schedule(partner=partner, by=rep, kind="call", start_at=soon())
    read_only = bearer(make_key(rep, scopes=["activities:read"])[1])
    assert client.get(ACTIVITIES, **read_only).status_code == 200
    body = {"partner": partner.pk, "mode": "scheduled", "kind": "call", "start_at": soon().isoformat()}
    assert post(client, read_only, ACTIVITIES, body).status_code == 403
    assert post(client, read_only, f"{ACTIVITIES}{activity.pk}/complete", {}).status_code == 403
    assert patch(client, read_only, activity.pk, {"subject": "x"}).status_code == 403
    partners_only = bearer(make_key(rep, scopes=["partners:read", "partners:write"])[1])
    assert client.get(ACTIVITIES, **partners_only).status_code == 403
    assert Activity.objects.count() == 1
