"""How the pages show dates and numbers, in one place (the Jinja2 filters of ``prm.jinja2``).

Dates: aware datetimes are shown in the current time zone (as Django's template language does), in one of a few named
styles; ``iso`` is for ``<time datetime=…>``. Numbers: thousands separators, no trailing zeros ("90,000", not
"90000.00"), at most two decimals; with their unit (``quantity``: "INR 48,200", "1,250 leads", "12.5 kg", "80%") and
counted nouns (``counted``: "1 partner", "1,250 partners"). Business periods as people say them (``period``: "Nov 2026",
"Q3 2026").
"""

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.template.defaultfilters import linebreaksbr
from django.utils import timezone
from django.utils.timesince import timesince

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# Named styles: what each looks like (the formatting itself is plain Python: Django's dateformat, called ~75 times
# for a partner page's activities, was a tenth of that page's CPU).
DATE_STYLES = {
    "date": lambda v: f"{v.day} {MONTHS[v.month - 1]} {v.year}",  # 23 Nov 2026
    "datetime": lambda v: f"{v.day} {MONTHS[v.month - 1]} {v.year}, {v.hour:02d}:{v.minute:02d}",  # 23 Nov 2026, 14:05
    "day": lambda v: f"{WEEKDAYS[v.weekday()]} {v.day} {MONTHS[v.month - 1]} {v.year}",  # Mon 23 Nov 2026
    "time": lambda v: f"{v.hour:02d}:{v.minute:02d}",  # 14:05
    "iso": lambda v: v.isoformat(),  # for <time datetime="…">
}


def local(value: datetime | date) -> datetime | date:
    if isinstance(value, datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


def format_date(value: datetime | date | None, style: str = "date") -> str:
    """``value`` (a date, or a datetime shown in the current time zone) in a named style of ``DATE_STYLES``; "" for
    None."""
    if value is None or value == "":
        return ""
    return DATE_STYLES[style](local(value))


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


CURRENCY_RE = re.compile(r"^[A-Z]{3}$")  # an ISO 4217 code as a parameter's unit: INR, USD, EUR…
COUNT_UNITS = ("", "count", "number", "#")


def format_quantity(value: object, unit: str = "", noun: str = "") -> str:
    """A number with its unit, for people: a currency code before the amount ("INR 48,200"; cents only when there are
    some: "USD 1,234.50"), "%" right after it ("80%"), a count bare or with ``noun`` ("1,250 leads"), any other unit
    after it ("12.5 kg"). "" for None or not a number."""
    text = format_number(value)
    if not text:
        return ""
    unit = (unit or "").strip()
    if CURRENCY_RE.match(unit):
        if "." in text:
            text = format_number(value, 2)
            whole, _, cents = text.partition(".")
            text = f"{whole}.{cents.ljust(2, '0')}"
        return f"{unit} {text}"
    if unit == "%":
        return f"{text}%"
    if unit.lower() in COUNT_UNITS:
        return f"{text} {noun}" if noun else text
    return f"{text} {unit}"


def format_count(value: object, singular: str, plural: str = "") -> str:
    """``1250|counted("partner")`` → "1,250 partners"; ``1|counted("partner")`` → "1 partner"."""
    text = format_number(value, 0)
    if not text:
        return ""
    return f"{text} {singular if text == '1' else (plural or singular + 's')}"


_PERIOD_RE = re.compile(r"^(\d{4})-(?:Q([1-4])|(\d{2}))$")


def format_period(label: object) -> str:
    """A business period's label as people say it: "2026-11" → "Nov 2026", "2026-Q3" → "Q3 2026"; other text as is."""
    match = _PERIOD_RE.match(str(label or ""))
    if not match:
        return "" if label is None else str(label)
    year, quarter, month = match.groups()
    if quarter:
        return f"Q{quarter} {year}"
    return f"{MONTHS[int(month) - 1]} {year}" if 1 <= int(month) <= 12 else str(label)


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
    "quantity": format_quantity,
    "counted": format_count,  # not "count": that is Jinja2's length filter
    "period": format_period,
    "pluralize": pluralize,
    "timesince": since,
    "linebreaksbr": line_breaks,
}
