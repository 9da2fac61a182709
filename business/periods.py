"""Periods: a month or a quarter, always identified by its first day (``period_start``).

Periods follow the organisation's time zone (``settings.TIME_ZONE``), never the zone a user's request runs in
(notifications.middleware activates that one for what pages show): "today" for a period is ``org_today()``.
"""

import re
from datetime import date, datetime

from django.utils import timezone

from business.models import Frequency

# ASCII digits only: \d also matches other scripts' digits (２０２６), which int() would then accept.
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")
_QUARTER = re.compile(r"^([0-9]{4})-[Qq]([1-4])$")
_DAY = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")


class PeriodError(ValueError):
    pass


def org_today(now: datetime | None = None) -> date:
    """The organisation's date now (or at ``now``): the day business periods are counted from, whatever the zone a
    user's request runs in."""
    return timezone.localtime(now or timezone.now(), timezone.get_default_timezone()).date()


def period_start(day, frequency):
    """First day of the month or quarter that contains ``day``."""
    if frequency == Frequency.QUARTERLY:
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return date(day.year, day.month, 1)


def shift(start, frequency, count):
    """The period ``count`` periods after (negative: before) the one starting on ``start``."""
    step = 3 if frequency == Frequency.QUARTERLY else 1
    months = start.year * 12 + (start.month - 1) + step * count
    return date(months // 12, months % 12 + 1, 1)


def period_end(start, frequency):
    """First day after the period (exclusive end)."""
    return shift(start, frequency, 1)


def elapsed_days(start, frequency, today) -> tuple[int, int]:
    """``(days elapsed, days in the period)`` of the period starting on ``start`` on the organisation's ``today``;
    today counts as elapsed (on the 3rd of a 30-day month: (3, 30)). A finished period is (n, n), a future one (0, n).
    Pacing (business.selectors) expects ``target × elapsed / days`` by today."""
    total = (period_end(start, frequency) - start).days
    return min(max((today - start).days + 1, 0), total), total


def last_periods(frequency, count, today):
    """The ``count`` periods up to and including the current one, oldest first."""
    current = period_start(today, frequency)
    return [shift(current, frequency, -n) for n in range(count - 1, -1, -1)]


def label(start, frequency):
    if frequency == Frequency.QUARTERLY:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}-{start.month:02d}"


def parse(text, frequency):
    """Parse ``YYYY-MM``, ``YYYY-Qn`` or ``YYYY-MM-DD`` (a period's first day) for a parameter's frequency.

    Raises PeriodError with a message fit for a user when the text is not a period of that frequency.
    """
    text = (text or "").strip()
    if m := _QUARTER.match(text):
        if frequency != Frequency.QUARTERLY:
            raise PeriodError(f"{text!r} is a quarter but the parameter is monthly (use YYYY-MM)")
        return _date(text, int(m[1]), 3 * (int(m[2]) - 1) + 1, 1)
    if m := _MONTH.match(text):
        month = int(m[2])
        if not 1 <= month <= 12:
            raise PeriodError(f"{text!r} has no month {month}")
        if frequency == Frequency.QUARTERLY:
            raise PeriodError(f"{text!r} is a month but the parameter is quarterly (use YYYY-Qn)")
        return _date(text, int(m[1]), month, 1)
    if m := _DAY.match(text):
        day = _date(text, int(m[1]), int(m[2]), int(m[3]))
        if day != period_start(day, frequency):
            kind = "quarter" if frequency == Frequency.QUARTERLY else "month"
            raise PeriodError(f"{text!r} is not the first day of a {kind}")
        return day
    raise PeriodError(f"{text!r} is not a period (use YYYY-MM, YYYY-Qn or the period's first day YYYY-MM-DD)")


def _date(text, year, month, day):
    try:
        return date(year, month, day)
    except ValueError:
        raise PeriodError(f"{text!r} is not a date (years 1 to 9999)") from None
