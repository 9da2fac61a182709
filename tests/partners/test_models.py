from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from activities.models import Activity
from business.models import Achievement, Parameter, Target
from partners.models import ContactPoint, Location, Partner, Tier
from tests import factories

pytestmark = pytest.mark.django_db


def test_default_tiers_and_system_parameters_come_from_migrations():
    assert list(Tier.objects.values_list("name", "engage_every_days")) == [
        ("Platinum", 7), ("Gold", 14), ("Silver", 30),
    ]
    assert set(Parameter.objects.filter(is_system=True).values_list("code", flat=True)) == set(Parameter.SYSTEM_CODES)


def test_second_primary_contact_of_the_same_kind_is_rejected_by_the_database():
    partner = factories.PartnerFactory()
    factories.ContactPointFactory(partner=partner, kind=ContactPoint.Kind.MOBILE, is_primary=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.ContactPointFactory(partner=partner, kind=ContactPoint.Kind.MOBILE, is_primary=True)
    # A primary of another kind, and non-primary ones of the same kind, are fine.
    factories.ContactPointFactory(partner=partner, kind=ContactPoint.Kind.EMAIL, value="a@example.com", is_primary=True)
    factories.ContactPointFactory(partner=partner, kind=ContactPoint.Kind.MOBILE, is_primary=False)
    assert partner.contact_points.count() == 3


def test_second_primary_location_is_rejected():
    partner = factories.PartnerFactory()
    factories.LocationFactory(partner=partner, is_primary=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.LocationFactory(partner=partner, is_primary=True)


def test_location_coordinates_are_range_checked():
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.LocationFactory(latitude=Decimal("91"))


@pytest.mark.parametrize("model", [Achievement, Target])
def test_duplicate_period_value_key_is_rejected(model):
    partner = factories.PartnerFactory()
    revenue = factories.parameter(Parameter.REVENUE)
    model.objects.create(partner=partner, parameter=revenue, period_start=date(2026, 1, 1), value=Decimal("10"))
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.create(partner=partner, parameter=revenue, period_start=date(2026, 1, 1), value=Decimal("20"))


def test_logged_activity_must_be_done():
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.ActivityFactory(mode=Activity.Mode.LOGGED, status=Activity.Status.PLANNED)


def test_deleting_a_partner_with_history_is_refused():
    activity = factories.ActivityFactory()
    with pytest.raises(ProtectedError):
        activity.partner.delete()
    lead = factories.LeadFactory()
    with pytest.raises(ProtectedError):
        lead.partner.delete()


def test_deleting_a_user_keeps_their_partners_and_history():
    partner = factories.PartnerFactory()
    activity = factories.ActivityFactory(partner=partner)
    lead = factories.LeadFactory(partner=partner)
    partner.assigned_to.delete()
    partner.refresh_from_db()
    activity.refresh_from_db()
    lead.refresh_from_db()
    assert partner.assigned_to is None
    assert activity.owner is None
    assert lead.assigned_to is None


def test_deleting_a_tier_in_use_is_refused():
    partner = factories.PartnerFactory(tier=factories.tier("Silver"))
    with pytest.raises(ProtectedError):
        partner.tier.delete()
    assert Partner.objects.filter(pk=partner.pk).exists()


def test_location_maps_url_prefers_coordinates():
    location = Location(address="1 MG Road", latitude=Decimal("12.9"), longitude=Decimal("77.6"))
    assert "query=12.900000%2C77.600000" in location.maps_url or "query=12.9%2C77.6" in location.maps_url
    assert "query=1+MG+Road" in Location(address="1 MG Road").maps_url
