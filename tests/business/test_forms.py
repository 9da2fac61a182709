"""PartnerTargetsForm and the partner_targets_set service."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string

from business.forms import PartnerTargetsForm
from business.models import Frequency, Parameter, Target
from business.services import partner_targets_set
from tests import factories

TODAY = date(2026, 5, 20)


def data(**values):
    return {f"targets-{name}": value for name, value in values.items()}


def test_fields_for_current_and_next_period_of_each_active_parameter(db):
    Parameter.objects.create(code="nps", name="NPS", unit="%", frequency=Frequency.QUARTERLY, order=9)
    Parameter.objects.create(code="old", name="Old", is_active=False)
    form = PartnerTargetsForm(None, partner=None, prefix="targets", today=TODAY)
    assert list(form.fields) == [
        "leads_generated__2026-05-01", "leads_generated__2026-06-01",
        "leads_converted__2026-05-01", "leads_converted__2026-06-01",
        "revenue__2026-05-01", "revenue__2026-06-01",
        "nps__2026-04-01", "nps__2026-07-01",
    ]
    html = render_to_string("business/_targets_fields.html", {"form": form})
    assert 'name="targets-nps__2026-07-01"' in html and "2026-Q3" in html


def test_save_creates_updates_and_deletes(db, manager):
    p = factories.PartnerFactory()
    revenue = factories.parameter("revenue")
    Target.objects.create(partner=p, parameter=revenue, period_start=date(2026, 6, 1), value=Decimal("1"))
    leads = factories.parameter("leads_generated")
    Target.objects.create(partner=p, parameter=leads, period_start=date(2026, 5, 1), value=Decimal("10"))
    form = PartnerTargetsForm(None, partner=p, prefix="targets", today=TODAY)
    assert form["leads_generated__2026-05-01"].value() == Decimal("10")  # existing targets are the initial values
    form = PartnerTargetsForm(
        data(**{"revenue__2026-05-01": "5000.50", "revenue__2026-06-01": "", "leads_generated__2026-05-01": "10"}),
        partner=p, prefix="targets", today=TODAY,
    )
    assert form.is_valid(), form.errors
    changed = partner_targets_set(partner=p, values=form.target_values(), by=manager)
    assert changed == [(revenue.pk, date(2026, 5, 1)), (revenue.pk, date(2026, 6, 1))]  # leads unchanged
    assert dict(Target.objects.filter(partner=p).values_list("parameter__code", "value")) == {
        "revenue": Decimal("5000.50"), "leads_generated": Decimal("10")}
    assert Target.objects.get(partner=p, parameter=revenue).set_by == manager


@pytest.mark.parametrize("value, message", [("-1", "greater than or equal to 0"), ("abc", "Enter a number")])
def test_rejects_negative_and_non_numeric(db, value, message):
    form = PartnerTargetsForm(data(**{"revenue__2026-05-01": value}), partner=None, prefix="targets", today=TODAY)
    assert not form.is_valid()
    assert message in str(form.errors["revenue__2026-05-01"])


def test_service_rejects_negative(db, manager):
    p = factories.PartnerFactory()
    with pytest.raises(ValidationError):
        partner_targets_set(partner=p, values={(factories.parameter("revenue").pk, date(2026, 5, 1)): Decimal("-5")},
                            by=manager)
