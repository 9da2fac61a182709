"""Edit / reschedule a planned activity (activities.services.activity_reschedule, /partners/<id>/activities/<id>/edit/):
the change flows to the calendar feed (same UID, SEQUENCE + 1) and a moved time notifies again."""

from datetime import UTC, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from activities import services
from activities.models import Activity
from notifications.models import Notification
from notifications.preferences import calendar_token_create
from tests import factories

pytestmark = pytest.mark.django_db


def edit_url(activity):
    return reverse("activities:edit", args=[activity.partner_id, activity.pk])


def local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")  # one datetime-local input


def form_data(activity, **changes):
    """What the edit page posts back for ``activity`` (to the minute, as shown), with ``changes``."""
    data = {
        "start_at": local(activity.start_at),
        "duration_minutes": "" if activity.duration_minutes is None else str(activity.duration_minutes),
        "location": "" if activity.location_id is None else str(activity.location_id),
        "place": activity.place,
        "subject": activity.subject,
    }
    if activity.mode == Activity.Mode.REMINDER:
        data = {"start_at": data["start_at"], "subject": data["subject"]}
    return {**data, **changes}


def reschedule(activity, user, **changes):
    values = {
        "start_at": activity.start_at, "duration_minutes": activity.duration_minutes, "subject": activity.subject,
        "place": activity.place, "location": activity.location,
    }
    return services.activity_reschedule(activity=activity, by=user, **{**values, **changes})


def feed_events(client, token):
    response = client.get(reverse("calendar_feed", args=[token]))
    assert response.status_code == 200
    return {str(event["UID"]): event for event in Calendar.from_ical(response.content).walk("VEVENT")}


@pytest.fixture
def partner(rep):
    return factories.partner_with_contacts(name="Acme", assigned_to=rep)


@pytest.fixture
def meeting(partner, rep):
    # Seconds and microseconds on purpose: the page shows minutes, and an untouched save must still change nothing.
    return services.activity_schedule(
        partner=partner, by=rep, kind=Activity.Kind.MEETING, start_at=timezone.now() + timedelta(days=2, seconds=7),
        duration_minutes=45, subject="Quarterly review", place="Café Coffee Day",
    )


@pytest.fixture
def reminder(partner, rep):
    return services.activity_remind(
        partner=partner, by=rep, start_at=timezone.now() + timedelta(hours=3), subject="Send the price list"
    )


# --- The calendar feed follows ----------------------------------------------------------------------------------------


def test_reschedule_moves_the_event_in_the_feed_same_uid_sequence_up_by_one(rep_client, rep, partner, meeting):
    token = calendar_token_create(user=rep)
    [(uid, before)] = feed_events(rep_client, token).items()
    assert int(before["SEQUENCE"]) == 0
    new_start = (timezone.now() + timedelta(days=5)).replace(second=0, microsecond=0)

    response = rep_client.post(edit_url(meeting), form_data(meeting, start_at=local(new_start), duration_minutes="60"))

    assert response.status_code == 302 and response.url == reverse("partners:detail", args=[partner.pk])
    meeting.refresh_from_db()
    assert (meeting.start_at, meeting.duration_minutes, meeting.sequence) == (new_start, 60, 1)
    [(same_uid, after)] = feed_events(rep_client, token).items()
    assert same_uid == uid == f"activity-{meeting.pk}@{uid.split('@')[1]}"
    assert int(after["SEQUENCE"]) == 1
    assert after.decoded("DTSTART") == new_start.astimezone(UTC)
    assert after.decoded("DTEND") - after.decoded("DTSTART") == timedelta(minutes=60)
    assert str(after["STATUS"]) == "CONFIRMED"
    partner.refresh_from_db()
    assert partner.next_engagement_at == new_start  # the partner's next engagement moved with it
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["Meeting rescheduled."]


def test_every_visible_change_bumps_once(rep, partner, meeting):
    location = partner.locations.get()
    changes = [
        {"subject": "Pricing"},
        {"duration_minutes": 30},
        {"place": "", "location": location},
        {"location": None, "place": "Head office"},
    ]
    for expected, change in enumerate(changes, start=1):
        meeting = reschedule(meeting, rep, **change)
        assert Activity.objects.get(pk=meeting.pk).sequence == meeting.sequence == expected


def test_an_unchanged_save_writes_nothing(rep_client, rep, meeting):
    row = Activity.objects.values("sequence", "updated_at", "start_at").get(pk=meeting.pk)

    response = rep_client.post(edit_url(meeting), form_data(meeting))  # the page posted back as shown

    assert response.status_code == 302
    assert Activity.objects.values("sequence", "updated_at", "start_at").get(pk=meeting.pk) == row
    assert [str(m) for m in response.wsgi_request._messages] == ["Nothing changed."]
    reschedule(meeting, rep, place="  Café Coffee Day  ")  # the service: the same values (spaces trimmed) too
    assert Activity.objects.values("sequence", "updated_at", "start_at").get(pk=meeting.pk) == row


# --- Notifications again at the new time ------------------------------------------------------------------------------


def test_a_moved_time_clears_notified_at_so_the_new_time_notifies_again(rep, reminder):
    due = reminder.start_at + timedelta(seconds=1)
    assert services.activities_notify_due(now=due) == 1
    reminder.refresh_from_db()
    assert reminder.notified_at is not None

    moved = reschedule(reminder, rep, start_at=reminder.start_at + timedelta(days=1))  # "later"
    assert moved.notified_at is None and Activity.objects.get(pk=reminder.pk).notified_at is None

    assert services.activities_notify_due(now=due + timedelta(hours=1)) == 0  # not yet due at its new time
    assert services.activities_notify_due(now=moved.start_at) == 1  # due again: a second notification
    assert Notification.objects.filter(recipient=rep, event=Notification.Event.REMINDER_DUE).count() == 2


def test_a_change_that_keeps_the_time_keeps_notified_at(rep, reminder):
    notified = timezone.now()
    Activity.objects.filter(pk=reminder.pk).update(notified_at=notified)
    reminder.refresh_from_db()
    changed = reschedule(reminder, rep, subject="Send the new price list")
    assert changed.sequence == 1 and Activity.objects.get(pk=reminder.pk).notified_at == notified


def test_reminder_edit_page_has_no_place_fields_and_saves(rep_client, partner, reminder):
    response = rep_client.get(edit_url(reminder))
    assert response.status_code == 200
    assert list(response.context["form"].fields) == ["subject", "start_at"]
    new_start = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    response = rep_client.post(edit_url(reminder), form_data(reminder, start_at=local(new_start), subject="Call back"))
    assert response.status_code == 302
    reminder.refresh_from_db()
    assert (reminder.start_at, reminder.subject, reminder.sequence) == (new_start, "Call back", 1)


# --- What cannot be changed -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("close", ["activity_complete", "activity_cancel"])
def test_done_or_cancelled_cannot_be_rescheduled(rep_client, rep, meeting, close):
    getattr(services, close)(activity=meeting, by=rep)
    row = Activity.objects.values().get(pk=meeting.pk)
    status = row["status"]

    with pytest.raises(ValidationError, match=f"already {status}"):
        reschedule(meeting, rep, start_at=timezone.now() + timedelta(days=9), subject="Moved")
    response = rep_client.post(edit_url(meeting), form_data(meeting, subject="Moved"))

    assert response.status_code == 302
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == [f"This activity is already {status}: it can't be changed."]
    assert Activity.objects.values().get(pk=meeting.pk) == row  # nothing written


def test_another_reps_partner_is_404_on_get_and_post(client, other_rep, meeting):
    client.force_login(other_rep)
    row = Activity.objects.values().get(pk=meeting.pk)
    assert client.get(edit_url(meeting)).status_code == 404
    assert client.post(edit_url(meeting), form_data(meeting, subject="Hijacked")).status_code == 404
    assert Activity.objects.values().get(pk=meeting.pk) == row


def test_an_activity_of_another_partner_is_404(rep_client, rep, meeting):
    mine_too = factories.partner_with_contacts(assigned_to=rep)
    url = reverse("activities:edit", args=[mine_too.pk, meeting.pk])
    assert rep_client.get(url).status_code == 404
    assert rep_client.post(url, form_data(meeting, subject="Elsewhere")).status_code == 404
    assert Activity.objects.get(pk=meeting.pk).subject == "Quarterly review"


# --- Bad input --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"start_at": ""}, "start_at", "This field is required."),
        ({"start_at": "tomorrow-ish"}, "start_at", "Enter a valid date/time."),
        ({"duration_minutes": "-15"}, "duration_minutes", "Ensure this value is greater than or equal to 1."),
        ({"start_at": local(timezone.now() - timedelta(days=1))}, "start_at", "That time has passed"),
    ],
)
def test_bad_input_is_a_field_error_and_nothing_is_written(rep_client, meeting, changes, field, message):
    row = Activity.objects.values().get(pk=meeting.pk)
    response = rep_client.post(edit_url(meeting), form_data(meeting, **changes))
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert Activity.objects.values().get(pk=meeting.pk) == row


def test_service_refuses_bad_values_naming_the_field(rep, meeting, reminder):
    other_location = factories.partner_with_contacts(assigned_to=rep).locations.get()
    cases = [
        (meeting, {"duration_minutes": -5}, "duration_minutes"),
        (meeting, {"location": other_location, "place": ""}, "location"),
        (meeting, {"start_at": timezone.now() - timedelta(hours=2)}, "start_at"),
        (reminder, {"duration_minutes": 30}, "duration_minutes"),
        (reminder, {"place": "Somewhere"}, "place"),
        (reminder, {"subject": "  "}, "subject"),
    ]
    for activity, change, field in cases:
        row = Activity.objects.values().get(pk=activity.pk)
        with pytest.raises(ValidationError) as raised:
            reschedule(activity, rep, **change)
        assert field in raised.value.message_dict, change
        assert Activity.objects.values().get(pk=activity.pk) == row


def test_an_overdue_activity_keeps_its_past_time_while_its_subject_changes(rep_client, rep, partner, meeting):
    past = timezone.now() - timedelta(hours=3)
    Activity.objects.filter(pk=meeting.pk).update(start_at=past)
    meeting.refresh_from_db()
    response = rep_client.post(edit_url(meeting), form_data(meeting, subject="Follow-up"))
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert (meeting.start_at, meeting.subject, meeting.sequence) == (past, "Follow-up", 1)


# --- The page ---------------------------------------------------------------------------------------------------------


def test_edit_page_queries_are_constant(rep_client, partner, meeting, django_assert_num_queries):
    for n in range(5):  # more locations to choose from: still one query for them
        factories.LocationFactory(partner=partner, label=f"Branch {n}")
    # 1. the session, 2. the user, 3. the visibility check (does the rep see all partners?), 4. the partner (with
    # tier and assigned rep), 5. the activity (with its location), 6. the partner's locations (the select's choices)
    with django_assert_num_queries(6):
        response = rep_client.get(edit_url(meeting))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'type="datetime-local"' in html and local(meeting.start_at) in html and "Quarterly review" in html


def test_partner_page_links_planned_items_to_their_edit_page(rep_client, rep, partner, meeting, reminder):
    logged = services.activity_log(partner=partner, by=rep, kind=Activity.Kind.CALL, start_at=timezone.now())
    html = rep_client.get(reverse("partners:detail", args=[partner.pk])).content.decode()
    assert edit_url(meeting) in html and edit_url(reminder) in html
    assert edit_url(logged) not in html
