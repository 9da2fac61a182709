"""partners.services: the writes of partners, status changes and code changes."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from partners import services as partner_services
from partners.models import Partner, StatusChange
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner(rep):
    return partner_services.partner_create(by=rep, code="ACME", name="Acme", tier=factories.tier("Gold"), assigned_to=rep)


def test_partner_create_sets_due_date_from_tier(partner):
    partner.refresh_from_db()
    assert partner.engagement_due_at == partner.created_at + timedelta(days=14)
    assert partner.last_engaged_at is None


def test_partner_create_validates(rep, partner):
    with pytest.raises(ValidationError) as error:
        partner_services.partner_create(by=rep, code="ACME", name="Duplicate code")
    assert "code" in error.value.message_dict


def test_partner_update_reports_changes_and_refreshes_due_on_tier_change(rep, partner):
    assert partner_services.partner_update(partner=partner, by=rep, name="Acme") == []
    changed = partner_services.partner_update(partner=partner, by=rep, tier=factories.tier("Platinum"))
    assert changed == ["tier"]
    partner.refresh_from_db()
    assert partner.engagement_due_at == partner.created_at + timedelta(days=7)


def test_manual_status_change_is_recorded(rep, partner):
    partner_services.partner_set_status(partner=partner, status=Partner.Status.INACTIVE, reason="Closed shop", by=rep)
    partner.refresh_from_db()
    assert (partner.status, partner.status_set_by, partner.status_reason) == ("inactive", "manual", "Closed shop")
    change = StatusChange.objects.get(partner=partner)
    assert (change.from_status, change.to_status, change.changed_by) == ("active", "inactive", rep)
