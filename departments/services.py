"""Writes to departments data that are more than a form save: importing boundaries, and
the staff access that follows a person's department memberships."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from shapely.geometry import mapping

from civic311.geo import json_loads_strict, parse_area, validate_area_in_city
from departments.models import BOUNDARY_NAME_MAX, Boundary, StaffMembership
from departments.permissions import STAFF_GROUP_NAME


def geojson_load(raw: bytes | str) -> dict[str, Any]:
    """Decode a GeoJSON document, or raise a ValidationError that says why not."""
    try:
        document = json_loads_strict(raw)
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ValidationError(f"Not a GeoJSON file: {exc}.", code="json") from exc
    if not isinstance(document, dict):
        raise ValidationError("GeoJSON must be an object.", code="geojson")
    return document


def geojson_features(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The features of a FeatureCollection, a single Feature, or a bare geometry as one."""
    kind = document.get("type")
    if kind == "FeatureCollection":
        features = document.get("features")
        if not isinstance(features, list):
            raise ValidationError("The FeatureCollection has no feature list.", code="geojson")
        return features
    if kind == "Feature":
        return [document]
    return [{"type": "Feature", "properties": {}, "geometry": document}]


def geojson_single_area(raw: bytes | str) -> dict[str, Any]:
    """The one Polygon/MultiPolygon of an uploaded file, validated, as a GeoJSON dict."""
    features = geojson_features(geojson_load(raw))
    if len(features) != 1:
        raise ValidationError(
            f"The file holds {len(features)} features; upload one area "
            "(or use the import_boundaries command for many).",
            code="count",
        )
    feature = features[0]
    geometry = feature.get("geometry") if isinstance(feature, dict) else None
    area = parse_area(geometry or {})
    validate_area_in_city(area)
    return dict(mapping(area))


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def boundaries_import(
    *, features: Iterable[dict[str, Any]], kind: str, name_field: str, dry_run: bool = False
) -> ImportResult:
    """Create or update one Boundary per feature, matched by (kind, name): idempotent.

    Every feature is checked first; any error (reported with its 1-based feature number)
    aborts the whole import, so a file is either imported completely or not at all."""
    if kind not in Boundary.Kind.values:
        raise ValidationError(
            f"Unknown kind {kind!r}; choose one of {', '.join(Boundary.Kind.values)}."
        )
    errors: list[str] = []
    parsed: dict[str, tuple[int, dict[str, Any]]] = {}
    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, dict):
            errors.append(f"Feature {number}: not a GeoJSON Feature.")
            continue
        name, problem = _feature_name(feature, name_field)
        if problem:
            errors.append(f"Feature {number}: {problem}")
            continue
        try:
            area = parse_area(feature.get("geometry") or {})
            validate_area_in_city(area)
            geometry = dict(mapping(area))
        except ValidationError as exc:
            errors.append(f"Feature {number} ({name}): {' '.join(exc.messages)}")
            continue
        if name in parsed:
            errors.append(f"Feature {number} ({name}): the name appears twice in the file.")
            continue
        parsed[name] = (number, geometry)
    if errors:
        raise ValidationError(errors)
    if not parsed:
        raise ValidationError("The file holds no features.")

    result = ImportResult()
    with transaction.atomic():
        existing = {b.name: b for b in Boundary.objects.filter(kind=kind, name__in=parsed)}
        for name, (number, geometry) in parsed.items():
            boundary = existing.get(name)
            if boundary is None:
                outcome = result.created
                boundary = Boundary(name=name, kind=kind, geometry=geometry)
            elif _same_geometry(boundary.geometry, geometry):
                result.unchanged.append(name)
                continue
            else:
                outcome = result.updated
                boundary.geometry = geometry
            try:
                boundary.full_clean()
            except ValidationError as exc:
                # What the model checks against the areas already saved (a neighbourhood
                # whose address another has, in the database or earlier in this file), with
                # the feature's number like every other error; the rest are still checked.
                errors.append(f"Feature {number} ({name}): {' '.join(exc.messages)}")
                continue
            boundary.save()
            outcome.append(name)
        if errors:
            raise ValidationError(errors)  # leaves the transaction: nothing is kept
        if dry_run:
            transaction.set_rollback(True)
        elif result.created or result.updated:
            areas_changed_on_commit()
    return result


def _feature_name(feature: dict[str, Any], name_field: str) -> tuple[str, str]:
    """The feature's name from its properties, or why it has none that can be saved. Why:
    a feature whose properties were not an object stopped the import with a traceback, a
    name that was an object was saved as its Python text, and one with a NUL character
    failed on PostgreSQL with a database error."""
    properties = feature.get("properties")
    if properties is None:
        properties = {}
    if not isinstance(properties, dict):
        return "", "its properties are not an object."
    value = properties.get(name_field)
    if isinstance(value, bool) or not isinstance(value, str | int | float | None):
        return "", f"its {name_field!r} property is not text."
    name = "" if value is None else str(value).strip()
    if not name:
        return "", f"no {name_field!r} property to name it by."
    if len(name) > BOUNDARY_NAME_MAX:
        return "", f"the name ({name[:40]}…) is too long."
    if any(unicodedata.category(char) == "Cc" for char in name):
        return "", f"the name {name!r} holds a control character."
    return name, ""


def _same_geometry(stored: dict[str, Any], new: dict[str, Any]) -> bool:
    # Compare shapes, not JSON text: a re-export may order keys or tuples differently.
    try:
        return parse_area(stored).equals(parse_area(new))
    except ValidationError:
        return False


# What other apps do once a change to areas has committed (reports: locate the reports
# around them again; registered in ReportsConfig.ready). The change itself is recorded by a
# database trigger, whoever writes it (reports migration 0033).
_after_areas_change: list[Callable[[], None]] = []


def register_after_areas_change(action: Callable[[], None]) -> None:
    _after_areas_change.append(action)


def areas_changed_on_commit() -> None:
    """Once the current transaction (which drew, redrew or deleted areas) commits, run what
    the other apps registered for it."""
    for action in _after_areas_change:
        transaction.on_commit(action, robust=True)


def staff_access_sync(user_ids: Iterable[int]) -> bool:
    """Give these users the admin access their department memberships call for: a member
    of a department is staff and in the "Department staff" group (the models' view and
    change rights); a user whose last membership went leaves the group (a superuser keeps
    everything). Why: the membership alone let nobody in, and the admin said only that the
    password was wrong; a city following "add each to a department" had staff locked out.
    False when the group is missing (its members are made staff all the same)."""
    ids = set(user_ids)
    if not ids:
        return True
    # Made by a departments migration with its rights; a superuser may rename or delete it.
    group = Group.objects.filter(name=STAFF_GROUP_NAME).first()
    members = set(StaffMembership.objects.filter(user_id__in=ids).values_list("user_id", flat=True))
    User = get_user_model()
    with transaction.atomic():
        User.objects.filter(pk__in=members, is_staff=False).update(is_staff=True)
        if group is None:
            return False
        group.user_set.add(*members)
        group.user_set.remove(*(ids - members))
    return True


MISSING_GROUP = (
    f'The "{STAFF_GROUP_NAME}" group is missing (renamed or deleted), so department staff '
    "can't open the queue: give a group that name again, with its view and change rights."
)
