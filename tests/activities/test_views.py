"""Schedule, remind, log, complete and cancel activities from the partner page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import Activity
from tests import factories

pytestmark = pytest.mark.django_db


def url(name, partner, activity=None):
    args = [partner.pk] if activity is None else [partner.pk, activity.pk]
    return reverse(f"activities:{name}", args=args)


def when(delta):
    moment = timezone.localtime(timezone.now() + delta)
    return {"start_at": moment.strftime("%Y-%m-%dT%H:%M")}  # one datetime-local input


@pytest.fixture
def partner(rep):
    return factories.partner_with_contacts(name="Acme", assigned_to=rep)


@pytest.fixture
def planned(partner, rep):
    return services.activity_schedule(
        partner=partner, by=rep, kind=Activity.Kind.CALL, start_at=timezone.now() + timedelta(days=1),
        duration_minutes=15,
    )


# --- Schedule -------------------------------------------------------------------------------------------------------


def test_schedule_page_offers_only_this_partners_locations(rep_client, rep, partner):
    other = factories.partner_with_contacts(assigned_to=rep)
    response = rep_client.get(url("schedule", partner), {"kind": "meeting"})
    assert response.status_code == 200
    choices = list(response.context["form"].fields["location"].queryset)
    assert choices == list(partner.locations.all()) and not set(choices) & set(other.locations.all())
    assert response.context["form"].initial["kind"] == "meeting"


def test_schedule_meeting_at_a_location(rep_client, partner):
    location = partner.locations.get()
    data = {"kind": "meeting", **when(timedelta(days=3)), "duration_minutes": "45", "location": location.pk,
            "subject": "Review"}
    response = rep_client.post(url("schedule", partner), data)
    assert response.status_code == 302 and response.url == reverse("partners:detail", args=[partner.pk])
    activity = Activity.objects.get(partner=partner)
    assert (activity.mode, activity.status, activity.kind, activity.location, activity.duration_minutes) == (
        "scheduled", "planned", "meeting", location, 45,
    )
    partner.refresh_from_db()
    assert partner.next_engagement_at == activity.start_at  # updated at once
    page = rep_client.get(response.url).content.decode()
    assert "Meeting scheduled." in page and "Review" in page


def test_schedule_call_at_a_typed_place(rep_client, partner):
    data = {"kind": "call", **when(timedelta(hours=5)), "duration_minutes": "10", "place": "Café <b>Central</b>"}
    assert rep_client.post(url("schedule", partner), data).status_code == 302
    assert Activity.objects.get().place == "Café <b>Central</b>"
    html = rep_client.get(reverse("partners:detail", args=[partner.pk])).content.decode()
    assert "Café &lt;b&gt;Central&lt;/b&gt;" in html and "query=Caf%C3%A9%20%3Cb%3ECentral" in html


def test_schedule_validation_errors(rep_client, partner, rep):
    other_location = factories.partner_with_contacts(assigned_to=rep).locations.get()
    cases = [
        ({"kind": "meeting", **when(-timedelta(days=1)), "duration_minutes": "30"}, "start_at"),
        ({"kind": "meeting", **when(timedelta(days=1)), "duration_minutes": "30", "location": partner.locations.get().pk,
          "place": "Elsewhere"}, "place"),
        ({"kind": "meeting", **when(timedelta(days=1)), "duration_minutes": "30", "location": other_location.pk},
         "location"),
        ({"kind": "visit", **when(timedelta(days=1)), "duration_minutes": "30"}, "kind"),
        ({"kind": "call", "start_at": "", "duration_minutes": "30"}, "start_at"),
        ({"kind": "call", "start_at": "tomorrow", "duration_minutes": "30"}, "start_at"),
        ({"kind": "call", **when(timedelta(days=1)), "duration_minutes": "0"}, "duration_minutes"),
    ]
    for data, field in cases:
        response = rep_client.post(url("schedule", partner), data)
        assert response.status_code == 200, data
        assert field in response.context["form"].errors, (data, response.context["form"].errors)
    assert not Activity.objects.exists()


# --- Reminder and log -----------------------------------------------------------------------------------------------


def test_set_a_reminder(rep_client, partner):
    response = rep_client.post(url("remind", partner), {"subject": "Send price list", **when(timedelta(days=2))})
    assert response.status_code == 302
    activity = Activity.objects.get()
    assert (activity.mode, activity.kind, activity.subject) == ("reminder", "task", "Send price list")
    partner.refresh_from_db()
    assert partner.next_engagement_at is None  # a reminder is not an engagement
    assert "Send price list" in rep_client.get(response.url).content.decode()


def test_reminder_needs_a_subject(rep_client, partner):
    response = rep_client.post(url("remind", partner), {"subject": "", **when(timedelta(days=2))})
    assert "subject" in response.context["form"].errors and not Activity.objects.exists()


def test_log_a_past_activity_moves_last_engagement(rep_client, partner):
    data = {"kind": "visit", **when(-timedelta(hours=2)), "outcome": "Placed an order"}
    response = rep_client.post(url("log", partner), data)
    assert response.status_code == 302
    activity = Activity.objects.get()
    assert (activity.mode, activity.status, activity.outcome) == ("logged", "done", "Placed an order")
    partner.refresh_from_db()
    assert partner.last_engaged_at == activity.start_at
    assert "Visit logged." in rep_client.get(response.url).content.decode()


def test_log_in_the_future_is_refused(rep_client, partner):
    response = rep_client.post(url("log", partner), {"kind": "call", **when(timedelta(days=1))})
    assert "start_at" in response.context["form"].errors and not Activity.objects.exists()


# --- Complete and cancel --------------------------------------------------------------------------------------------


def test_complete_page_and_completion(rep_client, partner, planned):
    assert rep_client.get(url("complete", partner, planned)).status_code == 200
    response = rep_client.post(url("complete", partner, planned), {"outcome": "Agreed on targets"})
    assert response.status_code == 302
    planned.refresh_from_db()
    assert (planned.status, planned.outcome) == ("done", "Agreed on targets")
    partner.refresh_from_db()
    assert partner.last_engaged_at == planned.start_at and partner.next_engagement_at is None
    assert "Marked done." in rep_client.get(response.url).content.decode()


def test_cancel(rep_client, partner, planned):
    response = rep_client.post(url("cancel", partner, planned), {"outcome": "Partner travelling"})
    assert response.status_code == 302
    planned.refresh_from_db()
    assert (planned.status, planned.outcome) == ("cancelled", "Partner travelling")
    partner.refresh_from_db()
    assert partner.next_engagement_at is None


def test_closing_an_activity_twice_is_refused_with_a_message(rep_client, partner, planned):
    rep_client.post(url("complete", partner, planned), {"outcome": "ok"})
    response = rep_client.post(url("cancel", partner, planned), {"outcome": "too late"}, follow=True)
    assert "already done" in response.content.decode()
    planned.refresh_from_db()
    assert (planned.status, planned.outcome) == ("done", "ok")


# --- Ownership and methods ------------------------------------------------------------------------------------------


def activity_snapshot():
    return list(Activity.objects.order_by("id").values_list("id", "status", "outcome", "start_at"))


@pytest.mark.parametrize("name", ["schedule", "remind", "log"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_create_views_404_for_another_reps_partner(rep_client, other_rep, name, method):
    theirs = factories.partner_with_contacts(assigned_to=other_rep)
    data = {"kind": "call", "subject": "x", **when(timedelta(days=1) if name != "log" else -timedelta(hours=1))}
    response = getattr(rep_client, method)(url(name, theirs), data if method == "post" else None)
    assert response.status_code == 404
    assert not Activity.objects.exists()
    theirs_before = theirs.next_engagement_at
    theirs.refresh_from_db()
    assert theirs.next_engagement_at == theirs_before


@pytest.mark.parametrize("name", ["complete", "cancel"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_close_views_404_for_another_reps_activity(rep_client, other_rep, name, method):
    theirs = factories.partner_with_contacts(assigned_to=other_rep)
    activity = services.activity_schedule(
        partner=theirs, by=other_rep, kind="call", start_at=timezone.now() + timedelta(days=1)
    )
    before = activity_snapshot()
    response = getattr(rep_client, method)(url(name, theirs, activity), {"outcome": "x"} if method == "post" else None)
    assert response.status_code == 404
    assert activity_snapshot() == before


@pytest.mark.parametrize("name", ["complete", "cancel"])
def test_activity_must_belong_to_the_partner_in_the_url(rep_client, rep, partner, planned, name):
    mine_too = factories.partner_with_contacts(assigned_to=rep)
    before = activity_snapshot()
    assert rep_client.post(url(name, mine_too, planned), {"outcome": "x"}).status_code == 404
    assert rep_client.get(url(name, mine_too, planned)).status_code == 404
    assert activity_snapshot() == before


def test_manager_may_act_on_any_partner(manager_client, partner, planned):
    assert manager_client.post(url("complete", partner, planned), {"outcome": "by manager"}).status_code == 302


@pytest.mark.parametrize("name", ["schedule", "remind", "log"])
def test_login_required(client, partner, name):
    response = client.post(url(name, partner), {"kind": "call", **when(timedelta(days=1))})
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert not Activity.objects.exists()


def test_state_changes_need_csrf(partner, planned, rep):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    assert client.post(url("complete", partner, planned), {"outcome": "x"}).status_code == 403
    planned.refresh_from_db()
    assert planned.status == "planned"


def test_other_verbs_are_refused(rep_client, partner, planned):
    assert rep_client.put(url("complete", partner, planned)).status_code == 405
    assert rep_client.delete(url("schedule", partner)).status_code == 405
