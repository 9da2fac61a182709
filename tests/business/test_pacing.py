"""Issue 12's "fix on the way": the current period is shown as pacing (generated vs target × elapsed share), and the
card's change compares two full periods (like with like), on the card and in the partner list's Target column."""

from datetime import date
from decimal import Decimal

import pytest
from django.template.loader import render_to_string

from business import periods
from business.models import Achievement, Frequency, Target
from business.selectors import current_completion_for_partners, partner_business_context
from tests import factories

THIRD_OF_JUNE = date(2026, 6, 3)  # June has 30 days: 3 gone, 10 % of the month


def _set(model, partner, start, value, code="revenue"):
    return model.objects.create(partner=partner, parameter=factories.parameter(code), period_start=start,
                                value=Decimal(value))


@pytest.mark.parametrize(("day", "frequency", "expected"), [
    (date(2026, 6, 3), Frequency.MONTHLY, (3, 30)),
    (date(2026, 6, 30), Frequency.MONTHLY, (30, 30)),
    (date(2026, 2, 1), Frequency.MONTHLY, (1, 28)),
    (date(2026, 5, 15), Frequency.QUARTERLY, (45, 91)),  # Q2: April 30 + May 15 of 91 days
])
def test_elapsed_days(day, frequency, expected):
    assert periods.elapsed_days(periods.period_start(day, frequency), frequency, day) == expected


def test_on_the_third_a_partner_on_pace_shows_about_100_not_10(db):
    p = factories.PartnerFactory()
    _set(Target, p, date(2026, 6, 1), "3000")
    _set(Achievement, p, date(2026, 6, 1), "300")  # 10 % of the month's target on day 3 of 30: exactly on pace
    row = partner_business_context(p, today=THIRD_OF_JUNE)["business_card"][0]
    assert (row["completion"], row["pace"], row["on_pace"]) == (10, 100, True)
    listed = current_completion_for_partners([p.pk], today=THIRD_OF_JUNE)[p.pk]
    assert (listed["percent"], listed["pace"], listed["on_pace"]) == (10, 100, True)
    html = render_to_string("business/_card.html", partner_business_context(p, today=THIRD_OF_JUNE))
    assert "on pace 100%" in html and "10% of target · day 3/30" in html


def test_behind_pace_is_labelled_behind(db):
    p = factories.PartnerFactory()
    _set(Target, p, date(2026, 6, 1), "3000")
    _set(Achievement, p, date(2026, 6, 1), "150")
    row = partner_business_context(p, today=THIRD_OF_JUNE)["business_card"][0]
    assert (row["pace"], row["on_pace"]) == (50, False)
    html = render_to_string("business/_card.html", {"business_card": [row]})
    assert "behind 50%" in html


def test_the_change_compares_two_full_periods_not_the_month_so_far(db):
    """On 3 June the month so far (300) is not compared with all of May: May (full) is compared with April (full)."""
    p = factories.PartnerFactory()
    _set(Target, p, date(2026, 6, 1), "3000")
    _set(Achievement, p, date(2026, 6, 1), "300")
    _set(Achievement, p, date(2026, 5, 1), "2400")
    _set(Achievement, p, date(2026, 4, 1), "2000")
    row = partner_business_context(p, today=THIRD_OF_JUNE)["business_card"][0]
    assert (row["previous_period"], row["previous"], row["before_period"], row["before"]) == (
        "2026-05", Decimal("2400"), "2026-04", Decimal("2000"))
    assert (row["change"], row["change_percent"]) == (400, 20)  # not 300 − 2400 = −88 %
    html = render_to_string("business/_card.html", {"business_card": [row]})
    assert "May 2026: USD 2,400" in html and "▲ +400 (+20%) vs Apr 2026" in html
    assert "Last full period" in html and "vs previous" not in html


def test_uploaded_parameter_without_the_period_before_shows_no_change(db):
    nps = factories.parameter("revenue")
    nps.source = nps.Source.UPLOADED
    nps.save()
    p = factories.PartnerFactory()
    _set(Target, p, date(2026, 6, 1), "100")  # nothing uploaded for June yet: unknown, so no pace either
    _set(Achievement, p, date(2026, 5, 1), "10")
    row = partner_business_context(p, today=THIRD_OF_JUNE)["business_card"][0]
    assert (row["previous"], row["before"], row["change"], row["pace"]) == (Decimal("10"), None, None, None)


def test_list_column_stays_one_query(db, django_assert_num_queries):
    partners = [factories.PartnerFactory() for _ in range(5)]
    for n, p in enumerate(partners):
        _set(Target, p, date(2026, 6, 1), "1000")
        _set(Achievement, p, date(2026, 6, 1), str(50 * n))
    with django_assert_num_queries(1):  # targets joined with parameters and this period's achievements
        result = current_completion_for_partners([p.pk for p in partners], today=THIRD_OF_JUNE)
    assert [result[p.pk]["pace"] for p in partners] == [0, 50, 100, 150, 200]
