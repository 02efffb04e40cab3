"""PostgreSQL's path for the exports: the database formats every row, Python joins bytes.

Python costs microseconds a row (fetching, converting, formatting); at a million rows that
is most of the export. Here the CSV comes from COPY ... TO STDOUT (FORMAT csv) and each
GeoJSON feature is one text built by concat() and streamed by COPY as one line, so Python
only joins COPY's rows into pieces of about 64 KB.

The bytes are those of the portable writers in exports.py (tested on the same data):

- CSV: an empty text is written like a missing value (an empty field, not `""`), so text
  columns go through NULLIF(x, ''); rows end with a line feed, as COPY ends them.
- GeoJSON: compact JSON. Texts go through to_json(), whose escaping is json's with
  ensure_ascii off (the same characters, \\u00XX in lower case); numbers are PostgreSQL's
  shortest round-trip text (35.78, 35 for 35.0). A feature is built by concatenation rather
  than json_build_object, which looks up the type of each of its 40 arguments on every row
  and spaced its output: three times the database's time for the same answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import connection
from django.db.models import Case, CharField, F, Func, Q, QuerySet, TextField, Value, When
from django.db.models.functions import NullIf

from reports.insights.export_columns import FIELDS, HEADER, REDACTED, Field
from reports.models import ServiceRequest

PIECE = 1 << 16  # bytes per piece of the response, about


class UtcText(Func):
    """A timestamp as 2026-11-25T10:28:23Z (whole seconds, UTC), formatted by PostgreSQL."""

    template = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    output_field = CharField()


class Concat(Func):
    """concat(): one call for all the pieces (Django's Concat nests one call per pair)."""

    function = "concat"
    output_field = TextField()


class JsonString(Func):
    template = "coalesce(to_json(%(expressions)s)::text, 'null')"
    output_field = TextField()


class JsonQuoted(Func):
    """Text that needs no escaping (a formatted time) as a JSON string, or null."""

    template = "coalesce('\"' || %(expressions)s || '\"', 'null')"
    output_field = TextField()


class JsonNumber(Func):
    template = "coalesce((%(expressions)s)::text, 'null')"
    output_field = TextField()


def _value(f: Field) -> Any:
    """The column's value as the portable path reads it (times still timestamps)."""
    if f.name == "description":
        return Case(
            When(description_redacted=True, then=Value(REDACTED)),
            default=F("description"),
            output_field=TextField(),
        )
    return F(f.source)


def csv_columns() -> list[Any]:
    """One SQL expression per column, in order, as COPY's CSV must write it."""
    columns: list[Any] = []
    for f in FIELDS:
        value = _value(f)
        if f.kind == "datetime":
            value = UtcText(value)
        elif f.kind == "string":
            value = NullIf(value, Value(""), output_field=TextField())
        columns.append(value)
    return columns


def feature() -> Concat:
    """A GeoJSON Feature's whole text (RFC 7946: lon, lat order)."""
    point = Concat(
        Value('{"type":"Point","coordinates":['), F("long"), Value(","), F("lat"), Value("]}")
    )
    geometry = Case(
        When(Q(lat__isnull=True) | Q(long__isnull=True), then=Value("null")),
        default=point,
        output_field=TextField(),
    )
    pieces: list[Any] = [
        Value('{"type":"Feature","id":'),
        F("pk"),
        Value(',"geometry":'),
        geometry,
        Value(',"properties":{'),
    ]
    for i, f in enumerate(FIELDS):
        value = _value(f)
        if f.kind == "datetime":
            value = JsonQuoted(UtcText(value))
        elif f.kind == "string":
            value = JsonString(value)
        else:
            value = JsonNumber(value)
        pieces += [Value(("," if i else "") + f'"{f.name}":'), value]
    pieces.append(Value("}}"))
    return Concat(*pieces)


def _copy(queryset: QuerySet[ServiceRequest], options: str, **columns: Any) -> Iterator[bytes]:
    """COPY's output for the public rows of `queryset` with these columns, in id order,
    in pieces of about PIECE bytes, each ending at the end of a row. COPY sends one message
    per row; they are kept as they come (no copy) until the piece is joined."""
    # Annotations only, in this order, so that the SQL's columns are in this order too.
    selected = (
        queryset.public()  # type: ignore[attr-defined]
        .order_by("pk")
        .annotate(**columns)
        .values_list(*columns)
    )
    sql, params = selected.query.sql_with_params()
    pending: list[Any] = []
    size = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: COPY streams row by row
        with raw.copy(f"COPY ({sql}) TO STDOUT ({options})", params) as copy:
            for row in copy:
                pending.append(row)
                size += len(row)
                if size >= PIECE:
                    yield b"".join(pending)
                    pending, size = [], 0
    if pending:
        yield b"".join(pending)


def csv_chunks(queryset: QuerySet[ServiceRequest]) -> Iterator[bytes]:
    yield HEADER
    columns = {f"c{i:02d}": expression for i, expression in enumerate(csv_columns())}
    yield from _copy(queryset, "FORMAT csv", **columns)


# The CSV format with control characters as delimiter and quote writes the JSON untouched:
# JSON escapes every control character (line feeds included), so neither can occur in it,
# and each line feed of COPY's output ends a feature.
_AS_LINES = "FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01'"


def geojson_chunks(queryset: QuerySet[ServiceRequest]) -> Iterator[bytes]:
    """A FeatureCollection, one feature a line, separated by commas."""
    yield b'{"type":"FeatureCollection","features":[\n'
    separator = b""
    for piece in _copy(queryset, _AS_LINES, feature=feature()):
        yield separator + piece[:-1].replace(b"\n", b",\n")
        separator = b",\n"
    yield b"\n]}\n"


WRITERS = {"csv": csv_chunks, "geojson": geojson_chunks}
