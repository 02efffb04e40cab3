"""Which set of areas a point lies in, and which sets lie in an area (models.AreaSet).

A report's set is found when it is routed (reports/rules.py), from the areas routing found
around its point anyway, in routing's copy of the catalogue, which holds every set (a new
set changes the catalogue's version: migration 0008): no query, and one insert the first
time a combination occurs. The sets are few (one per combination of overlapping areas that
holds a report), so the sets inside an area are found by reading them all."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction

from departments.models import AreaSet


def set_key(area_ids: Iterable[int]) -> str:
    return ",".join(str(pk) for pk in sorted(set(area_ids)))


def area_set_for(area_ids: Iterable[int]) -> int | None:
    """The id of the set of exactly these areas (made if new), or None for no area."""
    key = set_key(area_ids)
    if not key:
        return None
    found = AreaSet.objects.filter(key=key).values_list("pk", flat=True).first()
    return found if found is not None else set_made(AreaSet, key)


def set_made(model: Any, key: str) -> int:
    """Make the set `key` (of `model`: AreaSet, or a migration's), or read it if another
    transaction made it meanwhile."""
    try:
        with transaction.atomic():
            return int(model.objects.create(key=key).pk)
    except IntegrityError:
        return int(model.objects.get(key=key).pk)


def area_sets_in(area_id: int) -> list[int]:
    """The sets that name the area: a report lies in the area when its set is one of them."""
    return [s.pk for s in AreaSet.objects.only("key") if area_id in s.area_ids]
