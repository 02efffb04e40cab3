"""Streamed CSV and GeoJSON exports of public reports, and the nightly full dump.

On PostgreSQL the database formats the rows (export_pg.py); elsewhere (SQLite) the portable
writers below do, from values_list tuples read in chunks. Both give the same bytes (tested),
and both write out in blocks, so memory stays constant however many reports match. Only
the columns named in FIELDS are ever selected: a reporter's contact fields cannot reach an
export.

The format, which both paths keep to:
- CSV: a header, then one line per report ending with a line feed; a field is quoted when it
  holds a comma, a double quote or a line break; a missing value and an empty text are both
  an empty field.
- GeoJSON: a FeatureCollection, one compact feature a line; texts as json writes them with
  ensure_ascii off; numbers as PostgreSQL writes them (shortest round-trip, 35 for 35.0).
- Times: UTC, whole seconds, 2026-11-25T10:28:23Z.
"""

from __future__ import annotations

import csv
import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import django_filters as filters
import orjson
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import CharField, F, Func, QuerySet

from civic311.queue import queue_after_commit
from civic311.spreadsheets import FORMULA_STARTS, inert
from departments.models import Boundary
from reports.api.filters import ServiceRequestFilter
from reports.insights import export_pg
from reports.insights.export_columns import COLUMNS, FIELDS, HEADER, REDACTED, TYPED_TEXTS
from reports.insights.filters import area_condition
from reports.models import ServiceRequest

CHUNK = 5000  # rows per database fetch (portable path)
BLOCK = 2000  # rows per piece of the response (portable path)

_SOURCES = [f.source for f in FIELDS]
_DESCRIPTION = COLUMNS.index("description")
_DATETIMES = [i for i, f in enumerate(FIELDS) if f.kind == "datetime"]
_LAT, _LONG = COLUMNS.index("lat"), COLUMNS.index("long")
_TEXTS = [COLUMNS.index(name) for name in TYPED_TEXTS]
FORMULA_FIRST = "".join(FORMULA_STARTS)


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


def utc_text(value: datetime) -> str:
    """2026-11-25T10:28:23Z. Django hands out times in UTC already, so the usual case is
    one isoformat() (C code) and a slice; anything else is converted first."""
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.isoformat(timespec="seconds")[:19] + "Z"


def number_text(value: float) -> str:
    """A float as PostgreSQL writes it: Python's shortest round-trip repr, without the
    ".0" of a whole number."""
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


class SqliteUtcText(Func):
    """On SQLite, where Django keeps a time as UTC text ("2026-11-25 10:28:23.123456"), the
    export's form of it is cut from that text: parsing it into a datetime and formatting it
    back was most of the portable path's time."""

    template = "replace(substr(%(expressions)s, 1, 19), ' ', 'T') || 'Z'"
    output_field = CharField()


def _selected(queryset: QuerySet[ServiceRequest]) -> QuerySet[Any]:
    """values_list of the columns (and description_redacted), times as text on SQLite."""
    public = queryset.public().order_by("pk")  # type: ignore[attr-defined]
    if connection.vendor != "sqlite":
        return public.values_list(*_SOURCES, "description_redacted")
    times = {f"_t{i}": SqliteUtcText(F(_SOURCES[i])) for i in _DATETIMES}
    names = [f"_t{i}" if i in _DATETIMES else source for i, source in enumerate(_SOURCES)]
    return public.annotate(**times).values_list(*names, "description_redacted")


def export_rows(queryset: QuerySet[ServiceRequest]) -> Iterator[list[Any]]:
    """Public rows, in id order, as lists of values matching COLUMNS, the times and the
    coordinates already as their text (None where missing)."""
    rows = _selected(queryset).iterator(chunk_size=CHUNK)
    datetimes, lat, long = _DATETIMES, _LAT, _LONG
    for row in rows:
        values = list(row)
        if values.pop():
            values[_DESCRIPTION] = REDACTED
        for i in datetimes:
            if isinstance(values[i], datetime):
                values[i] = utc_text(values[i])
        if values[lat] is not None:
            values[lat] = number_text(values[lat])
        if values[long] is not None:
            values[long] = number_text(values[long])
        yield values


class _Lines(list[str]):
    """A csv.writer target that keeps each row without its terminator. The writer's
    default terminator (CR LF) makes it quote a field holding either character, as COPY
    does; the rows are then ended with a line feed alone, as COPY ends them."""

    def write(self, line: str) -> None:
        self.append(line[:-2])


def csv_chunks(rows: Iterable[list[Any]]) -> Iterator[bytes]:
    lines = _Lines([HEADER.decode()[:-1]])
    writer = csv.writer(lines)
    texts = _TEXTS
    for row in rows:
        for i in texts:  # a text a spreadsheet would run as a formula: see spreadsheets.py
            value = row[i]
            if value and value[0] in FORMULA_FIRST:
                row[i] = inert(value)
        writer.writerow(row)
        if len(lines) >= BLOCK:
            lines.append("")
            yield "\n".join(lines).encode()
            lines.clear()
    lines.append("")
    yield "\n".join(lines).encode()


_FEATURE = b'{"type":"Feature","id":%d,"geometry":%b,"properties":%b}'
_POINT = b'{"type":"Point","coordinates":[%b,%b]}'


def geojson_chunks(rows: Iterable[list[Any]]) -> Iterator[bytes]:
    """A FeatureCollection, one feature a line (RFC 7946: lon, lat order). orjson writes
    the properties; the coordinates go in as the text export_rows made of them."""
    yield b'{"type":"FeatureCollection","features":[\n'
    features: list[bytes] = []
    separator = b""
    dumps, fragment, columns = orjson.dumps, orjson.Fragment, COLUMNS
    for row in rows:
        lat, long = row[_LAT], row[_LONG]
        if lat is None or long is None:
            geometry = b"null"
        else:
            geometry = _POINT % (long.encode(), lat.encode())
        if lat is not None:
            row[_LAT] = fragment(lat)
        if long is not None:
            row[_LONG] = fragment(long)
        features.append(_FEATURE % (row[0], geometry, dumps(dict(zip(columns, row, strict=True)))))
        if len(features) >= BLOCK:
            yield separator + b",\n".join(features)
            separator = b",\n"
            features = []
    if features:
        yield separator + b",\n".join(features) + b"\n]}\n"
    else:
        yield b"\n]}\n"


FORMATS = {
    "csv": (csv_chunks, "text/csv; charset=utf-8"),
    "geojson": (geojson_chunks, "application/geo+json"),
}


def stream(fmt: str, queryset: QuerySet[ServiceRequest]) -> Iterator[bytes]:
    """The export of `queryset`'s public reports as bytes, by the fastest path available."""
    # A filter that can match nothing (a service_code naming no category) leaves a
    # queryset with no SQL for COPY; the portable path reads nothing for it.
    if connection.vendor == "postgresql" and not queryset.query.is_empty():
        yield from export_pg.WRITERS[fmt](queryset)
        return
    chunks, _ = FORMATS[fmt]
    yield from chunks(export_rows(queryset))


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


def dump_write(fmt: str) -> Path | None:
    """Write every public report to a temporary file beside the dump, then rename it over
    the old one: readers see the old file or the new one, never half a file. None when the
    dumps were taken down while it was written (its rows may hold what was taken down: the
    write queued by the takedown makes the next one)."""
    chunks = STREAM
    target = dump_path(fmt)
    target.parent.mkdir(parents=True, exist_ok=True)
    mark = _takedown_mark()
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below, renamed on success)
        "wb", dir=target.parent, prefix=f".reports.{fmt}.", delete=False
    )
    try:
        with handle:
            for piece in chunks(fmt, ServiceRequest.objects.all()):
                handle.write(piece)
            handle.flush()
            os.fsync(handle.fileno())
        if _takedown_mark() != mark:
            Path(handle.name).unlink()
            return None
        os.chmod(handle.name, 0o644)
        os.replace(handle.name, target)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    if _takedown_mark() != mark:  # taken down between the check and the rename
        target.unlink(missing_ok=True)
        return None
    return target


# Written anew by every takedown: a dump begun before it is not put in place.
TAKEDOWN_MARK = ".taken-down"


def _takedown_mark() -> str:
    try:
        return (dump_root() / TAKEDOWN_MARK).read_text()
    except FileNotFoundError:
        return ""


def dumps_retract() -> None:
    """Take the dumps down: /data/dumps/ sends readers to the live export until they are
    written again, and a dump being written now is not put in place."""
    root = dump_root()
    root.mkdir(parents=True, exist_ok=True)
    fresh = root / f"{TAKEDOWN_MARK}.{uuid.uuid4().hex}"
    fresh.write_text(uuid.uuid4().hex)
    os.replace(fresh, root / TAKEDOWN_MARK)
    for fmt in FORMATS:
        dump_path(fmt).unlink(missing_ok=True)


def dumps_retract_on_commit() -> None:
    """Once the current transaction commits, take the dumps down and queue writing them
    again: they hold what a moderator has just hidden or redacted, and would serve it until
    the night's run. Taken down in the request, so that no broker is needed for it."""
    from reports.insights.tasks import open_data_dump  # the tasks module imports this one

    transaction.on_commit(dumps_retract, robust=True)
    queue_after_commit(open_data_dump)


STREAM = stream  # what dump_write writes with (tests replace it to simulate a failure)
