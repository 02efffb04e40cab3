"""Reading a city's address list (CSV or GeoJSON) into address points and streets.

Idempotent: a point is known by its id in the file (made from number, street and unit when
the file has none), so a second run of the same file changes nothing, and a newer file
updates what moved. A bad row is reported and skipped; a file that cannot be read at all
is refused before anything is stored. The whole import is one transaction."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Avg, Count

from civic311.geo import json_loads_strict, validate_point
from civic311.input import NUL_IN_ROW, holds_nul
from places.models import AddressPoint, Street
from places.text import normalize

BATCH = 2000
FIELDS = ("number", "street", "unit", "postcode", "lat", "long", "search_text")
# Column names seen in address files, by what they mean.
COLUMNS = {
    "id": ("id", "address_id", "source_id", "objectid"),
    "number": ("number", "housenumber", "house_number", "addr:housenumber"),
    "street": ("street", "street_name", "addr:street"),
    "unit": ("unit", "addr:unit"),
    "postcode": ("postcode", "zip", "zipcode", "addr:postcode"),
    "lat": ("lat", "latitude", "y"),
    "long": ("long", "lon", "lng", "longitude", "x"),
}


class BadFile(Exception):
    """The file cannot be imported at all (its format or its columns)."""


class BadRow(Exception):
    pass


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    bad_rows: list[str] = field(default_factory=list)
    streets: int = 0

    @property
    def read(self) -> int:
        return self.created + self.updated + self.unchanged + len(self.bad_rows)


def _pick(raw: dict[str, Any], meaning: str) -> Any:
    lowered = {str(k).strip().lower(): v for k, v in raw.items()}
    for name in COLUMNS[meaning]:
        value = lowered.get(name)
        if value not in (None, ""):
            return value
    return None


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, raw values) of each address in the file. Raises BadFile."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_rows(path)
    if suffix in (".geojson", ".json"):
        return _geojson_rows(path)
    raise BadFile(f"{path.name}: expected a .csv or .geojson file.")


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
        reader = csv.DictReader(handle)
        header = {h.strip().lower() for h in (reader.fieldnames or [])}
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise BadFile(f"{path.name}: cannot be read as CSV ({exc}).") from exc
    missing = [m for m in ("street", "lat", "long") if not header & set(COLUMNS[m])]
    if missing:
        handle.close()
        raise BadFile(
            f"{path.name}: no column for {', '.join(missing)} "
            f"(the header is: {', '.join(sorted(header)) or 'empty'})."
        )

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        with handle:
            try:
                yield from enumerate(reader, start=2)
            except (UnicodeDecodeError, csv.Error) as exc:
                raise BadFile(f"{path.name}: broken at line {reader.line_num} ({exc}).") from exc

    return rows()


def _geojson_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        data = json_loads_strict(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BadFile(f"{path.name}: not valid JSON ({exc}).") from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise BadFile(f"{path.name}: expected a GeoJSON FeatureCollection.")
    features = data.get("features")
    if not isinstance(features, list):
        raise BadFile(f"{path.name}: the FeatureCollection has no list of features.")

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        for number, feature in enumerate(features, start=1):
            if not isinstance(feature, dict):
                yield number, {}
                continue
            properties = feature.get("properties")
            # GeoJSON's properties are an object or null; a list or a string here ended
            # the import in a TypeError. Without them the row has no street: skipped.
            raw = dict(properties) if isinstance(properties, dict) else {}
            geometry = feature.get("geometry")
            if not isinstance(geometry, dict):
                geometry = {}
            coordinates = geometry.get("coordinates")
            is_point = geometry.get("type") == "Point"
            if is_point and isinstance(coordinates, list) and len(coordinates) >= 2:
                raw["long"], raw["lat"] = coordinates[0], coordinates[1]
            if feature.get("id") is not None and _pick(raw, "id") is None:
                raw["id"] = feature["id"]
            yield number, raw

    return rows()


def parse_row(raw: dict[str, Any]) -> dict[str, Any]:
    """The fields of an AddressPoint (and its `source_id`) from a row. Raises BadRow."""
    street = str(_pick(raw, "street") or "").strip()
    if not street:
        raise BadRow("no street")
    number = str(_pick(raw, "number") or "").strip()
    unit = str(_pick(raw, "unit") or "").strip()
    postcode = str(_pick(raw, "postcode") or "").strip()
    for name, value, most in (("street", street, 120), ("number", number, 16), ("unit", unit, 32)):
        if len(value) > most:
            raise BadRow(f"the {name} is longer than {most} characters")
    try:
        lat, long = float(_pick(raw, "lat")), float(_pick(raw, "long"))
    except (TypeError, ValueError) as exc:
        raise BadRow("latitude and longitude must be numbers") from exc
    try:
        validate_point(lat, long)
    except ValidationError as exc:
        raise BadRow(" ".join(exc.messages)) from exc
    source_id = str(_pick(raw, "id") or "").strip()
    if not source_id:
        source_id = "-".join(filter(None, [number, normalize(street).replace(" ", "-"), unit]))
    if len(source_id) > 64:
        raise BadRow("the id is longer than 64 characters")
    if holds_nul([street, number, unit, postcode, source_id]):
        raise BadRow(NUL_IN_ROW)
    return {
        "source_id": source_id,
        "number": number,
        "street": street,
        "unit": unit,
        "postcode": postcode[:16],
        "lat": round(lat, 7),
        "long": round(long, 7),
        "search_text": normalize(f"{number} {street} {unit}")[:200],
    }


def import_addresses(path: Path, *, progress: Callable[[int], None] | None = None) -> ImportResult:
    """Import every good row of the file; see the module's docstring. Raises BadFile."""
    rows = read_rows(path)
    result = ImportResult()
    seen: dict[str, int] = {}
    batch: list[dict[str, Any]] = []
    with transaction.atomic():
        for number, raw in rows:
            try:
                values = parse_row(raw)
            except BadRow as exc:
                result.bad_rows.append(f"row {number}: {exc}")
                continue
            if values["source_id"] in seen:
                earlier = seen[values["source_id"]]
                result.bad_rows.append(f"row {number}: the same address as row {earlier}")
                continue
            seen[values["source_id"]] = number
            batch.append(values)
            if len(batch) >= BATCH:
                _save(batch, result)
                batch = []
                if progress:
                    progress(result.read)
        _save(batch, result)
        result.streets = rebuild_streets()
    return result


def _save(batch: list[dict[str, Any]], result: ImportResult) -> None:
    if not batch:
        return
    existing = AddressPoint.objects.in_bulk([v["source_id"] for v in batch], field_name="source_id")
    new, changed = [], []
    for values in batch:
        point = existing.get(values["source_id"])
        if point is None:
            new.append(AddressPoint(**values))
        elif any(getattr(point, f) != values[f] for f in FIELDS):
            for f in FIELDS:
                setattr(point, f, values[f])
            changed.append(point)
        else:
            result.unchanged += 1
    AddressPoint.objects.bulk_create(new)
    AddressPoint.objects.bulk_update(changed, FIELDS)
    result.created += len(new)
    result.updated += len(changed)


def rebuild_streets() -> int:
    """One Street per street name, at the middle of its address points."""
    rows = (
        AddressPoint.objects.values("street")
        .annotate(lat=Avg("lat"), long=Avg("long"), count=Count("id"))
        .order_by("street")
    )
    streets: dict[str, Street] = {}
    for row in rows:
        key = normalize(row["street"])
        street = streets.get(key)
        if street is None:  # "Oak St" and "Oak Street" are one street
            streets[key] = Street(
                name=row["street"],
                search_text=key,
                lat=row["lat"],
                long=row["long"],
                address_count=row["count"],
            )
            continue
        total = street.address_count + row["count"]
        street.lat = (street.lat * street.address_count + row["lat"] * row["count"]) / total
        street.long = (street.long * street.address_count + row["long"] * row["count"]) / total
        street.address_count = total
    Street.objects.all().delete()
    Street.objects.bulk_create(streets.values())
    return len(streets)
