"""The activity forms on a phone: "Log activity" starts at now (active time zone), one datetime-local picker, numeric
duration; "Log this …" prefill after a quick action (validated); the channel is saved; no "Call: Call: …"."""

import zoneinfo
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import Activity
from notifications.models import Preference
from partners.models import ContactPoint
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner(rep):
    return factories.partner_with_contacts(name="Acme", assigned_to=rep)


def log_url(partner):
    return reverse("activities:log", args=[partner.pk])


def test_log_form_starts_at_now_with_phone_friendly_inputs(client, rep, partner):
    Preference.objects.update_or_create(user=rep, defaults={"time_zone": "Asia/Kolkata"})
    client.force_login(rep)  # the user's zone is active for their requests
    before = timezone.localtime(timezone=zoneinfo.ZoneInfo("Asia/Kolkata")).replace(second=0, microsecond=0)
    response = client.get(log_url(partner))
    html = response.content.decode()
    # The input shows the wall time of the active time zone (Kolkata, not UTC), to the minute.
    shown = [f"{moment:%Y-%m-%dT%H:%M}" for moment in (before, before + timedelta(minutes=1))]
    assert 'type="datetime-local"' in html and any(f'value="{value}"' in html for value in shown), shown
    assert 'name="duration_minutes"' in html and 'type="number"' in html and 'inputmode="numeric"' in html
    assert 'name="date"' not in html and 'name="time"' not in html  # one picker, one format


def test_schedule_and_remind_forms_use_the_same_picker(rep_client, partner):
    for name in ("schedule", "remind"):
        html = rep_client.get(reverse(f"activities:{name}", args=[partner.pk])).content.decode()
        assert 'type="datetime-local"' in html, name


def test_log_this_prefill_from_a_quick_action(rep_client, partner):
    mobile = partner.contact_points.get(kind="mobile", is_primary=True)
    response = rep_client.get(log_url(partner), {"kind": "message", "channel": "whatsapp", "contact": mobile.pk})
    initial = response.context["form"].initial
    assert (initial["kind"], initial["channel"], initial["subject"]) == ("message", "whatsapp", mobile.value)
    html = response.content.decode()
    assert '<option value="whatsapp" selected>' in html


def test_log_this_prefill_ignores_unknown_values_and_other_partners_contacts(rep_client, rep, partner):
    other = factories.partner_with_contacts(assigned_to=rep)
    foreign = other.contact_points.first()
    for params in ({"kind": "task", "channel": "pigeon", "contact": foreign.pk},
                   {"kind": "<b>", "channel": "", "contact": "12abc"},
                   {"contact": "9" * 40}):
        response = rep_client.get(log_url(partner), params)
        assert response.status_code == 200
        initial = response.context["form"].initial
        assert not {"kind", "channel", "subject"} & set(initial), params


def test_logging_records_the_channel_and_now_is_not_the_future(rep_client, partner):
    now = timezone.localtime().replace(second=0, microsecond=0)
    data = {"kind": "message", "channel": "wechat", "start_at": f"{now:%Y-%m-%dT%H:%M}", "subject": "Prices"}
    response = rep_client.post(log_url(partner), data)
    assert response.status_code == 302
    activity = Activity.objects.get()
    assert (activity.channel, activity.kind, activity.mode) == ("wechat", "message", "logged")


def test_a_bad_channel_is_refused_naming_the_field(rep_client, partner):
    now = timezone.localtime() - timedelta(hours=1)
    data = {"kind": "call", "channel": "fax", "start_at": f"{now:%Y-%m-%dT%H:%M}"}
    response = rep_client.post(log_url(partner), data)
    assert response.status_code == 200 and "channel" in response.context["form"].errors
    assert not Activity.objects.exists()


def test_log_goes_back_to_where_it_came_from(rep_client, partner):
    moment = timezone.localtime() - timedelta(hours=1)
    data = {"kind": "call", "start_at": f"{moment:%Y-%m-%dT%H:%M}", "next": "/today/"}
    assert rep_client.post(log_url(partner), data).url == "/today/"
    data["next"] = "//evil.example/x"
    assert rep_client.post(log_url(partner), data).url == reverse("partners:detail", args=[partner.pk])


def test_no_doubled_kind_labels(rep_client, rep, partner):
    moment = timezone.now() - timedelta(hours=1)
    for subject in ("Call: Call: follow-up", "call", "Call:", "Review"):
        services.activity_log(partner=partner, by=rep, kind="call", start_at=moment, subject=subject)
    assert sorted(a.shown_subject for a in Activity.objects.all()) == ["", "", "Review", "follow-up"]
    html = rep_client.get(reverse("partners:detail", args=[partner.pk])).content.decode()
    assert "Call: Call" not in html and "Call</strong>: call" not in html
    assert "Call</strong>: follow-up" in html and "Call</strong>: Review" in html


def test_contact_kinds_of_the_quick_actions_include_wechat(rep_client, rep):
    partner = factories.PartnerFactory(assigned_to=rep)
    ContactPoint.objects.create(partner=partner, kind="wechat", value="acme_li", is_primary=True)
    html = rep_client.get(reverse("partners:detail", args=[partner.pk])).content.decode()
    assert 'href="weixin://dl/chat?acme_li"' in html
