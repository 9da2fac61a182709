"""activities.services: scheduling, logging, completing and cancelling, and the partner's engagement dates."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from activities import services as activity_services
from activities.models import Activity
from partners import services as partner_services
from partners.models import Partner
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner(rep):
    return partner_services.partner_create(by=rep, code="ACME", name="Acme", tier=factories.tier("Gold"), assigned_to=rep)


def test_logging_an_activity_moves_last_engaged_at(rep, partner):
    when = timezone.now() - timedelta(days=2)
    activity_services.activity_log(partner=partner, by=rep, kind=Activity.Kind.CALL, start_at=when, outcome="ok")
    partner.refresh_from_db()
    assert partner.last_engaged_at == when
    assert partner.engagement_due_at == when + timedelta(days=14)


def test_logging_a_future_activity_is_refused(rep, partner):
    with pytest.raises(ValidationError):
        activity_services.activity_log(
            partner=partner, by=rep, kind=Activity.Kind.CALL, start_at=timezone.now() + timedelta(hours=1)
        )


def test_scheduling_sets_next_engagement_and_completing_moves_last(rep, partner):
    soon = timezone.now() + timedelta(days=3)
    later = timezone.now() + timedelta(days=10)
    first = activity_services.activity_schedule(partner=partner, by=rep, kind=Activity.Kind.MEETING, start_at=soon,
                                                duration_minutes=60)
    activity_services.activity_schedule(partner=partner, by=rep, kind=Activity.Kind.CALL, start_at=later)
    activity_services.activity_remind(partner=partner, by=rep, start_at=timezone.now() + timedelta(days=1),
                                      subject="Send price list")
    partner.refresh_from_db()
    assert partner.next_engagement_at == soon  # the reminder is not an engagement
    assert partner.last_engaged_at is None

    before = timezone.now()
    activity_services.activity_complete(activity=first, by=rep, outcome="Signed")
    partner.refresh_from_db()
    first.refresh_from_db()
    assert first.status == Activity.Status.DONE and first.outcome == "Signed"
    assert before <= partner.last_engaged_at <= timezone.now()  # completed early: it happened now
    assert partner.next_engagement_at == later


def test_completing_twice_is_refused(rep, partner):
    activity = activity_services.activity_schedule(partner=partner, by=rep, kind=Activity.Kind.CALL,
                                                   start_at=timezone.now() - timedelta(hours=1))
    activity_services.activity_complete(activity=activity, by=rep)
    with pytest.raises(ValidationError):
        activity_services.activity_complete(activity=activity, by=rep)
    with pytest.raises(ValidationError):
        activity_services.activity_cancel(activity=activity, by=rep)


def test_cancelling_clears_next_engagement(rep, partner):
    activity = activity_services.activity_schedule(partner=partner, by=rep, kind=Activity.Kind.CALL,
                                                   start_at=timezone.now() + timedelta(days=1))
    activity_services.activity_cancel(activity=activity, by=rep, outcome="Partner travelling")
    partner.refresh_from_db()
    assert partner.next_engagement_at is None


def test_only_calls_and_meetings_can_be_scheduled(rep, partner):
    with pytest.raises(ValidationError):
        activity_services.activity_schedule(partner=partner, by=rep, kind=Activity.Kind.EMAIL,
                                            start_at=timezone.now() + timedelta(days=1))


def test_location_of_another_partner_is_refused(rep, partner):
    elsewhere = factories.LocationFactory()
    with pytest.raises(ValidationError):
        activity_services.activity_schedule(partner=partner, by=rep, kind=Activity.Kind.MEETING,
                                            start_at=timezone.now() + timedelta(days=1), location=elsewhere)


def test_set_based_refresh_matches_per_partner_refresh(rep):
    partners = [factories.PartnerFactory(assigned_to=rep) for _ in range(3)]
    now = timezone.now()
    factories.ActivityFactory(partner=partners[0], start_at=now - timedelta(days=5))
    factories.ActivityFactory(partner=partners[0], start_at=now - timedelta(days=9))
    factories.ActivityFactory(partner=partners[1], mode=Activity.Mode.SCHEDULED, status=Activity.Status.PLANNED,
                              start_at=now + timedelta(days=2))
    activity_services.partners_engagement_refresh_all()
    got = {p.pk: (p.last_engaged_at, p.next_engagement_at, p.engagement_due_at)
           for p in Partner.objects.filter(pk__in=[p.pk for p in partners])}
    for p in partners:
        activity_services.partner_engagement_refresh(p)
    expected = {p.pk: (p.last_engaged_at, p.next_engagement_at, p.engagement_due_at) for p in partners}
    assert got == expected
    assert got[partners[0].pk][0] == now - timedelta(days=5)
