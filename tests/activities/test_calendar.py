"""Calendars: the private feed (/calendar/<token>.ics), one activity's .ics download, and how updates flow to them
(stable UIDs, SEQUENCE, STATUS:CANCELLED)."""

from datetime import UTC, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from activities import services
from activities.calendar import activity_summary
from activities.models import Activity
from notifications.preferences import calendar_token_create, calendar_token_revoke
from partners.models import Partner
from tests import factories

pytestmark = pytest.mark.django_db


def feed_url(token):
    return reverse("calendar_feed", args=[token])


def ics_url(activity):
    return reverse("activities:ics", args=[activity.partner_id, activity.pk])


def events(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


@pytest.fixture
def partner(rep):
    return factories.PartnerFactory(name="Acme, Inc", assigned_to=rep)


@pytest.fixture
def token(rep):
    return calendar_token_create(user=rep)


def schedule(partner, user, *, days=1, **kwargs):
    values = {"kind": Activity.Kind.CALL, "start_at": timezone.now() + timedelta(days=days), "duration_minutes": 45}
    return services.activity_schedule(partner=partner, by=user, **{**values, **kwargs})


# --- The feed ----------------------------------------------------------------------------------------------------------


def test_feed_has_one_event_per_scheduled_activity(client, rep, partner, token, settings):
    settings.SITE_URL = "https://prm.example.com"
    location = factories.LocationFactory(partner=partner, label="HQ", address="1 MG Road, Bengaluru")
    start = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    meeting = schedule(partner, rep, kind="meeting", start_at=start, location=location, subject="Quarterly review")
    call = schedule(partner, rep, days=3, duration_minutes=None, place="Café Coffee Day")
    schedule(partner, rep, days=4, subject="Call")  # a subject that only repeats the kind
    services.activity_remind(partner=partner, by=rep, start_at=start, subject="Send the price list")  # not an event

    found = events(client.get(feed_url(token)))
    assert len(found) == 3
    event = found[f"activity-{meeting.pk}@prm.example.com"]
    assert event.decoded("DTSTART") == start.astimezone(UTC)
    assert event.decoded("DTSTART").tzinfo is not None and event["DTSTART"].to_ical().endswith(b"Z")
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=45)
    assert str(event["SUMMARY"]) == "Meeting with Acme, Inc: Quarterly review"
    assert str(event["LOCATION"]) == "HQ, 1 MG Road, Bengaluru"
    assert f"https://prm.example.com/partners/{partner.pk}/" in str(event["DESCRIPTION"])
    assert (str(event["STATUS"]), int(event["SEQUENCE"])) == ("CONFIRMED", 0)

    event = found[f"activity-{call.pk}@prm.example.com"]
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=30)  # the default
    assert str(event["LOCATION"]) == "Café Coffee Day"
    assert sorted(str(e["SUMMARY"]) for e in found.values()) == [
        "Call with Acme, Inc", "Call with Acme, Inc", "Meeting with Acme, Inc: Quarterly review",
    ]


def test_feed_shows_only_the_users_own_activities_on_partners_they_see(client, rep, other_rep, partner, token):
    mine = schedule(partner, rep)
    schedule(factories.PartnerFactory(assigned_to=other_rep), other_rep)  # someone else's
    schedule(partner, other_rep)  # on my partner, but owned by someone else
    schedule(partner, rep, days=200)  # beyond the window
    old = schedule(partner, rep)
    Activity.objects.filter(pk=old.pk).update(start_at=timezone.now() - timedelta(days=40))  # before it
    reassigned = factories.PartnerFactory(assigned_to=rep)
    schedule(reassigned, rep)
    Partner.objects.filter(pk=reassigned.pk).update(assigned_to=other_rep)  # moved to another rep: leaves the feed
    found = events(client.get(feed_url(token)))
    assert [uid.split("@")[0] for uid in found] == [f"activity-{mine.pk}"]


def test_feed_query_count_is_constant(client, rep, partner, token, django_assert_num_queries):
    for days in range(1, 31):
        schedule(partner, rep, days=days)
    # 1. the token's preference with its (active) user, 2. whether the user sees all partners (visibility),
    # 3. the events with partner and location.
    with django_assert_num_queries(3):
        response = client.get(feed_url(token))
    assert len(events(response)) == 30


def test_cancel_bumps_sequence_and_stays_in_the_feed_as_cancelled(client, rep, partner, token):
    activity = schedule(partner, rep)
    before = events(client.get(feed_url(token)))
    uid = next(iter(before))
    assert int(before[uid]["SEQUENCE"]) == 0
    cancelled = services.activity_cancel(activity=activity, by=rep, outcome="Partner travelling")
    assert cancelled.sequence == 1
    after = events(client.get(feed_url(token)))
    assert list(after) == [uid]  # the same UID: calendars replace their copy
    assert int(after[uid]["SEQUENCE"]) == 1 and str(after[uid]["STATUS"]) == "CANCELLED"
    assert Activity.objects.get(pk=activity.pk).sequence == 1


def test_completing_bumps_sequence(rep, partner):
    activity = schedule(partner, rep)
    assert services.activity_complete(activity=activity, by=rep).sequence == 1
    assert Activity.objects.get(pk=activity.pk).sequence == 1


def test_wrong_revoked_and_inactive_tokens_get_the_same_404(client, rep, other_rep, partner, token):
    schedule(partner, rep)
    wrong = client.get(feed_url("not-a-token"))
    calendar_token_revoke(user=rep)
    revoked = client.get(feed_url(token))
    inactive_token = calendar_token_create(user=other_rep)
    other_rep.is_active = False
    other_rep.save(update_fields=["is_active"])
    inactive = client.get(feed_url(inactive_token))
    assert wrong.status_code == revoked.status_code == inactive.status_code == 404
    assert wrong.content == revoked.content == inactive.content
    assert wrong["Content-Type"] == revoked["Content-Type"] == inactive["Content-Type"]


def test_old_token_after_replace_is_404(client, rep, partner, token):
    new = calendar_token_create(user=rep)
    assert client.get(feed_url(token)).status_code == 404
    assert client.get(feed_url(new)).status_code == 200


def test_summary_does_not_double_the_kind(partner, rep):
    activity = Activity(partner=partner, kind="call", subject="Call: Call: pricing")
    assert activity_summary(activity) == "Call with Acme, Inc: Call: pricing"
    assert activity_summary(Activity(partner=partner, kind="call", subject="Call: pricing")) == (
        "Call with Acme, Inc: pricing"
    )
    assert activity_summary(Activity(partner=partner, kind="meeting", subject="meeting")) == "Meeting with Acme, Inc"


# --- One activity's .ics -----------------------------------------------------------------------------------------------


def test_ics_download(rep_client, rep, partner):
    activity = schedule(partner, rep, subject="Demo")
    response = rep_client.get(ics_url(activity))
    assert response["Content-Disposition"] == f'attachment; filename="activity-{activity.pk}.ics"'
    (event,) = events(response).values()
    assert str(event["SUMMARY"]) == "Call with Acme, Inc: Demo"
    assert Calendar.from_ical(response.content)["METHOD"] == "PUBLISH"


def test_ics_of_another_reps_partner_is_404(rep_client, partner, other_rep):
    theirs = factories.PartnerFactory(assigned_to=other_rep)
    activity = schedule(theirs, other_rep)
    assert rep_client.get(ics_url(activity)).status_code == 404
    # Nor through my own partner's URL.
    mine = partner
    assert rep_client.get(reverse("activities:ics", args=[mine.pk, activity.pk])).status_code == 404


def test_ics_of_a_reminder_is_404(rep_client, rep, partner):
    reminder = services.activity_remind(
        partner=partner, by=rep, start_at=timezone.now() + timedelta(hours=1), subject="Call back"
    )
    assert rep_client.get(ics_url(reminder)).status_code == 404


def test_ics_needs_login(client, rep, partner):
    activity = schedule(partner, rep)
    assert client.get(ics_url(activity)).status_code == 302


def test_manager_can_download_a_reps_activity(manager_client, rep, partner):
    activity = schedule(partner, rep)
    assert len(events(manager_client.get(ics_url(activity)))) == 1


def test_partner_page_links_planned_scheduled_activities_to_their_ics(rep_client, rep, partner):
    planned = schedule(partner, rep)
    done = schedule(partner, rep, days=2)
    services.activity_complete(activity=done, by=rep)
    services.activity_remind(partner=partner, by=rep, start_at=timezone.now() + timedelta(hours=1), subject="x")
    html = rep_client.get(reverse("partners:detail", args=[partner.pk])).content.decode()
    assert html.count("Add to calendar") == 1
    assert ics_url(planned) in html

