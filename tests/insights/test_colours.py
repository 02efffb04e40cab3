"""The charts' and the hotspot map's colours, read from the CSS and the map's script: every
series and heat colour has 3:1 against the white page (WCAG 1.4.11), no two series look
alike, and stacked segments are parted by a white line."""

from __future__ import annotations

import itertools
import math
import re

from django.conf import settings

STATIC = settings.BASE_DIR / "static" / "insights"
WHITE = "#ffffff"


def css_fills() -> dict[str, str]:
    """Each `.series-*` and `.heat-*` class's fill, by class name."""
    text = (STATIC / "insights.css").read_text()
    found = re.findall(r"\.((?:series|heat)-[\w-]+)\s*\{\s*fill:\s*(#[0-9a-fA-F]{6})\s*;", text)
    return {name: colour.lower() for name, colour in found}


def script_heat() -> list[str]:
    text = (STATIC / "hotspots.js").read_text()
    match = re.search(r"var HEAT = \[([^\]]*)\]", text)
    assert match, "hotspots.js lists its HEAT colours"
    return [c.lower() for c in re.findall(r'"(#[0-9a-fA-F]{6})"', match.group(1))]


def channels(colour: str) -> list[float]:
    """sRGB channels made linear, as WCAG's relative luminance takes them."""
    values = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    return [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in values]


def luminance(colour: str) -> float:
    r, g, b = channels(colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def lab(colour: str) -> tuple[float, float, float]:
    """CIE L*a*b* (D65), where the distance between two colours follows how different
    they look far better than in RGB."""
    r, g, b = channels(colour)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def test_known_contrast_ratios() -> None:
    assert round(contrast("#000000", WHITE), 1) == 21.0
    assert round(contrast("#767676", WHITE), 2) == 4.54


def test_every_series_and_heat_colour_has_3_to_1_against_white() -> None:
    fills = css_fills()
    assert {f"series-{i}" for i in range(7)} | {f"heat-{i}" for i in range(5)} <= set(fills)
    weak = {
        name: round(contrast(c, WHITE), 2) for name, c in fills.items() if contrast(c, WHITE) < 3
    }
    assert not weak
    assert [c for c in script_heat() if contrast(c, WHITE) < 3] == []


def test_no_two_series_look_alike() -> None:
    """Stacked columns put any series beside any other (a week without one), and the legend
    tells them apart by colour: a CIE76 distance of 25 is plainly another colour (the old
    orange and amber were 14 apart, 1.03:1)."""
    fills = css_fills()
    series = [fills[f"series-{i}"] for i in range(7)]
    close = [
        (a, b, round(math.dist(lab(a), lab(b)), 1))
        for a, b in itertools.combinations(series, 2)
        if math.dist(lab(a), lab(b)) < 25
    ]
    assert not close


def test_stacked_segments_are_parted_by_a_white_line() -> None:
    text = (STATIC / "insights.css").read_text()
    rule = re.search(r"\.chart__bar\s*\{([^}]*)\}", text)
    assert rule
    assert re.search(r"stroke:\s*#fff(fff)?\s*;", rule.group(1))
    assert re.search(r"stroke-width:\s*[12](px)?\s*;", rule.group(1))


def test_heat_ramp_goes_from_fewer_to_more_in_steps_one_can_see() -> None:
    fills = css_fills()
    ramp = [fills[f"heat-{i}"] for i in range(5)]
    # The map's cells and the legend's swatches are the same colours.
    assert script_heat() == ramp
    for lighter, darker in itertools.pairwise(ramp):
        assert luminance(darker) < luminance(lighter)
        assert contrast(lighter, darker) >= 1.3, (lighter, darker)
