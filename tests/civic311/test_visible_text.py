"""The one rule for typed text: counted as a reader sees it, never changed."""

from __future__ import annotations

import pytest

from civic311.input import bidi_controls_in, has_visible, visible_length

ZWSP, ZWJ = "\u200b", "\u200d"


@pytest.mark.parametrize(
    ("text", "length"),
    [
        (ZWSP * 10, 0),
        ("\u3164\u115f\u2800\ufeff\u00ad\u2060", 0),  # Hangul fillers, blank Braille, BOM...
        ("\u0301\ufe0f\u034f", 0),  # marks with nothing to sit on
        ("  Broken bin \n", 10),  # spaces between words count once, at the ends not at all
        ("a" + " " * 9 + "b", 3),
        ("e\u0301", 1),  # NFC: a letter and its accent
        (f"\U0001f469{ZWJ}\U0001f527", 2),  # the joiner of an emoji counts nothing
        (f"\u0915\u094d{ZWJ}\u0937", 3),  # nor that of an Indic conjunct
    ],
)
def test_visible_length_counts_what_a_reader_sees(text, length):
    assert visible_length(text) == length
    assert has_visible(text) is (length > 0)


@pytest.mark.parametrize("char", [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))])
def test_every_bidi_override_and_isolate_is_found(char):
    assert bidi_controls_in(f"Sam{char}")
    assert not bidi_controls_in(f"Sam{ZWJ}\u200e")  # a joiner or a plain mark is no override
