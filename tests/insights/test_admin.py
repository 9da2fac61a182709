"""The insights admin: rules are configured with validation (out-of-range thresholds rejected with a clear message,
nothing saved); insights are read-only."""

from decimal import Decimal

import pytest

from insights.models import Rule
from tests import factories
from tests.insights.reacting import make_insight

pytestmark = pytest.mark.django_db


def form_data(rule, **changes):
    data = {
        "enabled": "on" if rule.enabled else "", "action": rule.action,
        "tiers": [str(t.pk) for t in rule.tiers.all()], "parameter": rule.parameter_id or "",
        "threshold_percent": rule.threshold_percent if rule.threshold_percent is not None else "",
        "periods": rule.periods or "", "days": rule.days if rule.days is not None else "",
        "minimum": rule.minimum if rule.minimum is not None else "", "suppression_days": rule.suppression_days, "weight": rule.weight,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def url(rule):
    return f"/admin/insights/rule/{rule.pk}/change/"


@pytest.mark.parametrize("field, value, message", [
    ("threshold_percent", "150", "less than or equal to 100"),
    ("threshold_percent", "-1", "greater than or equal to 0"),
    ("periods", "25", "less than or equal to 24"),
    ("days", "400", "less than or equal to 365"),
    ("suppression_days", "0", "greater than or equal to 1"),
    ("weight", "101", "less than or equal to 100"),
    ("minimum", "-1", "greater than or equal to 0"),
])
def test_out_of_range_values_are_rejected_and_nothing_is_saved(admin_client, field, value, message):
    rule = Rule.objects.get(code="business_drop")
    before = Rule.objects.filter(pk=rule.pk).values().get()
    response = admin_client.post(url(rule), form_data(rule, **{field: value}))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors and message in errors[field][0]
    assert Rule.objects.filter(pk=rule.pk).values().get() == before


def test_a_rule_needs_its_settings(admin_client):
    rule = Rule.objects.get(code="business_drop")
    data = form_data(rule)
    del data["threshold_percent"]
    response = admin_client.post(url(rule), data)
    assert response.status_code == 200
    assert "required" in response.context["adminform"].form.errors["threshold_percent"][0]


def test_the_default_minimums_and_a_minimum_only_where_a_rule_reads_it(admin_client):
    minimums = dict(Rule.objects.values_list("code", "minimum"))
    assert (minimums["business_drop"], minimums["target_at_risk"]) == (3, 3)  # the migration's defaults
    assert all(minimums[code] is None for code in minimums if code not in ("business_drop", "target_at_risk"))
    drop = Rule.objects.get(code="business_drop")
    assert admin_client.post(url(drop), form_data(drop, minimum="10.5")).status_code == 302
    drop.refresh_from_db()
    assert drop.minimum == Decimal("10.5")
    due = Rule.objects.get(code="engagement_due")
    response = admin_client.post(url(due), form_data(due, minimum="2"))
    assert response.status_code == 200
    assert "has no minimum" in response.context["adminform"].form.errors["minimum"][0]
    assert Rule.objects.get(pk=due.pk).minimum is None


def test_a_valid_change_is_saved_with_its_tiers(admin_client):
    rule = Rule.objects.get(code="engagement_due")
    platinum = factories.tier("Platinum")
    response = admin_client.post(url(rule), form_data(rule, days="5", tiers=[str(platinum.pk)]))
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.days == 5 and list(rule.tiers.all()) == [platinum]


def test_a_deactivated_parameter_cannot_be_chosen(admin_client):
    rule = Rule.objects.get(code="business_drop")
    parameter = factories.parameter("leads_generated")
    parameter.is_active = False
    parameter.save()
    response = admin_client.post(url(rule), form_data(rule, parameter=str(parameter.pk)))
    assert response.status_code == 200
    assert "deactivated" in response.context["adminform"].form.errors["parameter"][0]


def test_insights_are_listed_read_only(admin_client, rep):
    partner = factories.PartnerFactory(assigned_to=rep)
    insight = make_insight(partner, evidence={"tier": "Gold", "every_days": 14, "days_overdue": 3})
    response = admin_client.get("/admin/insights/insight/?state__exact=open")
    assert response.status_code == 200
    assert "overdue by 3 days" in response.content.decode()
    assert admin_client.get(f"/admin/insights/insight/{insight.pk}/change/").status_code == 200  # view only
    assert admin_client.post(f"/admin/insights/insight/{insight.pk}/change/", {"score": 1}).status_code == 403
    assert admin_client.get("/admin/insights/rule/add/").status_code == 403
