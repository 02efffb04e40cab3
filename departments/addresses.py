"""A neighbourhood's address: the slug in /areas/<slug>/, written once for the pages, the
links, the report list's filter and the admin's check that two names don't share one.

A name with a Latin letter is its own address (`Boylan Heights`: `boylan-heights`). A name
without one (another script, only digits, only punctuation) has the id form, `area-<id>`,
and so does a name that slugifies to that form ("Area 12"), so that no name can take the
address of another area's id. An address is therefore never only digits: `/areas/12/` was
the id form before, and now only leads, permanently, to where that page is now."""

from __future__ import annotations

import re

from django.utils.text import slugify

ID_FORM = re.compile(r"area-(\d+)")
LATIN_LETTER = re.compile(r"[a-z]")


def name_address(name: str) -> str | None:
    """The address `name` gives, or None when the area needs the id form."""
    slug = slugify(name)
    if not LATIN_LETTER.search(slug) or ID_FORM.fullmatch(slug):
        return None
    return slug


def address(*, name: str, pk: int) -> str:
    return name_address(name) or f"area-{pk}"


def id_in_address(slug: str) -> int | None:
    """The id an address of the id form names, or None."""
    match = ID_FORM.fullmatch(slug)
    return int(match[1]) if match else None


def former_address(*, name: str, pk: int) -> str:
    """The address before the id form had its prefix (a bare id, or a slug of digits):
    still in bookmarks and links elsewhere, so it redirects."""
    return slugify(name) or str(pk)
