"""leads.services: the lead workflow and conversion into customers."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from leads import services as lead_services
from leads.models import Customer, Lead, LeadStageChange
from tests import factories

pytestmark = pytest.mark.django_db


def test_converting_a_lead_creates_a_customer_and_a_history_row(rep):
    partner = factories.PartnerFactory(assigned_to=rep)
    lead = lead_services.lead_create(by=rep, name="Big deal", partner=partner, expected_value=Decimal("5000"))
    lead_services.lead_move(lead=lead, to_stage=Lead.Stage.QUALIFIED, by=rep)
    customer = lead_services.lead_convert(lead=lead, by=rep)
    lead.refresh_from_db()
    assert lead.stage == Lead.Stage.WON
    assert lead.value == Decimal("5000")
    assert lead.converted_at is not None
    assert isinstance(customer, Customer) and customer.partner == partner and customer.lead == lead
    assert list(LeadStageChange.objects.filter(lead=lead).values_list("from_stage", "to_stage")) == [
        ("", "new"), ("new", "qualified"), ("qualified", "won"),
    ]
    with pytest.raises(ValidationError):
        lead_services.lead_convert(lead=lead, by=rep)
    assert Customer.objects.filter(lead=lead).count() == 1


def test_losing_a_lead(rep):
    lead = lead_services.lead_create(by=rep, name="Small deal")
    lead_services.lead_lose(lead=lead, by=rep)
    lead.refresh_from_db()
    assert lead.stage == Lead.Stage.LOST and lead.lost_at is not None
    assert not Customer.objects.exists()
