"""Numbers that come from outside, read one way: ASCII decimal notation, finite as a float.

`float()` and `Decimal()` read more than a number a person means: "1e400" (infinite as a
float), "nan", "inf", "1_000", and digits of other scripts ("٣٥.٧"). Coordinates and
`number` answers accept only what every client and the database read the same way."""

from __future__ import annotations

import math
import re

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parse_number(text: str) -> float | None:
    """The finite number `text` spells in ASCII decimal notation, else None."""
    stripped = text.strip()
    if not _NUMBER.fullmatch(stripped):
        return None
    value = float(stripped)
    return value if math.isfinite(value) else None
