"""Ids that come from outside (paths, query parameters, the admin search) read one way.

`str.isdigit()` and `int()` accept more than a report number: "²" is a digit that `int()`
refuses, "٣" (Arabic-Indic three) is one it reads as 3, and a 30-digit number overflows the
database's 64-bit integers. An id is ASCII digits 0-9 naming a number from 1 to 2⁶³ − 1;
anything else names no row."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

MAX_ID = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_id(text: Any, *, maximum: int = MAX_ID) -> int | None:
    """The positive integer `text` spells in ASCII digits (surrounding spaces allowed), or
    None when it spells none within 1..`maximum`."""
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    elif isinstance(text, str) and _DIGITS.fullmatch(text.strip()):
        value = int(text.strip())
    else:
        return None
    return value if 1 <= value <= maximum else None


class IdField(forms.Field):
    """A form field for an id or a page number: `parse_id` or a clear error."""

    def __init__(self, *, maximum: int = MAX_ID, **kwargs: Any) -> None:
        self.maximum = maximum
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        number = parse_id(value, maximum=self.maximum)
        if number is None:
            raise ValidationError(
                f"Use a whole number from 1 to {self.maximum}, in digits 0-9.", code="invalid"
            )
        return number
