"""business.periods: parsing is total — every text is a period of the frequency or a PeriodError."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from business import periods


@pytest.mark.parametrize("text", ["２０２６-０１", "٢٠٢٦-01", "0000-01", "0000-01-01", "2026-13", "2026-00",
                                  "2026-02-30", "2026-Q0", "2026-Q5", "", "2026", "2026-1", " 2026-01-02 "])
def test_malformed_periods_are_errors(text):
    with pytest.raises(periods.PeriodError):
        periods.parse(text, "monthly")


@pytest.mark.parametrize("text, frequency, start", [
    ("2026-01", "monthly", date(2026, 1, 1)), ("2026-q2", "quarterly", date(2026, 4, 1)),
    ("2026-07-01", "quarterly", date(2026, 7, 1)), (" 2026-03 ", "monthly", date(2026, 3, 1)),
])
def test_periods(text, frequency, start):
    assert periods.parse(text, frequency) == start


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=12), st.from_regex(r"[0-9０-９]{1,5}-([Qq]?[0-9]{1,2})(-[0-9]{1,2})?", fullmatch=True)),
       frequency=st.sampled_from(["monthly", "quarterly"]))
def test_parse_is_total(text, frequency):
    try:
        start = periods.parse(text, frequency)
    except periods.PeriodError:
        return
    assert start == periods.period_start(start, frequency)
