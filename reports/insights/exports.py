"""Streamed CSV and GeoJSON exports of public reports, and the nightly full dump.

Rows are read with values_list over a server-side cursor (PostgreSQL) in chunks and written
out in blocks, so memory stays constant however many reports match. Only the columns named
in FIELDS are ever selected: a reporter's contact fields cannot reach an export."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import django_filters as filters
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Case, CharField, F, Func, QuerySet, TextField, Value, When

from departments.models import Boundary
from reports.api.filters import ServiceRequestFilter
from reports.insights.filters import area_condition
from reports.models import ServiceRequest

CHUNK = 5000  # rows per database fetch
BLOCK = 2000  # rows per piece of the response
REDACTED = "[Description removed by moderator]"


@dataclass(frozen=True)
class Field:
    name: str
    source: str  # the values_list path; never a contact field
    kind: str
    description: str


FIELDS: tuple[Field, ...] = (
    Field("service_request_id", "pk", "integer", "The report's number (page /reports/<id>/)."),
    Field("service_code", "service__service_code", "string", "The category's Open311 code."),
    Field("service_name", "service__name", "string", "The category, as citizens see it."),
    Field("agency_responsible", "department__name", "string", "The department it is routed to."),
    Field("status", "status", "string", "open or closed (Open311)."),
    Field(
        "state",
        "state",
        "string",
        "Workflow state: new, acknowledged, in_progress, fixed, "
        "duplicate, not_actionable, referred.",
    ),  # fmt: skip
    Field("status_notes", "status_notes", "string", "The city's public note on the status."),
    Field(
        "description",
        "description",
        "string",
        f"The reporter's description, unless a moderator removed it (then “{REDACTED}”).",
    ),  # fmt: skip
    Field(
        "requested_datetime",
        "requested_datetime",
        "datetime",
        "When it was reported (UTC, ISO 8601).",
    ),  # fmt: skip
    Field("updated_datetime", "updated_datetime", "datetime", "Last change (UTC, ISO 8601)."),
    Field(
        "expected_datetime",
        "expected_datetime",
        "datetime",
        "The category's target time for closing it, when it has one (UTC).",
    ),  # fmt: skip
    Field(
        "closed_datetime",
        "closed_datetime",
        "datetime",
        "When it was closed (UTC); empty while open.",
    ),  # fmt: skip
    Field("address", "address", "string", "The address given, if any."),
    Field("zipcode", "zipcode", "string", "Postal code, if given."),
    Field("lat", "lat", "number", "Latitude, WGS84 decimal degrees; empty for address-only."),
    Field("long", "long", "number", "Longitude, WGS84 decimal degrees."),
    Field(
        "area",
        "area__name",
        "string",
        "The smallest named area (neighbourhood, district) the point lies in.",
    ),  # fmt: skip
    Field("source", "source", "string", "How it arrived: web, api, staff, adoption, generated."),
)
COLUMNS = [f.name for f in FIELDS]
_SOURCES = [f.source for f in FIELDS]
_DESCRIPTION = COLUMNS.index("description")
_DATETIMES = [i for i, f in enumerate(FIELDS) if f.kind == "datetime"]
_LAT, _LONG = COLUMNS.index("lat"), COLUMNS.index("long")


class ExportFilterForm(forms.Form):
    """Open311's filters without the API's 90-day window: an export may cover everything."""

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for first, last in (("start_date", "end_date"), ("updated_after", "updated_before")):
            if data.get(first) and data.get(last) and data[first] > data[last]:
                raise ValidationError(f"{first} must be before {last}.", code="order")
        return data


class ExportFilter(ServiceRequestFilter):
    """requests.json's filters (service_request_id, service_code, status, start_date,
    end_date, updated_after, updated_before, bbox) plus area (a boundary id)."""

    area = filters.ModelChoiceFilter(queryset=Boundary.objects.all(), method="filter_area")

    class Meta(ServiceRequestFilter.Meta):
        form = ExportFilterForm  # type: ignore[assignment]

    def filter_area(self, queryset: Any, name: str, value: Boundary | None) -> Any:
        return queryset.filter(area_condition(value)) if value is not None else queryset


def export_rows(queryset: QuerySet[ServiceRequest]) -> Iterator[list[Any]]:
    """Public rows, in id order, as lists of values matching COLUMNS."""
    rows = (
        queryset.public()  # type: ignore[attr-defined]
        .order_by("pk")
        .values_list(*_SOURCES, "description_redacted")
        .iterator(chunk_size=CHUNK)
    )
    for row in rows:
        values = list(row[:-1])
        if row[-1]:
            values[_DESCRIPTION] = REDACTED
        for i in _DATETIMES:
            if values[i] is not None:
                values[i] = values[i].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        yield values


def csv_chunks(rows: Iterable[list[Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    pending = 0
    for row in rows:
        writer.writerow(row)
        pending += 1
        if pending >= BLOCK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate(0)
            pending = 0
    yield buffer.getvalue()


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def geojson_chunks(rows: Iterable[list[Any]]) -> Iterator[str]:
    """A FeatureCollection written feature by feature (RFC 7946: lon, lat order)."""
    yield '{"type":"FeatureCollection","features":[\n'
    parts: list[str] = []
    first = True
    for row in rows:
        lat, long = row[_LAT], row[_LONG]
        geometry = (
            '{"type":"Point","coordinates":[' + repr(long) + "," + repr(lat) + "]}"
            if lat is not None
            else "null"
        )
        feature = (
            ('{"type":"Feature","id":' if first else ',\n{"type":"Feature","id":')
            + str(row[0])
            + ',"geometry":'
            + geometry
            + ',"properties":'
            + _encode(dict(zip(COLUMNS, row, strict=True)))
            + "}"
        )
        first = False
        parts.append(feature)
        if len(parts) >= BLOCK:
            yield "".join(parts)
            parts = []
    parts.append("\n]}\n")
    yield "".join(parts)


FORMATS = {
    "csv": (csv_chunks, "text/csv; charset=utf-8"),
    "geojson": (geojson_chunks, "application/geo+json"),
}


# PostgreSQL: the database formats the rows --------------------------------------------------
#
# Python costs tens of microseconds a row (fetching, converting, formatting); at a million
# rows that is a minute. On PostgreSQL the CSV comes from COPY ... TO STDOUT and each
# GeoJSON feature's properties from json_build_object, so Python only joins bytes.


class UtcText(Func):
    """A timestamp as 2026-11-25T10:28:23Z (whole seconds, UTC), formatted by PostgreSQL."""

    template = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    output_field = CharField()


class JsonText(Func):
    function = "json_build_object"
    template = "%(function)s(%(expressions)s)::text"
    output_field = TextField()


def _pg_columns() -> list[Any]:
    """One SQL expression per column of COLUMNS, in order."""
    columns: list[Any] = []
    for f in FIELDS:
        if f.name == "description":
            columns.append(
                Case(
                    When(description_redacted=True, then=Value(REDACTED)),
                    default=F("description"),
                    output_field=TextField(),
                )
            )
        elif f.kind == "datetime":
            columns.append(UtcText(F(f.source)))
        else:
            columns.append(F(f.source))
    return columns


def _pg_selected(queryset: QuerySet[ServiceRequest], **columns: Any) -> QuerySet[Any]:
    # Annotations only, in this order, so that the SQL's columns are in this order too.
    return (
        queryset.public()  # type: ignore[attr-defined]
        .order_by("pk")
        .annotate(**columns)
        .values_list(*columns)
    )


def pg_csv_chunks(queryset: QuerySet[ServiceRequest]) -> Iterator[bytes]:
    columns = {f"c{i:02d}": expression for i, expression in enumerate(_pg_columns())}
    sql, params = _pg_selected(queryset, **columns).query.sql_with_params()
    buffer = io.StringIO()
    csv.writer(buffer).writerow(COLUMNS)
    yield buffer.getvalue().encode()
    pending: list[bytes] = []
    size = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: COPY streams row by row
        with raw.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy:
            for block in copy:
                pending.append(bytes(block))
                size += len(block)
                if size >= 1 << 16:
                    yield b"".join(pending)
                    pending, size = [], 0
    yield b"".join(pending)


def pg_geojson_chunks(queryset: QuerySet[ServiceRequest]) -> Iterator[bytes]:
    """Each feature built by json_build_object and streamed by COPY as one line. The CSV
    format with control characters as delimiter and quote writes the JSON untouched: JSON
    escapes every control character, so neither can occur in it."""
    pairs: list[Any] = []
    for name, expression in zip(COLUMNS, _pg_columns(), strict=True):
        pairs += [Value(name), expression]
    point = JsonText(
        Value("type"),
        Value("Point"),
        Value("coordinates"),
        Func(F("long"), F("lat"), function="json_build_array"),
    )
    geometry = Case(
        When(lat__isnull=True, then=Value("null")), default=point, output_field=TextField()
    )
    feature = JsonText(
        Value("type"),
        Value("Feature"),
        Value("id"),
        F("pk"),
        Value("geometry"),
        Func(geometry, template="(%(expressions)s)::json", output_field=TextField()),
        Value("properties"),
        Func(*pairs, function="json_build_object", output_field=TextField()),
    )
    sql, params = _pg_selected(queryset, feature=feature).query.sql_with_params()
    copy_sql = f"COPY ({sql}) TO STDOUT (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')"
    yield b'{"type":"FeatureCollection","features":[\n'
    pending: list[bytes] = []
    size = 0
    separator = b""
    with connection.cursor() as cursor, cursor.cursor.copy(copy_sql, params) as copy:
        for block in copy:
            line = bytes(block).rstrip(b"\n")
            pending.append(separator + line)
            separator = b",\n"
            size += len(line)
            if size >= 1 << 16:
                yield b"".join(pending)
                pending, size = [], 0
    pending.append(b"\n]}\n")
    yield b"".join(pending)


def stream(fmt: str, queryset: QuerySet[ServiceRequest]) -> Iterator[bytes]:
    """The export of `queryset`'s public reports as bytes, by the fastest path available."""
    if connection.vendor == "postgresql":
        yield from (pg_csv_chunks if fmt == "csv" else pg_geojson_chunks)(queryset)
        return
    chunks, _ = FORMATS[fmt]
    for piece in chunks(export_rows(queryset)):
        yield piece.encode()


# The nightly dump ------------------------------------------------------------------------


def dump_root() -> Path:
    return Path(getattr(settings, "OPEN_DATA_ROOT", settings.MEDIA_ROOT / "open-data"))


def dump_path(fmt: str) -> Path:
    return dump_root() / f"reports.{fmt}"


@dataclass(frozen=True)
class DumpInfo:
    fmt: str
    size: int
    modified: datetime


def dump_info(fmt: str) -> DumpInfo | None:
    try:
        stat = dump_path(fmt).stat()
    except FileNotFoundError:
        return None
    return DumpInfo(fmt, stat.st_size, datetime.fromtimestamp(stat.st_mtime, tz=UTC))


def dump_write(fmt: str) -> Path:
    """Write every public report to a temporary file beside the dump, then rename it over
    the old one: readers see the old file or the new one, never half a file."""
    chunks = STREAM
    target = dump_path(fmt)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below, renamed on success)
        "wb", dir=target.parent, prefix=f".reports.{fmt}.", delete=False
    )
    try:
        with handle:
            for piece in chunks(fmt, ServiceRequest.objects.all()):
                handle.write(piece)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, 0o644)
        os.replace(handle.name, target)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return target


STREAM = stream  # what dump_write writes with (tests replace it to simulate a failure)
