"""W3C datetimes (ISO 8601 with a time zone), read the same way everywhere: Open311 query
dates, `datetime` answers to a category's questions (API and web form), and the years any
date from outside may name.

Dates are kept between the years 1900 and 2999: far inside what Python's datetime and
PostgreSQL can hold, so that moving a date to UTC, adding a 90-day window or a day never
overflows, and wide enough for any report a city will hold."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime

# An unescaped "+" in a query string or form body arrives as a space:
# "2026-01-01T00:00:00 05:00".
_SPACE_OFFSET = re.compile(r"^(.*\d) (\d\d:?\d\d)$")


MIN_YEAR = 1900
MAX_YEAR = 2999
# The widest offset from UTC any place uses (Kiribati's +14:00); PostgreSQL refuses a
# timestamp whose offset passes ±15:59.
MAX_OFFSET = timedelta(hours=14)
UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def check_year(value: date, text: str) -> None:
    """A ValidationError when `value` lies outside the years we accept."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValidationError(
            f"{text!r} is outside the years {MIN_YEAR}–{MAX_YEAR}.", code="out_of_range"
        )


def validate_year(value: date) -> None:
    """A form field validator: the date lies within the years we accept."""
    check_year(value, value.isoformat())


def parse_w3c_datetime(text: str) -> datetime:
    """The aware datetime `text` names; a ValidationError when it is not a datetime or
    has no time zone (a zone-less time is ambiguous across the city's DST changes) or lies
    outside the years we accept."""
    text = _SPACE_OFFSET.sub(r"\1+\2", text.strip())
    try:
        parsed = parse_datetime(text)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationError(
            f"{text!r} is not a W3C datetime such as 2026-05-01T14:30:00-04:00.", code="invalid"
        )
    if parsed.tzinfo is None:
        raise ValidationError(
            f"{text!r} needs a time zone, such as Z or -04:00.", code="no_timezone"
        )
    offset = parsed.utcoffset()
    if offset is not None and abs(offset) > MAX_OFFSET:
        raise ValidationError(
            f"{text!r} has a time zone past ±14:00, which no place uses.", code="out_of_range"
        )
    check_year(parsed, text)
    return parsed


def to_micros(moment: datetime) -> int:
    """Whole microseconds since 1970 UTC, counted in integers: a position in a list kept
    a microsecond short would skip the rows tied with it."""
    return (moment - UNIX_EPOCH) // MICROSECOND


def from_micros(micros: int) -> datetime:
    """The moment `micros` microseconds after 1970 UTC (OverflowError past what a datetime
    holds)."""
    return UNIX_EPOCH + micros * MICROSECOND
