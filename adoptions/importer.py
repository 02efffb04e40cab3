"""Reading a city's asset file: CSV, GeoJSON points, or a transit feed's GTFS stops.txt.

A file is read whole before anything is stored. A row (or feature) that cannot be used is
reported with its line (or feature) number and skipped; a file that cannot be read at all
(wrong encoding, not JSON, missing columns, nothing usable) is refused with a FileRefused
that says why, and nothing is stored.

GTFS: stops.txt has no standard column for shelters. Feeds that know say so in an extra
column, commonly `shelter` (also `has_shelter`, `stop_shelter`, `bench_shelter`); when the
file has one of these (or the column named by `shelter_column`), only stops whose value is
yes/true/1 are kept. Only stops and platforms are assets (location_type empty or 0):
stations, entrances and other nodes are skipped. The external id is `stop_id`; `stop_code`
(the number on the sign) and `wheelchair_boarding` go into the attributes."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from adoptions.models import EXTERNAL_ID_MAX, external_id_error
from civic311.geo import json_loads_strict, validate_point
from civic311.input import NUL, NUL_IN_ROW

FORMATS = ("csv", "geojson", "gtfs")
# Accepted spellings of each column when none is named, tried in order.
ALIASES = {
    "id": ("id", "external_id", "asset_id", "stop_id", "objectid", "fid"),
    "name": ("name", "title", "stop_name", "label"),
    "lat": ("lat", "latitude", "y", "stop_lat"),
    "long": ("long", "lon", "lng", "longitude", "x", "stop_lon"),
    "address": ("address", "street_address", "location", "stop_desc"),
}
SHELTER_COLUMNS = ("shelter", "has_shelter", "stop_shelter", "bench_shelter")
TRUE_VALUES = {"1", "yes", "y", "true", "t"}
GTFS_REQUIRED = ("stop_id", "stop_lat", "stop_lon")
GTFS_ASSET_LOCATION_TYPES = {"", "0"}
NAME_MAX, ADDRESS_MAX = 200, 255
# GeoJSON properties deeper than this are not a city's asset data; far deeper ones would
# exhaust Python's recursion when they are saved.
PROPERTIES_DEPTH_MAX = 32
# A lone UTF-16 surrogate ("\\ud800" in JSON) is valid JSON but cannot be written as UTF-8.
SURROGATE = re.compile("[\ud800-\udfff]")


class FileRefused(Exception):
    """The whole file is unusable; the message says why, for a person."""


@dataclass(frozen=True)
class Columns:
    """Column (or GeoJSON property) names; None: the first alias the file has."""

    id: str | None = None
    name: str | None = None
    lat: str | None = None
    long: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class Record:
    number: int  # line (CSV, GTFS) or feature (GeoJSON) number, from 1
    external_id: str
    name: str
    lat: float
    long: float
    address: str
    attributes: dict[str, Any]


@dataclass(frozen=True)
class RowError:
    number: int
    message: str
    external_id: str = ""  # when readable: such an asset is not deactivated


@dataclass
class Parsed:
    unit: str  # "line" or "feature"
    records: list[Record] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    skipped: int = 0  # rows left out on purpose (GTFS stations, stops without a shelter)
    notes: list[str] = field(default_factory=list)


def detect_format(filename: str, data: bytes) -> str:
    name = filename.lower().rsplit("/", 1)[-1]
    if name.endswith((".geojson", ".json")) or data.lstrip()[:1] == b"{":
        return "geojson"
    if name == "stops.txt":
        return "gtfs"
    return "csv"


def read_assets(
    data: bytes,
    *,
    fmt: str,
    columns: Columns = Columns(),
    shelter_column: str | None = None,
) -> Parsed:
    """Parse `data` in format `fmt` (see FORMATS); raises FileRefused."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRefused(
            f"The file is not UTF-8 text (byte {exc.start + 1}). Save it as UTF-8 CSV or GeoJSON."
        ) from exc
    if fmt == "geojson":
        parsed = _read_geojson(text, columns)
    elif fmt == "gtfs":
        parsed = _read_gtfs(text, shelter_column)
    elif fmt == "csv":
        parsed = _read_csv(text, columns)
    else:
        raise FileRefused(f"Unknown format {fmt!r}; use one of {', '.join(FORMATS)}.")
    if not parsed.records:
        problem = f" ({len(parsed.errors)} {parsed.unit}s with errors)" if parsed.errors else ""
        raise FileRefused(f"The file has no usable assets{problem}; nothing was imported.")
    _refuse_duplicates(parsed)
    return parsed


def _pick(available: list[str], wanted: str | None, kind: str, required: bool) -> str | None:
    lowered = {name.strip().lower(): name for name in available}
    if wanted is not None:
        if wanted.strip().lower() not in lowered:
            raise FileRefused(
                f"The {kind} column {wanted!r} is not in the file "
                f"(it has: {', '.join(available) or 'no columns'})."
            )
        return lowered[wanted.strip().lower()]
    for alias in ALIASES[kind]:
        if alias in lowered:
            return lowered[alias]
    if required:
        raise FileRefused(
            f"No {kind} column found (tried {', '.join(ALIASES[kind])}); name it with "
            f"--{kind}-column. The file has: {', '.join(available) or 'no columns'}."
        )
    return None


def _csv_rows(text: str) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    try:
        header = [name.strip() for name in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise FileRefused(f"The CSV header cannot be read: {exc}.") from exc
    if not header:
        raise FileRefused("The file is empty.")
    reader.fieldnames = header

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        line = 1
        try:
            for row in reader:
                line = reader.line_num
                yield line, row
        except csv.Error as exc:
            raise FileRefused(f"Line {line + 1} breaks the CSV format: {exc}.") from exc

    return header, rows()


def _read_csv(text: str, columns: Columns) -> Parsed:
    header, rows = _csv_rows(text)
    picked = {
        kind: _pick(header, getattr(columns, kind), kind, required=kind in ("id", "lat", "long"))
        for kind in ("id", "name", "lat", "long", "address")
    }
    used = {name for name in picked.values() if name}
    parsed = Parsed(unit="line")
    for line, row in rows:
        if None in row:
            # Its id is still readable (an unquoted comma in a name shifts only the columns
            # after it): a listed asset, not one to deactivate, as for any other bad row.
            ident = (row.get(picked["id"] or "") or "").strip()
            listed = ident if ident and len(ident) <= EXTERNAL_ID_MAX else ""
            parsed.errors.append(RowError(line, "more values than columns", listed))
            continue
        values = {key: (value or "").strip() for key, value in row.items()}
        if not any(values.values()):
            continue  # blank line
        _add(parsed, line, values, picked, extra={k: v for k, v in values.items() if k not in used})
    return parsed


def _read_gtfs(text: str, shelter_column: str | None) -> Parsed:
    header, rows = _csv_rows(text)
    missing = [name for name in GTFS_REQUIRED if name not in header]
    if missing:
        raise FileRefused(
            f"This is not a GTFS stops.txt: it lacks {', '.join(missing)} "
            f"(it has: {', '.join(header)})."
        )
    shelter = shelter_column or next((c for c in SHELTER_COLUMNS if c in header), None)
    if shelter is not None and shelter not in header:
        raise FileRefused(f"The shelter column {shelter!r} is not in stops.txt.")
    parsed = Parsed(unit="line")
    if shelter is None:
        parsed.notes.append(
            "The feed does not say which stops have a shelter (no "
            f"{'/'.join(SHELTER_COLUMNS)} column): every stop was imported."
        )
    picked = {
        "id": "stop_id",
        "name": "stop_name" if "stop_name" in header else None,
        "lat": "stop_lat",
        "long": "stop_lon",
        "address": "stop_desc" if "stop_desc" in header else None,
    }
    kept = ("stop_code", "wheelchair_boarding", "platform_code", "zone_id")
    for line, row in rows:
        values = {key: (value or "").strip() for key, value in row.items() if key is not None}
        if values.get("location_type", "") not in GTFS_ASSET_LOCATION_TYPES:
            parsed.skipped += 1
            continue
        if shelter is not None and values.get(shelter, "").lower() not in TRUE_VALUES:
            parsed.skipped += 1
            continue
        extra = {key: values[key] for key in kept if values.get(key)}
        _add(parsed, line, values, picked, extra=extra)
    return parsed


def _read_geojson(text: str, columns: Columns) -> Parsed:
    try:
        document = json_loads_strict(text)
    except json.JSONDecodeError as exc:
        raise FileRefused(
            f"The file is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
        ) from exc
    except ValueError as exc:
        raise FileRefused(f"The file is not valid JSON: {exc}.") from exc
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise FileRefused("A GeoJSON file must be a FeatureCollection of Point features.")
    features = document.get("features")
    if not isinstance(features, list):
        raise FileRefused("The FeatureCollection has no list of features.")
    parsed = Parsed(unit="feature")
    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            parsed.errors.append(RowError(number, "not a GeoJSON Feature"))
            continue
        properties = feature.get("properties") or {}
        if not isinstance(properties, dict):
            parsed.errors.append(RowError(number, "its properties are not an object"))
            continue
        values = {str(k): "" if v is None else str(v) for k, v in properties.items()}
        names = list(values)
        picked = {
            "id": _pick(names, columns.id, "id", required=False),
            "name": _pick(names, columns.name, "name", required=False),
            "address": _pick(names, columns.address, "address", required=False),
        }
        if picked["id"] is None and feature.get("id") not in (None, ""):
            values["@id"], picked["id"] = str(feature["id"]), "@id"
        raw_id = properties[picked["id"]] if picked["id"] in properties else feature.get("id")
        if isinstance(raw_id, bool | dict | list):
            # str() would make an id of Python's spelling ("True", "{'a': 1}").
            parsed.errors.append(RowError(number, "its id is not text or a number"))
            continue
        geometry = feature.get("geometry") or {}
        coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if (
            not isinstance(geometry, dict)
            or geometry.get("type") != "Point"
            or not isinstance(coordinates, list)
            or len(coordinates) < 2
        ):
            ident = values.get(picked["id"] or "", "")
            parsed.errors.append(RowError(number, "its geometry is not a Point", ident))
            continue
        values["@long"], values["@lat"] = str(coordinates[0]), str(coordinates[1])
        picked.update({"lat": "@lat", "long": "@long"})
        used = {name for name in picked.values() if name}
        extra = {k: properties[k] for k in properties if k not in used}
        _add(parsed, number, values, picked, extra=extra)
    return parsed


def _add(
    parsed: Parsed,
    number: int,
    values: dict[str, str],
    picked: dict[str, str | None],
    *,
    extra: dict[str, Any],
) -> None:
    def value(kind: str) -> str:
        column = picked.get(kind)
        return values.get(column, "").strip() if column else ""

    external_id = value("id")
    problems = []
    if not external_id:
        problems.append("no id")
    elif len(external_id) > EXTERNAL_ID_MAX:
        problems.append(f"the id {external_id[:20]!r} is longer than 64 characters")
        external_id = ""
    elif external_id_error(external_id):
        problems.append(f"the id {external_id!r} has a / or is only dots")
        external_id = ""
    unstorable = _unstorable([external_id, value("name"), value("address"), extra])
    if unstorable:
        problems.append(unstorable)
        external_id = SURROGATE.sub("\ufffd", external_id.replace(NUL, "\\x00"))
    lat, long = _number(value("lat")), _number(value("long"))
    if lat is None or long is None:
        problems.append("latitude and longitude must be numbers")
    else:
        try:
            validate_point(lat, long)
        except ValidationError as exc:
            problems.append(" ".join(exc.messages))
    if problems:
        parsed.errors.append(RowError(number, "; ".join(problems), external_id))
        return
    assert lat is not None and long is not None
    parsed.records.append(
        Record(
            number=number,
            external_id=external_id,
            name=(value("name") or external_id)[:NAME_MAX],
            lat=round(lat, 7),
            long=round(long, 7),
            address=value("address")[:ADDRESS_MAX],
            attributes=extra,
        )
    )


def _unstorable(value: Any) -> str | None:
    """Why a row's values (GeoJSON's lists and objects, keys included) cannot be stored, if
    they cannot: a NUL character (PostgreSQL's text and jsonb refuse it); lone surrogates,
    which cannot be encoded; nesting deep enough to exhaust Python's recursion. Each failed
    the whole import with a traceback. Walked without recursion, for that last reason. (NaN
    and Infinity never get here: json_loads_strict refuses the file.)"""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > PROPERTIES_DEPTH_MAX:
            return f"its properties are nested more than {PROPERTIES_DEPTH_MAX} levels deep"
        if isinstance(item, str) and NUL in item:
            return NUL_IN_ROW
        if isinstance(item, str) and SURROGATE.search(item):
            return "it holds an invalid character (a lone UTF-16 surrogate such as \\ud800)"
        if isinstance(item, dict):
            stack.extend((part, depth + 1) for pair in item.items() for part in pair)
        elif isinstance(item, list):
            stack.extend((part, depth + 1) for part in item)
    return None


def _number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _refuse_duplicates(parsed: Parsed) -> None:
    """A second row with the same id is an error (which one is right?); the first stays."""
    seen: dict[str, int] = {}
    unique = []
    for record in parsed.records:
        first = seen.setdefault(record.external_id, record.number)
        if first != record.number:
            parsed.errors.append(
                RowError(
                    record.number,
                    f"the id {record.external_id!r} is already on {parsed.unit} {first}",
                    record.external_id,
                )
            )
        else:
            unique.append(record)
    parsed.records = unique
    parsed.errors.sort(key=lambda error: error.number)
