"""Business card and trendline: business.selectors + templates/business/_card.html, on the partner page."""

import json
import re
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from business import periods
from business.models import Achievement, Frequency, Parameter, Target
from business.selectors import current_completion_for_partners, partner_business_context
from tests import factories

XSS = "</script><script>alert(1)</script>"
TODAY = date(2026, 5, 20)


def target(partner, code, start, value):
    return Target.objects.create(partner=partner, parameter=factories.parameter(code), period_start=start,
                                 value=Decimal(value))


def achieved(partner, code, start, value, source=Achievement.Source.COMPUTED):
    return Achievement.objects.create(partner=partner, parameter=factories.parameter(code), period_start=start,
                                      value=Decimal(value), source=source)


def figure_from(html):
    match = re.search(r'<script id="trend-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(match.group(1)) if match else None


def test_card_rows_by_hand(db):
    p = factories.PartnerFactory()
    target(p, "revenue", date(2026, 5, 1), "5000")
    achieved(p, "revenue", date(2026, 5, 1), "1250")
    achieved(p, "revenue", date(2026, 4, 1), "1000")
    target(p, "leads_generated", date(2026, 5, 1), "10")  # no value yet: computed, so 0
    context = partner_business_context(p, today=TODAY)
    rows = {row["parameter"].code: row for row in context["business_card"]}
    assert set(rows) == {"revenue", "leads_generated"}  # leads_converted has neither target nor value
    revenue = rows["revenue"]
    assert (revenue["period"], revenue["unit"], revenue["target"], revenue["generated"]) == (
        "2026-05", "USD", Decimal("5000"), Decimal("1250"))
    # 20 May: 20 of 31 days gone, so 5000 × 20/31 = 3226 expected by now; 1250 is 39 % of that (25 % of the target)
    assert (revenue["completion"], revenue["pace"], revenue["on_pace"]) == (25, 39, False)
    assert (revenue["elapsed_days"], revenue["period_days"]) == (20, 31)
    # the change compares the last full period (April: 1000) with the one before (March: none, computed: 0)
    assert (revenue["previous_period"], revenue["previous"], revenue["before_period"], revenue["before"]) == (
        "2026-04", Decimal("1000"), "2026-03", 0)
    assert (revenue["change"], revenue["change_percent"]) == (1000, None)
    leads = rows["leads_generated"]
    assert (leads["generated"], leads["completion"], leads["pace"], leads["change"], leads["change_percent"]) == (
        0, 0, 0, 0, None)
    # the trend defaults to the first parameter with something this period
    assert context["trend_parameter"].code == "leads_generated"


def test_trendline_figure_twelve_months_with_gaps(db):
    p = factories.PartnerFactory()
    target(p, "revenue", date(2026, 5, 1), "5000")
    target(p, "revenue", date(2025, 6, 1), "100")  # oldest of the 12 periods
    target(p, "revenue", date(2025, 5, 1), "999")  # 13 periods ago: not shown
    achieved(p, "revenue", date(2026, 1, 1), "300")
    context = partner_business_context(p, parameter_code="revenue", today=TODAY)
    figure = context["trend_figure"]
    generated, targets = figure["data"]
    assert generated["x"] == targets["x"] == [periods.label(s, "monthly") for s in periods.last_periods("monthly", 12, TODAY)]
    assert generated["x"][0] == "2025-06" and generated["x"][-1] == "2026-05"
    assert generated["y"] == [0, 0, 0, 0, 0, 0, 0, 300.0, 0, 0, 0, 0]  # computed: empty months are zero
    assert targets["y"] == [100.0] + [None] * 10 + [5000.0]  # no target: a gap
    assert "Revenue (USD)" in figure["layout"]["title"]["text"]


def test_uploaded_parameter_gaps_and_quarterly_periods(db):
    nps = Parameter.objects.create(code="nps", name="Net promoter score", unit="%", frequency=Frequency.QUARTERLY,
                                   source=Parameter.Source.UPLOADED, order=5)
    p = factories.PartnerFactory()
    Target.objects.create(partner=p, parameter=nps, period_start=date(2026, 4, 1), value=Decimal("50"))
    Achievement.objects.create(partner=p, parameter=nps, period_start=date(2026, 1, 1), value=Decimal("40"),
                               source=Achievement.Source.UPLOAD)
    context = partner_business_context(p, parameter_code="nps", today=TODAY)
    row = context["business_card"][0]
    assert (row["period"], row["target"], row["generated"], row["completion"], row["change"]) == (
        "2026-Q2", Decimal("50"), None, None, None)  # nothing uploaded for Q2 yet: unknown, not zero
    generated, targets = context["trend_figure"]["data"]
    assert generated["x"][0] == "2023-Q3" and generated["x"][-1] == "2026-Q2" and len(generated["x"]) == 12
    assert generated["y"][-2:] == [40.0, None]


def test_partner_without_data_gets_empty_states(db):
    p = factories.PartnerFactory()
    context = partner_business_context(p, today=TODAY)
    assert context["business_card"] == [] and context["trend_figure"] is None
    html = render_to_string("business/_card.html", context)
    assert "No targets or generated values this period." in html
    assert 'id="trend-empty"' in html
    assert "trend-data" not in html and "plotly.min.js" not in html


def test_unknown_parameter_code_falls_back(db):
    p = factories.PartnerFactory()
    achieved(p, "revenue", date(2026, 5, 1), "10")
    assert partner_business_context(p, parameter_code="nope", today=TODAY)["trend_parameter"].code == "revenue"


def test_constant_query_count(db, django_assert_num_queries):
    """Three queries (parameters, targets, achievements) with 1 or 8 parameters and 1 or 12 periods of data."""
    small = factories.PartnerFactory()
    target(small, "revenue", date(2026, 5, 1), "1")
    big = factories.PartnerFactory()
    for n in range(5):
        Parameter.objects.create(code=f"extra{n}", name=f"Extra {n}", unit="count", order=10 + n,
                                 frequency=Frequency.QUARTERLY if n % 2 else Frequency.MONTHLY)
    for parameter in Parameter.objects.all():
        for start in periods.last_periods(parameter.frequency, 12, TODAY):
            Target.objects.create(partner=big, parameter=parameter, period_start=start, value=Decimal("10"))
            Achievement.objects.create(partner=big, parameter=parameter, period_start=start, value=Decimal("7"))
    for partner, code in ((small, None), (big, None), (big, "extra1")):
        # 1: active parameters; 2: targets of the card's and the trend's periods; 3: achievements of the same
        with django_assert_num_queries(3):
            context = partner_business_context(partner, parameter_code=code, today=TODAY)
        with django_assert_num_queries(0):
            render_to_string("business/_card.html", context)
    assert len(context["business_card"]) == 8
    assert context["trend_figure"]["data"][0]["x"][-1] == "2026-Q2"


def test_partner_page_query_count_does_not_grow(manager_client):
    """The whole partner page: same number of queries with no business data and with 8 parameters × 12 periods."""
    today = timezone.localdate()
    small, big = factories.PartnerFactory(), factories.PartnerFactory()
    for n in range(5):
        Parameter.objects.create(code=f"extra{n}", name=f"Extra {n}", unit="count", order=10 + n)
    for parameter in Parameter.objects.all():
        for start in periods.last_periods(parameter.frequency, 12, today):
            Target.objects.create(partner=big, parameter=parameter, period_start=start, value=Decimal("10"))
            Achievement.objects.create(partner=big, parameter=parameter, period_start=start, value=Decimal("7"))
    counts = []
    for partner in (small, big):
        with CaptureQueriesContext(connection) as queries:
            assert manager_client.get(f"/partners/{partner.pk}/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_partner_page_shows_card_and_chart(manager_client):
    today = timezone.localdate()
    p = factories.PartnerFactory()
    current = periods.period_start(today, "monthly")
    target(p, "revenue", current, "2000")
    achieved(p, "revenue", current, "500")
    response = manager_client.get(f"/partners/{p.pk}/?parameter=revenue")
    html = response.content.decode()
    assert 'id="business-card"' in html
    assert "25%" in html and "2,000" in html
    assert '/static/vendor/plotly/plotly.min.js' in html and '/static/js/trendline.js' in html
    assert figure_from(html)["data"][0]["y"][-1] == 500.0
    assert '?parameter=leads_generated#trendline' in html  # the parameter selector


def test_xss_names_are_harmless(manager_client):
    today = timezone.localdate()
    p = factories.PartnerFactory(name=XSS)
    evil = Parameter.objects.create(code="evil", name=XSS, unit="<b>u</b>", order=0)
    Target.objects.create(partner=p, parameter=evil, period_start=periods.period_start(today, "monthly"), value=1)
    html = manager_client.get(f"/partners/{p.pk}/?parameter=evil").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert html.count("<script") == html.count("</script>")  # no script element was opened by the data
    raw = re.search(r'<script id="trend-data" type="application/json">(.*?)</script>', html, re.S).group(1)
    assert "<" not in raw  # json_script escapes < > &
    figure = json.loads(raw)
    assert "&lt;/script&gt;" in figure["layout"]["title"]["text"]  # shown by Plotly as text, not markup


def test_completion_for_the_partner_list(db, django_assert_num_queries):
    today = TODAY
    a, b, c = factories.PartnerFactory(), factories.PartnerFactory(), factories.PartnerFactory()
    target(a, "revenue", date(2026, 5, 1), "400")
    achieved(a, "revenue", date(2026, 5, 1), "100")
    target(a, "leads_generated", date(2026, 5, 1), "10")  # comes first by parameter order
    target(b, "revenue", date(2026, 5, 1), "100")
    achieved(b, "revenue", date(2026, 5, 1), "150")
    target(c, "revenue", date(2026, 4, 1), "100")  # last month only: absent
    with django_assert_num_queries(1):
        result = current_completion_for_partners([a.pk, b.pk, c.pk], today=today)
    assert result == {  # 20 May: 20 of 31 days gone; b's 150 % of the target is 232 % of what was due by now (232.5, rounded half-even)
        a.pk: {"parameter": "Leads generated", "percent": Decimal("0"), "pace": Decimal("0"), "on_pace": False},
        b.pk: {"parameter": "Revenue", "percent": Decimal("150"), "pace": Decimal("232"), "on_pace": True},
    }
    assert current_completion_for_partners([], today=today) == {}


@pytest.mark.parametrize("frequency", ["monthly", "quarterly"])
def test_trend_periods_are_at_most_twelve(db, frequency):
    Parameter.objects.filter(code="revenue").update(frequency=frequency)
    p = factories.PartnerFactory()
    achieved(p, "revenue", periods.period_start(TODAY, frequency), "1")
    context = partner_business_context(p, parameter_code="revenue", today=TODAY)
    assert len(context["trend_periods"]) == 12
    assert len(partner_business_context(p, parameter_code="revenue", today=TODAY, trend_periods=24)["trend_periods"]) == 24
