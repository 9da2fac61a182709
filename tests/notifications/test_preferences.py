"""Each user's settings (notifications.preferences), the settings page, the calendar feed token and the time zone a
request runs in."""

import hashlib
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from notifications.models import Preference
from notifications.preferences import (
    SESSION_TIME_ZONE,
    calendar_token_create,
    calendar_token_revoke,
    digest_next_after,
    preference_for,
    preference_save,
    user_for_calendar_token,
)

pytestmark = pytest.mark.django_db
SETTINGS_URL = reverse("settings")
KOLKATA = "Asia/Kolkata"


def save(user, **changes):
    values = {"time_zone": KOLKATA, "lead_minutes": 15, "email_notifications": True, "digest_enabled": False}
    return preference_save(user=user, **{**values, **changes})


# --- Services and selectors ------------------------------------------------------------------------------------------


def test_defaults_without_a_row(rep, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    preference = preference_for(user=rep)
    assert preference.pk is not None and preference._state.adding  # unsaved: no row was written
    assert (preference.time_zone, preference.lead_minutes, preference.email_notifications,
            preference.digest_enabled) == ("Europe/Berlin", 15, True, False)
    assert not Preference.objects.exists()


def test_save_upserts_one_row(rep):
    save(rep, lead_minutes=30)
    save(rep, lead_minutes=45, email_notifications=False)
    row = Preference.objects.get()
    assert (row.user, row.time_zone, row.lead_minutes, row.email_notifications) == (rep, KOLKATA, 45, False)
    assert preference_for(user=rep).lead_minutes == 45


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"time_zone": ""}, "time_zone"),
        ({"lead_minutes": 2000}, "lead_minutes"),
        ({"lead_minutes": -1}, "lead_minutes"),
        ({"lead_minutes": "15"}, "lead_minutes"),
    ],
)
def test_bad_values_name_the_field_and_write_nothing(rep, changes, field):
    save(rep, lead_minutes=20)
    with pytest.raises(ValidationError) as caught:
        save(rep, lead_minutes=25, **changes) if "lead_minutes" not in changes else save(rep, **changes)
    assert list(caught.value.message_dict) == [field]
    assert Preference.objects.get().lead_minutes == 20


def test_bad_values_for_a_new_user_create_no_row(rep):
    with pytest.raises(ValidationError):
        save(rep, time_zone="Nowhere/Town")
    assert not Preference.objects.exists()


def test_digest_is_due_at_the_next_0800_in_the_users_zone(rep):
    preference = save(rep, digest_enabled=True)
    local = preference.digest_next_at.astimezone(zoneinfo.ZoneInfo(KOLKATA))
    assert (local.hour, local.minute) == (8, 0)
    assert timezone.now() < preference.digest_next_at <= timezone.now() + timedelta(days=1)
    # Unchanged when saved again in the same zone; recomputed when the zone changes; cleared when switched off.
    assert save(rep, digest_enabled=True, lead_minutes=5).digest_next_at == preference.digest_next_at
    moved = save(rep, digest_enabled=True, time_zone="America/New_York").digest_next_at
    assert moved.astimezone(zoneinfo.ZoneInfo("America/New_York")).hour == 8
    assert save(rep, digest_enabled=False).digest_next_at is None


def test_digest_next_after_crosses_midnight_and_dst():
    # 07:59 → 08:00 the same day; 08:00 → the next day's.
    tz = zoneinfo.ZoneInfo("Europe/London")
    assert digest_next_after(time_zone="Europe/London", after=datetime(2026, 3, 28, 7, 59, tzinfo=tz)) == datetime(
        2026, 3, 28, 8, 0, tzinfo=tz
    )
    # Clocks go forward on 29 March 2026: 08:00 BST is 07:00 UTC.
    after = datetime(2026, 3, 28, 8, 0, tzinfo=tz)
    assert digest_next_after(time_zone="Europe/London", after=after).astimezone(UTC) == datetime(
        2026, 3, 29, 7, 0, tzinfo=UTC
    )


def test_calendar_token_is_stored_hashed_and_replaced(rep):
    token = calendar_token_create(user=rep)
    row = Preference.objects.get()
    assert len(token) >= 40 and token not in row.calendar_token_hash
    assert row.calendar_token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert user_for_calendar_token(token=token) == rep
    new = calendar_token_create(user=rep)
    assert new != token
    assert user_for_calendar_token(token=token) is None
    assert user_for_calendar_token(token=new) == rep
    calendar_token_revoke(user=rep)
    assert user_for_calendar_token(token=new) is None
    assert Preference.objects.get().calendar_token_hash == ""


def test_calendar_token_of_an_inactive_user_finds_nobody(rep):
    token = calendar_token_create(user=rep)
    rep.is_active = False
    rep.save(update_fields=["is_active"])
    assert user_for_calendar_token(token=token) is None
    assert user_for_calendar_token(token="") is None
    assert user_for_calendar_token(token="x" * 500) is None


# --- The settings page -----------------------------------------------------------------------------------------------


def test_settings_page_query_count(rep_client, rep, django_assert_num_queries):
    save(rep, lead_minutes=40)
    # 1. session, 2. user (login), 3. the user's preferences.
    with django_assert_num_queries(3):
        response = rep_client.get(SETTINGS_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert f"<option selected>{KOLKATA}</option>" in html
    assert 'inputmode="numeric"' in html and 'value="40"' in html
    assert "Create calendar link" in html


def test_settings_page_defaults_to_the_organisations_zone(rep_client, settings):
    settings.TIME_ZONE = "Europe/Paris"
    html = rep_client.get(SETTINGS_URL).content.decode()
    assert "<option selected>Europe/Paris</option>" in html


def test_settings_page_needs_login(client):
    response = client.get(SETTINGS_URL)
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_save_settings_redirects_and_switches_the_zone(rep_client, rep):
    data = {"action": "save", "time_zone": KOLKATA, "lead_minutes": "30", "email_notifications": "on",
            "digest_enabled": "on"}
    response = rep_client.post(SETTINGS_URL, data)
    assert response.status_code == 302 and response.url == SETTINGS_URL
    row = Preference.objects.get(user=rep)
    assert (row.time_zone, row.lead_minutes, row.email_notifications, row.digest_enabled) == (KOLKATA, 30, True, True)
    assert rep_client.session[SESSION_TIME_ZONE] == KOLKATA
    # Unticked boxes are off.
    rep_client.post(SETTINGS_URL, {**data, "email_notifications": "", "digest_enabled": ""})
    row.refresh_from_db()
    assert (row.email_notifications, row.digest_enabled, row.digest_next_at) == (False, False, None)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "Choose a time zone"),
        ({"lead_minutes": "2000"}, "lead_minutes", "less than or equal to 1440"),
        ({"lead_minutes": "-1"}, "lead_minutes", "greater than or equal to 0"),
        ({"lead_minutes": "soon"}, "lead_minutes", "whole number"),
        ({"lead_minutes": ""}, "lead_minutes", "required"),
    ],
)
def test_save_settings_errors_are_named_and_nothing_is_saved(rep_client, rep, changes, field, message):
    save(rep, time_zone="Europe/London", lead_minutes=20)
    data = {"action": "save", "time_zone": KOLKATA, "lead_minutes": "30", "email_notifications": "on", **changes}
    response = rep_client.post(SETTINGS_URL, data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field] and message in " ".join(errors[field])
    row = Preference.objects.get(user=rep)
    assert (row.time_zone, row.lead_minutes) == ("Europe/London", 20)


def test_calendar_link_is_shown_once_then_replaced_or_revoked(rep_client, rep, client, settings):
    settings.SITE_URL = "http://testserver"
    response = rep_client.post(SETTINGS_URL, {"action": "calendar_create"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    feed_url = response.context["feed_url"]
    assert feed_url.startswith("http://testserver/calendar/") and feed_url.endswith(".ics")
    assert feed_url in response.content.decode()
    token = feed_url.rsplit("/", 1)[1].removesuffix(".ics")
    assert not Preference.objects.filter(calendar_token_hash__contains=token).exists()
    # The next visit does not show it again.
    page = rep_client.get(SETTINGS_URL).content.decode()
    assert token not in page and "Replace link" in page and "Revoke link" in page

    feed_path = feed_url.removeprefix("http://testserver")
    assert client.get(feed_path).status_code == 200

    replaced = rep_client.post(SETTINGS_URL, {"action": "calendar_create"}).context["feed_url"]
    assert replaced != feed_url
    assert client.get(feed_path).status_code == 404
    assert client.get(replaced.removeprefix("http://testserver")).status_code == 200

    response = rep_client.post(SETTINGS_URL, {"action": "calendar_revoke"})
    assert response.status_code == 302
    assert client.get(replaced.removeprefix("http://testserver")).status_code == 404
    assert "Create calendar link" in rep_client.get(SETTINGS_URL).content.decode()


def test_calendar_link_uses_site_url(rep_client, settings):
    settings.SITE_URL = "https://prm.example.com"
    feed_url = rep_client.post(SETTINGS_URL, {"action": "calendar_create"}).context["feed_url"]
    assert feed_url.startswith("https://prm.example.com/calendar/")


# --- The zone a request runs in ----------------------------------------------------------------------------------------


def test_login_puts_the_zone_in_the_session(client, rep):
    save(rep)
    client.force_login(rep)
    assert client.session[SESSION_TIME_ZONE] == KOLKATA


def test_login_with_no_preferences_uses_the_organisations_zone(client, rep, settings):
    settings.TIME_ZONE = "Europe/Rome"
    client.force_login(rep)
    assert client.session[SESSION_TIME_ZONE] == "Europe/Rome"


def test_a_session_without_the_zone_reads_it_once(rep_client, rep, django_assert_num_queries):
    save(rep)
    session = rep_client.session
    del session[SESSION_TIME_ZONE]
    session.save()
    response = rep_client.get(SETTINGS_URL)  # reads it and keeps it
    assert response.status_code == 200
    assert rep_client.session[SESSION_TIME_ZONE] == KOLKATA
    # 1. session, 2. user, 3. preferences (the page's own): no query for the zone any more.
    with django_assert_num_queries(3):
        rep_client.get(SETTINGS_URL)


def test_the_zone_is_not_left_active_after_a_request(rep_client, rep):
    save(rep)
    rep_client.get(SETTINGS_URL)
    assert timezone.get_current_timezone_name() == timezone.get_default_timezone_name()
