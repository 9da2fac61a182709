"""prm.formats: numbers, quantities and periods as the pages show them."""

from decimal import Decimal

import pytest

from prm import formats


@pytest.mark.parametrize(("value", "unit", "noun", "expected"), [
    (Decimal("48200.00"), "INR", "", "INR 48,200"),
    (Decimal("1234.5"), "USD", "", "USD 1,234.50"),
    (Decimal("0.004"), "EUR", "", "EUR 0"),
    (1250, "count", "leads", "1,250 leads"),
    (1250, "count", "", "1,250"),
    (Decimal("80.0"), "%", "", "80%"),
    (Decimal("12.50"), "kg", "", "12.5 kg"),
    (Decimal("-3500"), "INR", "", "INR -3,500"),
    (None, "INR", "", ""),
    ("not a number", "INR", "", ""),
])
def test_quantity(value, unit, noun, expected):
    assert formats.format_quantity(value, unit, noun) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (Decimal("90000.00"), "90,000"), (Decimal("1234.567"), "1,234.57"), (0, "0"), (None, ""), (float("nan"), ""),
])
def test_number(value, expected):
    assert formats.format_number(value) == expected


def test_counted():
    assert formats.format_count(1, "partner") == "1 partner"
    assert formats.format_count(1250, "partner") == "1,250 partners"
    assert formats.format_count(2, "activity", "activities") == "2 activities"
    assert formats.format_count(None, "partner") == ""


@pytest.mark.parametrize(("label", "expected"), [
    ("2026-11", "Nov 2026"), ("2026-01", "Jan 2026"), ("2026-Q3", "Q3 2026"), ("2026-13", "2026-13"), ("x", "x"),
    (None, ""),
])
def test_period(label, expected):
    assert formats.format_period(label) == expected


def test_filters_are_registered_without_shadowing_jinjas_count():
    from django.template import engines

    env = engines["jinja2"].env
    assert env.filters["quantity"] is formats.format_quantity
    assert env.filters["counted"] is formats.format_count
    assert env.from_string("{{ [1, 2]|count }}").render() == "2"  # Jinja2's own filter is still there
