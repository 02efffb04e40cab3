"""The sections of "My account": each app contributes its own.

An app calls `register` from its AppConfig.ready(); the page renders every section in
`order`, each from its own template with the context its callable returns for the request
(plus `section_key`). A section's template renders its whole card, heading included (a
`<section class="card">` with an `<h2>`); the page wraps it in `<div id="section-<key>">`.
This keeps accounts at the bottom of the import graph: the page knows no other app, and
each app keeps its own queries (which must be a fixed number per section)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

SectionContext = Callable[[HttpRequest], dict[str, Any]]


@dataclass(frozen=True)
class Section:
    key: str
    template_name: str
    context: SectionContext
    order: int


@dataclass(frozen=True)
class RenderedSection:
    key: str
    html: SafeString


_sections: dict[str, Section] = {}


def register(*, key: str, template_name: str, context: SectionContext, order: int = 100) -> None:
    """Add a section to "My account". Registering the same key again from the same template
    replaces it (ready() may run twice in tests); a second app taking a key is an error."""
    existing = _sections.get(key)
    if existing is not None and existing.template_name != template_name:
        raise ImproperlyConfigured(
            f"My account section {key!r} is already registered ({existing.template_name})"
        )
    _sections[key] = Section(key=key, template_name=template_name, context=context, order=order)


def registered() -> list[Section]:
    return sorted(_sections.values(), key=lambda section: (section.order, section.key))


def render_sections(request: HttpRequest) -> list[RenderedSection]:
    """Every section's HTML for this request, in order."""
    rendered = []
    for section in registered():
        context = {"section_key": section.key, **section.context(request)}
        html = render_to_string(section.template_name, context, request=request)
        rendered.append(RenderedSection(key=section.key, html=mark_safe(html)))  # noqa: S308
    return rendered
