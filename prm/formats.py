"""How the pages show dates and numbers, in one place (the Jinja2 filters of ``prm.jinja2``).

Dates: aware datetimes are shown in the current time zone (as Django's template language does), in one of a few named
styles; ``iso`` is for ``<time datetime=…>``. Numbers: thousands separators, no trailing zeros ("90,000", not
"90000.00"), at most two decimals.
"""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.template.defaultfilters import linebreaksbr
from django.utils import dateformat, timezone
from django.utils.timesince import timesince

DATE_STYLES = {
    "date": "j M Y",  # 23 Nov 2026
    "datetime": "j M Y, H:i",  # 23 Nov 2026, 14:05
    "day": "D j M Y",  # Mon 23 Nov 2026
    "time": "H:i",
}


def local(value: datetime | date) -> datetime | date:
    if isinstance(value, datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


def format_date(value: datetime | date | None, style: str = "date") -> str:
    """``value`` in a named style (``DATE_STYLES``, or ``iso``); "" for None."""
    if value is None or value == "":
        return ""
    value = local(value)
    if style == "iso":
        return value.isoformat()
    return dateformat.format(value, DATE_STYLES[style])


def format_number(value: object, places: int = 2) -> str:
    """``90000.00`` → "90,000"; ``1234.5`` → "1,234.5"; at most ``places`` decimals; "" for None or not a number."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return ""
    if not number.is_finite():
        return ""
    number = round(number, places)
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return f"{number:,.{places}f}".rstrip("0").rstrip(".")


def format_percent(value: object) -> str:
    """A percentage as a whole number ("73"); "" when not a number."""
    try:
        return f"{round(value):d}"
    except (TypeError, ValueError):
        return ""


def pluralize(count: object, suffix: str = "s") -> str:
    try:
        return "" if int(count) == 1 else suffix
    except (TypeError, ValueError):
        return suffix


def since(value: datetime | None) -> str:
    return timesince(value) if value else ""


def line_breaks(value: object) -> str:
    """Text with its line breaks as ``<br>``, escaped."""
    return linebreaksbr(value, autoescape=True)


FILTERS = {
    "date": format_date,
    "number": format_number,
    "percent": format_percent,
    "pluralize": pluralize,
    "timesince": since,
    "linebreaksbr": line_breaks,
}
