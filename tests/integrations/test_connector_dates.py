"""The connector's reading of Salesforce's date-times: strict about the shape, never a 500 on a bad record."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrations.connectors import parse_datetime


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-11-24T08:00:00.000+0000", datetime(2026, 11, 24, 8, tzinfo=UTC)),
    ("2026-11-24T08:00:00.123Z", datetime(2026, 11, 24, 8, 0, 0, 123_000, tzinfo=UTC)),
    ("2026-11-24T09:30:00.000+0130", datetime(2026, 11, 24, 9, 30, tzinfo=timezone(timedelta(hours=1, minutes=30)))),
])
def test_salesforce_date_times_are_read_with_their_offset(value, expected):
    assert parse_datetime(value) == expected


@pytest.mark.parametrize("value", [
    "2026-11-24", "2026-11-24T08:00:00", "2026-11-24T08:00:00.000", "2026-11-24T08:00:00.000000",
    "2026-13-24T08:00:00.000+0000", "2026-11-24 08:00:00.000+0000", "", None, 20261124,
    "2026-11-24T08:00:00.000+00:00x",
])
def test_anything_else_is_a_value_error(value):
    with pytest.raises(ValueError, match=r"."):
        parse_datetime(value)


@given(st.one_of(st.text(max_size=40), st.integers(), st.none(), st.binary(max_size=30)))
def test_no_input_raises_anything_but_a_value_error(value):
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return
    assert parsed.tzinfo is not None
