"""PostgreSQL's path for the exports: the database formats every row, Python joins bytes.

Python costs microseconds a row (fetching, converting, formatting); at a million rows that
is most of the export. Here the CSV comes from COPY ... TO STDOUT (FORMAT csv) and each
GeoJSON feature is one text built by the database and streamed by COPY as one line, so
Python only joins COPY's rows into pieces of about 64 KB.

The bytes are those of the portable writers in exports.py (tested on the same data):

- CSV: an empty text is written like a missing value (an empty field, not `""`), so text
  columns go through NULLIF(x, ''); rows end with a line feed, as COPY ends them.
- GeoJSON: compact JSON. Texts go through to_json(), whose escaping is json's with
  ensure_ascii off (the same characters, \\u00XX in lower case); numbers are PostgreSQL's
  shortest round-trip text (35.78, 35 for 35.0).

A feature is concatenated text rather than json_build_object, which works out how to write
each of its 40 arguments again on every row (and spaces its output): about half as much
again of the database's time (9.5 against 6.5 CPU seconds a million rows). It is built
over a subquery that reads the rows in id order (OFFSET 0 keeps the planner from merging
the two): given the whole expression, the planner prefers to build the features in
parallel workers and sort them all, and the first byte then waits until the whole export
has been built and sorted on disk.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import connection
from django.db.models import Case, CharField, F, Func, QuerySet, TextField, Value, When
from django.db.models.functions import Cast, NullIf

from civic311.spreadsheets import inert_sql
from reports.insights.export_columns import FIELDS, HEADER, REDACTED, TYPED_TEXTS, Field
from reports.models import ServiceRequest

PIECE = 1 << 16  # bytes per piece of the response, about


class UtcText(Func):
    """A timestamp as 2026-11-25T10:28:23Z (whole seconds, UTC), formatted by PostgreSQL."""

    template = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    output_field = CharField()


class UtcJson(UtcText):
    """The same as a JSON string: "2026-11-25T10:28:23Z" (in to_char, \\" is a quote)."""

    template = 'to_char(%(expressions)s AT TIME ZONE \'UTC\', \'\\"YYYY-MM-DD"T"HH24:MI:SS"Z"\\"\')'


def _value(f: Field) -> Any:
    if f.name == "description":
        return Case(
            When(description_redacted=True, then=Value(REDACTED)),
            default=F("description"),
            output_field=TextField(),
        )
    return F(f.source)


def _rows_sql(queryset: QuerySet[ServiceRequest], for_json: bool) -> tuple[str, Any]:
    """SELECT of the public rows of `queryset` in id order, one column per field (c00,
    c01, ...). For COPY's CSV: times as text, '' as NULL. For JSON: times and coordinates
    as their JSON text (formatted once, though the point uses the coordinates again); the
    id stays a number, which the order is by."""
    columns: dict[str, Any] = {}
    for i, f in enumerate(FIELDS):
        value = _value(f)
        if f.kind == "datetime":
            value = UtcJson(value) if for_json else UtcText(value)
        elif f.kind == "number" and for_json:
            value = Cast(value, TextField())
        elif f.kind == "string" and not for_json:
            if f.name in TYPED_TEXTS:
                # A text a spreadsheet would run as a formula gets its apostrophe.
                value = inert_sql(value)
            value = NullIf(value, Value(""), output_field=TextField())
        columns[f"c{i:02d}"] = value
    # Annotations only, in this order, so that the SQL's columns are in this order too.
    selected = (
        queryset.public()  # type: ignore[attr-defined]
        .order_by("pk")
        .annotate(**columns)
        .values_list(*columns)
    )
    return selected.query.sql_with_params()


def feature_sql(rows: str) -> str:
    """SELECT of each row of the subquery `rows` (_rows_sql for JSON) as a GeoJSON
    Feature's text (RFC 7946: lon, lat order) and a comma, in the subquery's order."""
    names = {f.name: f"r.c{i:02d}" for i, f in enumerate(FIELDS)}
    lat, long, pk = names["lat"], names["long"], names["service_request_id"]
    point = f"""'{{"type":"Point","coordinates":[' || {long} || ',' || {lat} || ']}}'"""
    pieces = [
        f"""'{{"type":"Feature","id":' || {pk}::text""",
        f"""',"geometry":' || CASE WHEN {lat} IS NULL OR {long} IS NULL THEN 'null' """
        f"ELSE {point} END",
        "',\"properties\":{'",
    ]
    for i, f in enumerate(FIELDS):
        key = ("," if i else "") + f'"{f.name}":'
        value = names[f.name]
        if f.kind == "string":
            value = f"to_json({value})::text"
        elif f.kind == "integer":
            value = f"{value}::text"
        pieces.append(f"'{key}' || coalesce({value}, 'null')")
    pieces.append("'}},'")  # each feature followed by a comma, the last one's cut off
    return f"SELECT {' || '.join(pieces)} FROM ({rows} OFFSET 0) AS r ORDER BY {pk}"


def _copy(sql: str, params: Any, options: str) -> Iterator[bytes]:
    """COPY's output of `sql` in pieces of about PIECE bytes, each ending at the end of a
    row. COPY sends one message per row; they are kept as they come (no copy) until the
    piece is joined."""
    pending: list[Any] = []
    size = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: COPY streams row by row
        with raw.copy(f"COPY ({sql}) TO STDOUT ({options})", params) as copy:
            try:
                for row in copy:
                    pending.append(row)
                    size += len(row)
                    if size >= PIECE:
                        yield b"".join(pending)
                        pending, size = [], 0
            except GeneratorExit:
                _stop(raw.connection)
                raise
    if pending:
        yield b"".join(pending)


def _stop(psycopg_connection: Any) -> None:
    """The reader went away (a client that hung up): cancel the COPY, which psycopg would
    otherwise read to its end on the way out, seconds of a worker for a full export. Not
    inside a transaction, which a cancelled statement would leave aborted."""
    if not connection.in_atomic_block:
        psycopg_connection.cancel_safe()


def csv_chunks(queryset: QuerySet[ServiceRequest]) -> Iterator[bytes]:
    yield HEADER
    sql, params = _rows_sql(queryset, for_json=False)
    yield from _copy(sql, params, "FORMAT csv")


# The CSV format with control characters as delimiter and quote writes the JSON untouched:
# JSON escapes every control character (line feeds included), so neither can occur in it,
# and each line feed of COPY's output ends a feature.
_AS_LINES = "FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01'"


def geojson_chunks(queryset: QuerySet[ServiceRequest]) -> Iterator[bytes]:
    """A FeatureCollection, one feature a line. Each comes with its comma: a piece is sent
    as it is, except the last, which loses the last comma."""
    yield b'{"type":"FeatureCollection","features":[\n'
    rows, params = _rows_sql(queryset, for_json=True)
    last: bytes | None = None
    for piece in _copy(feature_sql(rows), params, _AS_LINES):
        if last is not None:
            yield last
        last = piece
    yield (last[:-2] if last is not None else b"") + b"\n]}\n"  # without the last ",\n"


WRITERS = {"csv": csv_chunks, "geojson": geojson_chunks}
