"""The admin's text contrast (WCAG 2.1 AA, 1.4.3: 4.5:1), worked out from the stylesheets.

The admin's colours are CSS variables: Django's (base.css, dark_mode.css), then ours
(static/departments/admin_theme.css), in the order and with the selectors the browser sees,
in each theme: light or dark from the system, and dark or light chosen with the toggle. Every
pair of text and background colour the admin draws from them (header, breadcrumbs, links,
buttons, messages), and every rule of our admin stylesheets that sets a colour, must reach
4.5:1 in each theme, so that a change of colour can't bring one below it unnoticed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import django.contrib.admin
import pytest
from django.conf import settings

DJANGO_CSS = Path(django.contrib.admin.__file__).parent / "static" / "admin" / "css"
OURS = Path(settings.BASE_DIR) / "static" / "departments"
# In the order templates/admin/base_site.html (through Django's admin/base.html) loads them.
VARIABLE_FILES = [DJANGO_CSS / "base.css", DJANGO_CSS / "dark_mode.css", OURS / "admin_theme.css"]
RULE_FILES = [OURS / "admin_theme.css", OURS / "staff.css", OURS / "admin_map.css"]
AA = 4.5

# (data-theme the toggle set, the system's colour scheme)
THEMES = {
    "light": ("auto", "light"),
    "dark (system)": ("auto", "dark"),
    "light (chosen, system dark)": ("light", "dark"),
    "dark (chosen, system light)": ("dark", "light"),
}

PAGE_BACKGROUNDS = ["--body-bg", "--darkened-bg"]
MESSAGE_BACKGROUNDS = ["--message-success-bg", "--message-warning-bg", "--message-error-bg"]
BUTTON_BACKGROUNDS = [
    "--button-bg",
    "--button-hover-bg",
    "--default-button-bg",
    "--default-button-hover-bg",
    "--close-button-bg",
    "--close-button-hover-bg",
    "--delete-button-bg",
    "--delete-button-hover-bg",
]
# (text, background): what Django's admin stylesheets draw text with.
PAIRS = [
    ("--header-color", "--header-bg"),  # the header's text
    ("--header-link-color", "--header-bg"),  # its links, the modules' captions
    ("--header-branding-color", "--header-bg"),
    ("--accent", "--header-bg"),  # the site name, a link
    ("--breadcrumbs-fg", "--breadcrumbs-bg"),  # the current page, hovered links
    ("--breadcrumbs-link-fg", "--breadcrumbs-bg"),
    ("--header-link-color", "--primary"),  # a selector's footer
    ("--primary-fg", "--primary"),  # an autocomplete's highlighted choice
    ("white", "--primary"),  # the calendar's hovered day
    ("#333", "--accent"),  # the calendar's caption
    ("--object-tools-fg", "--object-tools-bg"),
    ("--object-tools-fg", "--object-tools-hover-bg"),
    *(("--button-fg", bg) for bg in BUTTON_BACKGROUNDS),
    *(
        (fg, bg)
        for bg in PAGE_BACKGROUNDS
        for fg in (
            "--body-fg",
            "--body-quiet-color",
            "--body-medium-color",
            "--link-fg",
            "--link-hover-color",
            "--link-selected-fg",  # the chosen filter, on the filters' darkened panel
            "--error-fg",
        )
    ),
    # A ticked row of a list, and the messages (which link to what was changed).
    *(("--body-fg", bg) for bg in ["--selected-row", *MESSAGE_BACKGROUNDS]),
    *(("--body-quiet-color", bg) for bg in ["--selected-row"]),
    *(("--link-fg", bg) for bg in ["--selected-row", *MESSAGE_BACKGROUNDS]),
    *(("--link-hover-color", bg) for bg in ["--selected-row", *MESSAGE_BACKGROUNDS]),
]
# Rules whose background holds no text (a map, a dot of the legend).
NO_TEXT = {
    ".c311-map",
    ".c311-dot",
    ".c311-dot.new",
    ".c311-dot.acknowledged",
    ".c311-dot.in_progress",
    ".c311-dot.fixed",
    ".c311-dot.duplicate",
    ".c311-dot.not_actionable",
    ".c311-dot.referred",
}


@dataclass
class Rule:
    selectors: list[str]
    media: str
    declarations: dict[str, str]


def parse(css: str, media: str = "") -> list[Rule]:
    """The rules of a stylesheet, one level of @media deep (all our stylesheets need)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    rules, at = [], 0
    while (start := css.find("{", at)) != -1:
        prelude = css[at:start].strip()
        if prelude.startswith("@media"):
            depth, end = 1, start + 1
            while depth:
                depth += {"{": 1, "}": -1}.get(css[end], 0)
                end += 1
            rules += parse(css[start + 1 : end - 1], media=prelude)
        else:
            end = css.index("}", start) + 1
            body = css[start + 1 : end - 1]
            declarations = {}
            for line in body.split(";"):
                name, colon, value = line.partition(":")
                if colon:
                    declarations[name.strip()] = value.strip()
            selectors = [" ".join(s.split()) for s in prelude.split(",")]
            rules.append(Rule(selectors, media, declarations))
        at = end
    return rules


def specificity(selector: str, data_theme: str) -> tuple[int, int] | None:
    if selector == ":root":
        return (1, 0)
    if selector in ('html[data-theme="light"]', 'html[data-theme="dark"]'):
        return (1, 1) if selector == f'html[data-theme="{data_theme}"]' else None
    return None


def variables(theme: str) -> dict[str, str]:
    """Each variable's value in `theme`, as the cascade leaves it."""
    data_theme, system = THEMES[theme]
    won: dict[str, tuple[tuple[int, int], int, str]] = {}
    order = 0
    for path in VARIABLE_FILES:
        for rule in parse(path.read_text()):
            order += 1
            if rule.media and not (system == "dark" and "prefers-color-scheme: dark" in rule.media):
                continue
            matching = [s for s in (specificity(x, data_theme) for x in rule.selectors) if s]
            if not matching:
                continue
            rank = (max(matching), order)
            for name, value in rule.declarations.items():
                if name.startswith("--") and rank >= won.get(name, ((0, 0), 0))[:2]:
                    won[name] = (*rank, value)
    return {name: value for name, (_, _, value) in won.items()}


def colour(value: str, values: dict[str, str]) -> str:
    """A colour (`#rgb`, `#rrggbb`, white, black) from a value, its var()s resolved."""
    value = value.strip()
    match = re.fullmatch(r"var\((--[\w-]+)\s*(?:,\s*(.+))?\)", value)
    if match:
        name, fallback = match.groups()
        if name in values:
            return colour(values[name], values)
        assert fallback, f"{name} is not set"
        return colour(fallback, values)
    if value.startswith("--"):
        return colour(f"var({value})", values)
    named = {"white": "#ffffff", "black": "#000000"}
    assert value in named or re.fullmatch(r"#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}", value), value
    return named.get(value, value)


def luminance(hex_colour: str) -> float:
    """WCAG 2.1's relative luminance."""
    digits = hex_colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_is_worked_out_as_wcag_says():
    assert round(contrast("#ffffff", "#000000"), 2) == 21
    assert round(contrast("#777777", "#ffffff"), 2) == 4.48  # the classic near miss
    assert contrast("#123456", "#123456") == 1


def test_the_cascade_is_read_as_the_browser_reads_it():
    assert colour("--header-bg", variables("light")) == "#2f5d73"  # ours over Django's
    assert colour("--body-bg", variables("light")) == "#fff"
    assert colour("--body-bg", variables("dark (system)")) == "#121212"
    assert colour("--body-bg", variables("dark (chosen, system light)")) == "#121212"
    # The toggle's "light" wins over the system's dark, Django's values and ours alike.
    assert colour("--body-bg", variables("light (chosen, system dark)")) == "#fff"
    assert colour("--link-fg", variables("light (chosen, system dark)")) == "#36677f"


@pytest.mark.parametrize("theme", THEMES)
def test_admin_colour_pairs_reach_aa(theme):
    values = variables(theme)
    low = []
    for fg, bg in PAIRS:
        ratio = contrast(colour(fg, values), colour(bg, values))
        if ratio < AA:
            low.append(f"{fg} on {bg}: {ratio:.2f}")
    assert low == []


def _rule_pairs(rule: Rule) -> list[tuple[str, str]]:
    """What text colour a rule of ours puts on what background: its own colour on its own
    background; a background without a colour holds the page's text; a colour without a
    background sits on the page or on a darkened box."""
    fg = rule.declarations.get("color", "")
    background = rule.declarations.get("background-color") or rule.declarations.get(
        "background", ""
    )
    bg = next(iter(re.findall(r"var\([^)]*\)|#[0-9a-fA-F]{3,6}\b|\bwhite\b", background)), "")
    if fg in ("", "inherit", "currentColor"):
        fg = "" if not bg else "var(--body-fg)"
    if not fg:
        return []
    return [(fg, bg)] if bg else [(fg, "var(--body-bg)"), (fg, "var(--darkened-bg)")]


@pytest.mark.parametrize("theme", THEMES)
def test_our_admin_rules_reach_aa(theme):
    values = variables(theme)
    low, checked = [], 0
    for path in RULE_FILES:
        for rule in parse(path.read_text()):
            if set(rule.selectors) <= NO_TEXT:
                continue
            for fg, bg in _rule_pairs(rule):
                checked += 1
                ratio = contrast(colour(fg, values), colour(bg, values))
                if ratio < AA:
                    low.append(f"{path.name} {', '.join(rule.selectors)}: {ratio:.2f}")
    assert checked > 20
    assert low == []
