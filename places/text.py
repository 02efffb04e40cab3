"""How address text is compared: lower case, no punctuation, the usual abbreviations spelt
out, so that "12 Oak St." and "12 oak street" are the same address."""

from __future__ import annotations

import re

ABBREVIATIONS = {
    "st": "street",
    "str": "street",
    "ave": "avenue",
    "av": "avenue",
    "rd": "road",
    "dr": "drive",
    "blvd": "boulevard",
    "ln": "lane",
    "ct": "court",
    "pl": "place",
    "pkwy": "parkway",
    "hwy": "highway",
    "cir": "circle",
    "ter": "terrace",
    "sq": "square",
    "mt": "mount",
    "n": "north",
    "s": "south",
    "e": "east",
    "w": "west",
}
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_NUMBER = re.compile(r"\d+[a-z]?(?:-\d+[a-z]?)?")


def normalize(text: str) -> str:
    words = [w.replace("'", "").replace("’", "") for w in _WORD.findall(text.lower())]
    return " ".join(ABBREVIATIONS.get(w, w) for w in words)


def split_number(normalized: str) -> tuple[str, str]:
    """("12", "oak street") from "12 oak street"; ("", text) when it starts with no number."""
    first, _, rest = normalized.partition(" ")
    if _NUMBER.fullmatch(first):
        return first, rest
    return "", normalized


def first_part(text: str) -> str:
    """The street address of "12 Oak Street, Riverton, NC 27601" (before the first comma)."""
    return text.split(",", 1)[0]
