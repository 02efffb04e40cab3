"""W3C datetimes (ISO 8601 with a time zone), read the same way everywhere: Open311 query
dates, `datetime` answers to a category's questions (API and web form)."""

from __future__ import annotations

import re
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime

# An unescaped "+" in a query string or form body arrives as a space:
# "2026-01-01T00:00:00 05:00".
_SPACE_OFFSET = re.compile(r"^(.*\d) (\d\d:?\d\d)$")


def parse_w3c_datetime(text: str) -> datetime:
    """The aware datetime `text` names; a ValidationError when it is not a datetime or
    has no time zone (a zone-less time is ambiguous across the city's DST changes)."""
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
    return parsed
