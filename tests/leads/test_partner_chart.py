"""The partner page's leads chart (business.charts.partner_leads_trend / leads_trend_figure): leads generated and
converted per period from the two system parameters' Achievement rows, and the conversion rate."""

import json
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from business import periods
from business.charts import conversion_rates, leads_trend_figure, partner_leads_trend, whole_ticks
from business.models import Achievement, Parameter
from business.selectors import parameters_active
from tests import factories

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 15)


def achieve(partner, code, start, value):
    Achievement.objects.create(partner=partner, parameter=factories.parameter(code), period_start=start,
                               value=Decimal(value))


def test_generated_converted_and_the_rate_in_one_query(rep, django_assert_num_queries):
    partner = factories.PartnerFactory(assigned_to=rep)
    starts = periods.last_periods("monthly", 12, TODAY)
    achieve(partner, Parameter.LEADS_GENERATED, starts[-1], 8)
    achieve(partner, Parameter.LEADS_CONVERTED, starts[-1], 2)
    achieve(partner, Parameter.LEADS_GENERATED, starts[-3], 4)
    achieve(partner, Parameter.LEADS_CONVERTED, starts[-2], 3)  # converted in a month with nothing generated
    achieve(partner, Parameter.LEADS_GENERATED, periods.shift(starts[0], "monthly", -1), 99)  # outside the window
    achieve(factories.PartnerFactory(assigned_to=rep), Parameter.LEADS_GENERATED, starts[-1], 50)  # another partner
    parameters = parameters_active()
    # 1. the two parameters' achievement rows of the partner in the window (the parameters were already loaded).
    with django_assert_num_queries(1):
        trend = partner_leads_trend(partner_id=partner.pk, parameters=parameters, today=TODAY)
    assert trend["periods"] == [periods.label(start, "monthly") for start in starts]
    assert trend["periods"][-1] == "2026-11" and trend["periods"][0] == "2025-12"
    generated, converted, rate = trend["figure"]["data"]
    assert generated["y"] == [0.0] * 9 + [4.0, 0.0, 8.0]  # a computed parameter's missing month is zero
    assert converted["y"] == [0.0] * 10 + [3.0, 2.0]
    assert rate["y"] == [None] * 9 + [0.0, None, 25.0]  # nothing generated: no rate (not a division by zero)
    assert rate["yaxis"] == "y2" and trend["figure"]["layout"]["yaxis2"]["ticksuffix"] == "%"
    json.dumps(trend["figure"])  # json_script can embed it


def test_no_chart_without_leads_or_with_an_inactive_parameter(rep):
    partner = factories.PartnerFactory(assigned_to=rep)
    assert partner_leads_trend(partner_id=partner.pk, parameters=parameters_active(), today=TODAY) is None
    achieve(partner, Parameter.LEADS_GENERATED, date(2026, 11, 1), 3)
    assert partner_leads_trend(partner_id=partner.pk, parameters=parameters_active(), today=TODAY) is not None
    Parameter.objects.filter(code=Parameter.LEADS_CONVERTED).update(is_active=False)
    assert partner_leads_trend(partner_id=partner.pk, parameters=parameters_active(), today=TODAY) is None


def test_quarterly_parameters_give_quarters(rep):
    Parameter.objects.filter(code__in=[Parameter.LEADS_GENERATED, Parameter.LEADS_CONVERTED]).update(
        frequency="quarterly")
    partner = factories.PartnerFactory(assigned_to=rep)
    achieve(partner, Parameter.LEADS_GENERATED, date(2026, 10, 1), 10)
    achieve(partner, Parameter.LEADS_CONVERTED, date(2026, 10, 1), 5)
    trend = partner_leads_trend(partner_id=partner.pk, parameters=parameters_active(), today=TODAY)
    assert trend["periods"][-1] == "2026-Q4" and len(trend["periods"]) == 12
    assert trend["figure"]["data"][2]["y"][-1] == 50.0
    assert trend["frequency"] == "quarterly"


def test_conversion_rates():
    assert conversion_rates([Decimal(3), Decimal(0), None, Decimal(4)], [Decimal(1), Decimal(2), Decimal(1), None]) == [
        Decimal("33.3"), None, None, None]
    assert conversion_rates([Decimal(2)], [Decimal(3)]) == [Decimal("150.0")]  # converted leads of earlier periods


def test_a_few_leads_get_whole_number_ticks_not_half_leads():
    """Plotly would tick a 0–3 axis every 0.5, shown as "500m" in SI notation: small counts tick at whole numbers."""
    d = Decimal
    assert whole_ticks([d(1), None, d(3)], [d(0)]) == {"dtick": 1}
    assert whole_ticks([d(12), d(3)]) == {}  # larger: Plotly's own ticks
    assert whole_ticks([d("2.5")]) == {}  # not whole numbers (revenue)
    assert whole_ticks([None]) == {}
    figure = leads_trend_figure(labels=["2026-10", "2026-11"], generated=[d(1), d(3)], converted=[d(0), d(2)])
    assert figure["layout"]["yaxis"]["dtick"] == 1


def test_the_partner_page_shows_the_chart_and_the_new_lead_action(rep_client, rep):
    partner = factories.PartnerFactory(assigned_to=rep)
    response = rep_client.get(reverse("partners:detail", args=[partner.pk]))
    html = response.content.decode()
    assert response.context["leads_trend"] is None and 'id="leads-trend-empty"' in html
    assert f'{reverse("leads:create")}?partner={partner.pk}' in html
    assert f'{reverse("leads:list")}?partner={partner.pk}' in html
    achieve(partner, Parameter.LEADS_GENERATED, periods.period_start(periods.org_today(), "monthly"), 6)
    html = rep_client.get(reverse("partners:detail", args=[partner.pk])).content.decode()
    assert 'id="leads-trend-data"' in html and 'id="leads-trend-chart"' in html
    assert html.count("vendor/plotly/plotly.min.js") == 1  # loaded once, whichever chart asks
    assert html.count("js/trendline.js") == 1  # draws every chart of the page ([data-figure])
    assert 'data-figure="leads-trend-data"' in html
