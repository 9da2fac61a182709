"""Every time a page shows or a form reads is in the user's own zone (notifications.middleware); business periods
keep following the organisation's zone."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import Activity
from business import periods
from business.metrics import metrics_compute_period
from business.models import Achievement, Parameter
from notifications.preferences import preference_save
from tests import factories

pytestmark = pytest.mark.django_db
KOLKATA = "Asia/Kolkata"


def set_zone(user, name):
    preference_save(user=user, time_zone=name, lead_minutes=15, email_notifications=True, digest_enabled=False)


@pytest.fixture
def partner(rep):
    return factories.PartnerFactory(name="Acme", assigned_to=rep)


def next_day_at_utc(hour, minute):
    tomorrow = timezone.now().astimezone(UTC).date() + timedelta(days=2)
    return datetime(tomorrow.year, tomorrow.month, tomorrow.day, hour, minute, tzinfo=UTC)


def test_the_same_activity_at_each_users_own_time(client, rep, manager, partner, settings):
    settings.TIME_ZONE = "UTC"
    set_zone(rep, KOLKATA)
    start = next_day_at_utc(3, 30)  # 09:00 in Kolkata (UTC+05:30)
    services.activity_schedule(partner=partner, by=rep, kind=Activity.Kind.CALL, start_at=start, duration_minutes=30)
    page = reverse("partners:detail", args=[partner.pk])

    client.force_login(rep)  # Asia/Kolkata
    html = client.get(page).content.decode()
    assert "· 09:00</time>" in html and start.astimezone(ZoneInfo(KOLKATA)).isoformat() in html

    client.force_login(manager)  # no preference: the organisation's UTC
    html = client.get(page).content.decode()
    assert "· 03:30</time>" in html and "· 09:00</time>" not in html


def test_a_time_typed_in_the_schedule_form_is_the_users_zone(client, rep, partner, settings):
    settings.TIME_ZONE = "UTC"
    set_zone(rep, KOLKATA)
    client.force_login(rep)
    day = timezone.now().date() + timedelta(days=5)
    response = client.post(
        reverse("activities:schedule", args=[partner.pk]),
        # The form's one datetime-local field (and the older date + time pair: a form ignores fields it lacks).
        {"kind": "call", "start_at": f"{day.isoformat()}T09:00", "date": day.isoformat(), "time": "09:00",
         "duration_minutes": "30"},
    )
    assert response.status_code == 302
    stored = Activity.objects.get(partner=partner).start_at
    assert stored == datetime(day.year, day.month, day.day, 3, 30, tzinfo=UTC)


def test_changing_the_zone_on_the_settings_page_applies_at_once(rep_client, rep, partner):
    start = next_day_at_utc(3, 30)
    services.activity_schedule(partner=partner, by=rep, kind=Activity.Kind.CALL, start_at=start)
    page = reverse("partners:detail", args=[partner.pk])
    assert "· 03:30</time>" in rep_client.get(page).content.decode()
    rep_client.post(reverse("settings"), {"action": "save", "time_zone": "America/New_York", "lead_minutes": "15"})
    expected = start.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M")
    assert f"· {expected}</time>" in rep_client.get(page).content.decode()


def test_business_periods_follow_the_organisations_zone_not_the_users(settings, rep):
    """A lead created at 2026-01-31 23:30 UTC is January's for an organisation in UTC, even while a request runs in
    the zone of a user in Asia/Kolkata, where it is already 1 February."""
    settings.TIME_ZONE = "UTC"
    set_zone(rep, KOLKATA)
    partner = factories.PartnerFactory(assigned_to=rep)
    created = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)
    factories.LeadFactory(partner=partner, created_at=created)
    with timezone.override(ZoneInfo(KOLKATA)):
        assert timezone.localdate(created) == date(2026, 2, 1)  # the user's day
        assert periods.org_today(created) == date(2026, 1, 31)  # the organisation's
        metrics_compute_period(day=date(2026, 1, 15))
        metrics_compute_period(day=date(2026, 2, 15))
    generated = {
        a.period_start: a.value
        for a in Achievement.objects.filter(partner=partner, parameter__code=Parameter.LEADS_GENERATED)
    }
    assert generated == {date(2026, 1, 1): 1}


def test_the_business_card_uses_the_organisations_current_period(rep_client, rep, settings):
    """The partner page's card reads "this month" in the organisation's zone, whatever the user's."""
    settings.TIME_ZONE = "UTC"
    set_zone(rep, "Pacific/Kiritimati")  # UTC+14: often already tomorrow (next month, on the last day)
    partner = factories.PartnerFactory(assigned_to=rep)
    rep_client.post(reverse("settings"), {"action": "save", "time_zone": "Pacific/Kiritimati", "lead_minutes": "15"})
    response = rep_client.get(reverse("partners:detail", args=[partner.pk]))
    org_month = periods.period_start(periods.org_today(), "monthly")
    labels = response.context["trend_periods"]
    assert labels and labels[-1] == periods.label(org_month, "monthly")
