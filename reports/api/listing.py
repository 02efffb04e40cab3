"""Public reports as Open311 documents, read as plain values in a fixed number of queries,
and the order and paging of the list.

Why: building model instances and running a DRF serializer field by field cost most of the
list's time; here one query reads the rows as tuples (service and department joined, the
first public photo as a subquery), and extensions=true adds one query for the photos and
one for the public timelines, whatever the number of rows. The documents have exactly the
fields and formats of the serializers in serializers.py, which stay the schema's
description. They are built for reports whose stored document is missing or out of date
(documents.py), and stored.

Paging: rows are ordered newest first by (requested_datetime, id). `page` N finds the ids
of its rows in the index alone (an index-only scan over (…, requested_datetime, id)
entries, never a heap fetch for the skipped rows), then reads only those rows; every page
after the first of the list narrowed only by its dates starts where the hourly counts put
it instead (positions.py: in the page's own query on PostgreSQL, just before it on
SQLite). `cursor` (the last row's position, given in the Link header of a full page) seeks
straight to the next page.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from django.core.exceptions import EmptyResultSet, ValidationError
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import (
    BooleanField,
    DateTimeField,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.db.models.sql.where import AND, ExtraWhere
from django.utils import timezone

from civic311.dates import from_micros, to_micros
from civic311.geo import bbox_around
from reports.api import circles, positions
from reports.ids import MAX_ID
from reports.models import Photo, RequestUpdate, ServiceRequest
from reports.querysets import ServiceRequestQuerySet

EARTH_RADIUS = circles.EARTH_RADIUS
MAX_RADIUS = 50_000  # metres
REDACTED = "[Description removed by moderator]"
CLOSED_STATES = frozenset(ServiceRequest.CLOSED_STATES)
REPORTS_TABLE = ServiceRequest._meta.db_table

TIMES = {
    "requested_text": "requested_datetime",
    "updated_text": "updated_datetime",
    "expected_text": "expected_datetime",
}
ROW_FIELDS = (
    "pk", "status", "status_notes", "service__name", "service__service_code", "description",
    "description_redacted", "department__name", "requested_text", "updated_text",
    "expected_text", "address", "address_id", "zipcode", "lat", "long", "media_url",
    "first_photo", "attributes", "supporters",
)  # fmt: skip
EXTENDED_ONLY = 2  # the last fields of ROW_FIELDS, read only for extensions=true


def w3c(value: datetime | None, zone: Any) -> str | None:
    """Whole seconds with the site's offset, as serializers.W3CDateTimeField answers."""
    if value is None:
        return None
    text = value.astimezone(zone).replace(microsecond=0).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _utc(raw: str) -> datetime:
    value = datetime.fromisoformat(raw)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def w3c_text(raw: str | None, zone: Any) -> str | None:
    """w3c() of a time the database gave as text (UTC; SQLite's text has no offset)."""
    if raw is None:
        return None
    return w3c(_utc(raw), zone)


# --- positions ------------------------------------------------------------------------------


def encode_cursor(requested: datetime, pk: int) -> str:
    """An opaque position after the row (requested, pk) in the newest-first order: its time
    in whole microseconds since 1970, counted in integers (a position a microsecond short
    would make the next page skip the rows tied with the last one)."""
    micros = to_micros(requested)
    return base64.urlsafe_b64encode(f"{micros}.{pk}".encode()).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        micros, pk = (int(part) for part in raw.split("."))
        if not 0 <= pk <= MAX_ID:  # the databases' ids are 64-bit
            raise ValueError(pk)
        return from_micros(micros), pk
    except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError, OSError) as exc:
        raise ValidationError("not a position this API gave out (follow the Link header).") from exc


def after(queryset: QuerySet[ServiceRequest], position: tuple[datetime, int]) -> QuerySet:
    """The rows after `position` in newest-first order, as one SQL condition: the ORM's
    three filters took longer to build than the database to answer them."""
    sql, params = after_condition(position)
    return with_condition(queryset, sql, params, first=connection.vendor != "postgresql")


def after_condition(position: tuple[datetime, int]) -> tuple[str, tuple[Any, ...]]:
    """after()'s condition, as SQL and its parameters. On SQLite it goes before the
    query's other conditions (see below)."""
    requested, pk = position
    table = ServiceRequest._meta.db_table
    if connection.vendor == "postgresql":
        # A row comparison, which PostgreSQL seeks by its first column.
        return f'("{table}"."requested_datetime", "{table}"."id") < (%s, %s)', (requested, pk)
    # The plain upper bound on the time lets the index seek; the OR only settles ties
    # within one instant.
    column = f'"{table}"."requested_datetime"'
    stamp = connection.ops.adapt_datetimefield_value(requested)  # UTC text, as stored
    # SQLite ends its range over the time index at the first of two upper bounds on the
    # time that it meets, and the window's end came first: from there it stepped over
    # every row before the position (page 300 of 100: 7 ms, not 0.1). This goes first.
    return f'{column} <= %s AND ({column} < %s OR "{table}"."id" < %s)', (stamp, stamp, pk)


def with_condition(
    queryset: QuerySet[ServiceRequest], sql: str, params: tuple[Any, ...], *, first: bool = False
) -> QuerySet:
    """`queryset` narrowed by a condition written in SQL, put in its WHERE as it is (at the
    front when `first`). Not filter(RawSQL(…)): the ORM resolving the expression as a
    lookup, then compiling it, cost 0.08–0.1 ms a request, against 0.01 ms so.

    The SQL names the report table itself: the queryset must not be nested in another as
    an ORM subquery, whose table is renamed (window() puts its inner query in as SQL)."""
    if queryset.query.is_sliced or queryset.query.combinator:  # as filter() refuses them
        raise TypeError("A condition can't be added to a sliced or combined queryset.")
    narrowed = queryset.all()  # a copy: its WHERE is its own
    where = narrowed.query.where
    where.add(ExtraWhere([sql], params), AND)
    if first:
        where.children.insert(0, where.children.pop())
    return narrowed


# --- radius ---------------------------------------------------------------------------------


def around(
    queryset: ServiceRequestQuerySet, lat: float, long: float, radius: float
) -> tuple[ServiceRequestQuerySet, list[int] | None]:
    """Reports within `radius` metres of (lat, long), with their `distance` in metres, and
    the circle's cells when they are read by them (for window()'s `in_cells`).

    The great-circle distance (haversine) is computed only for the reports near the circle:
    on PostgreSQL those of the grid cells that touch it (the sr_public_cell B-tree, with the
    time window; see circles.cells_around), else those of the box that holds it (on SQLite the
    sr_public_point B-tree; on PostgreSQL a circle too large for the cells, most of whose
    reports a walk of the newest finds soon)."""
    box = bbox_around(lat, long, radius)
    cells = circles.circle_cells(lat, long, radius)
    if cells is not None:
        near = queryset.filter(RawSQL(f"{CELL} = ANY(%s)", (cells,), output_field=BooleanField()))
    elif connection.vendor == "sqlite":
        # SQLite's planner prefers the time index of the default 90-day window to the point
        # index, then computes the distance for every report of the window (20 ms at
        # 100,000 reports, against 1 ms): the box as a list of ids makes it start there.
        box_ids = ServiceRequest.objects.filter(hidden=False).in_bbox(*box).values("pk")
        near = queryset.filter(pk__in=box_ids)
    else:
        near = queryset.in_bbox(*box)  # a circle too large for the cells: the box
    distance = RawSQL(*distance_sql(lat, long), output_field=FloatField())
    return near.annotate(distance=distance).filter(distance__lte=radius), cells


def distance_sql(lat: float, long: float) -> tuple[str, tuple[float, ...]]:
    """The great-circle distance (haversine) in metres from (lat, long) to a report's point,
    as SQL and its parameters. As SQL: the same at every level of the page's query, and the
    ORM's expression tree of it cost more to compile (copied at each level) than the search
    itself. The columns are the report table's: no other table of these queries has them."""
    phi, lam = math.radians(lat), math.radians(long)
    return (
        "2 * %s * ASIN(SQRT(POWER(SIN((RADIANS(lat) - %s) / 2), 2)"
        " + %s * COS(RADIANS(lat)) * POWER(SIN((RADIANS(long) - %s) / 2), 2)))",
        (EARTH_RADIUS, phi, math.cos(phi), lam),
    )


def circle_source(
    circle: circles.Circle,
    *,
    by_distance: bool,
    size: int,
    cursor: tuple[datetime, int] | None = None,
) -> tuple[str, list[Any]]:
    """Where the first page of a radius search narrowed by nothing but its window of
    requested times comes from (nearest or newest first; newest first also the page after
    `cursor`), read by the circle's box, as the SQL after a statement's FROM and its
    parameters (documents.read_page selects from it). SQLite's (its times are UTC text):
    PostgreSQL reads the circle's cells (page_source in circles.py).

    It is the statement window() has the ORM build from around()'s queryset, written here
    as SQL: its ids first (the reports of the box, then those of the window in the circle,
    in order, a page of them), then only those rows. Why: building and compiling it cost
    more Python than SQLite took to answer it. At 100,000 reports, a 500 m circle's page
    (Django's test client, the median of 300 requests, two rounds): 3.20–3.31 ms newest
    first and 3.33–3.69 nearest first so, 1.63–1.77 and 1.74–1.85 by this statement; over
    HTTP (the bench) 4.0–4.5 ms against 1.95–2.10."""
    table = f'"{REPORTS_TABLE}"'
    adapt = connection.ops.adapt_datetimefield_value
    times = [adapt(circle.now), adapt(circle.start), adapt(circle.end)]
    south, west, north, east = bbox_around(circle.lat, circle.long, circle.radius)
    distance, distance_params = distance_sql(circle.lat, circle.long)
    conditions = [
        f'NOT {table}."hidden"',
        f'{table}."published_at" <= %s',
        f'{table}."requested_datetime" >= %s',
        f'{table}."requested_datetime" <= %s',
        # The box as a list of ids, so that SQLite starts from the point index (around()).
        f'{table}."id" IN (SELECT b."id" FROM {table} b WHERE NOT b."hidden" '
        'AND b."lat" >= %s AND b."lat" <= %s AND b."long" >= %s AND b."long" <= %s)',
        f"({distance}) <= %s",
    ]
    params = [*times, south, north, west, east, *distance_params, circle.radius]
    if cursor is not None:  # first: see after_condition
        condition, more = after_condition(cursor)
        conditions.insert(0, f"({condition})")
        params[:0] = more
    order = f'{table}."requested_datetime" DESC, {table}."id" DESC'
    order_params: tuple[float, ...] = ()
    if by_distance:
        order, order_params = f"({distance}) ASC, {order}", distance_params
    ids = f'SELECT {table}."id" FROM {table} WHERE {" AND ".join(conditions)} ORDER BY {order}'
    sql = f'{table} WHERE {table}."id" IN ({ids} LIMIT %s) ORDER BY {order}'
    return sql, [*params, *order_params, size, *order_params]


# A report's cell (circles.CELL_OF). Columns run to ±72,000, so two cells half the globe
# apart in longitude can share a number; the distance check keeps only the circle's
# reports, and one city's reports never span such a distance.
CELL = circles.CELL_OF.format(lat="lat", long="long")


# --- reading --------------------------------------------------------------------------------


def window(
    filtered: QuerySet[ServiceRequest],
    *,
    size: int,
    page: int = 1,
    cursor: tuple[datetime, int] | None = None,
    by_distance: bool = False,
    in_circle: bool = False,
    in_cells: bool = False,
    plain: tuple[datetime, datetime, datetime] | None = None,
) -> tuple[QuerySet[ServiceRequest], int, int]:
    """The rows of one page of `filtered` (public reports, filters applied), in order, as a
    queryset and the slice of it to read.

    A page after the first of a list filtered by nothing but its window of requested times
    (`plain`: the window's start and end, and the moment `filtered` is public at) starts
    where the hourly counts put it (positions.py; on SQLite after the row found there).
    Another deep page first finds its ids from an index alone, then reads only those rows;
    so does a radius search (`in_circle`: the points in the circle are scattered over the
    table), unless it reads the circle's cells (`in_cells`, see around()), whose index
    holds all a page reads (the first page of a radius search narrowed by nothing else is
    circles.py's, see documents.read_page)."""
    if by_distance:
        ordered = filtered.order_by(F("distance").asc(), "-requested_datetime", "-pk")
    else:
        newest: tuple[Any, ...] = ("-requested_datetime", "-pk")
        if in_cells:
            # The same order, as an expression no index gives: PostgreSQL, which can't
            # estimate how many reports the distance keeps, would otherwise walk the newest
            # reports of the whole city for the few in the circle (5 ms at a million
            # reports) rather than read the circle's cells and sort them (1 ms).
            same = F("requested_datetime") + Value(timedelta(0))
            newest = (ExpressionWrapper(same, output_field=DateTimeField()).desc(), "-pk")
        ordered = filtered.order_by(*newest)
        if cursor is not None:
            ordered, page = after(ordered, cursor), 1
            if not in_circle:
                return ordered, 0, size
    offset = (page - 1) * size
    if plain is not None and offset and positions.usable():
        start, end, now = plain
        if connection.vendor == "postgresql":
            bound = positions.before_page(start=start, end=end, now=now, offset=offset)
            return with_condition(ordered, *bound), 0, size
        position = positions.find(start=start, end=end, now=now, offset=offset)
        if position is None:
            return ServiceRequest.objects.none(), 0, size
        return after(ordered, position), 0, size
    if offset or (in_circle and not in_cells):
        # The filters are the inner query's: the outer one only reads and orders its rows
        # (repeating them there doubled the planner's work, not the answer). The inner query
        # goes in as its SQL: handing the ORM the queryset made it copy and re-resolve the
        # whole query (0.4 ms a request).
        try:
            ids = ordered.values("pk")[offset : offset + size].query.sql_with_params()
        except EmptyResultSet:  # a filter that can match nothing (no such category)
            return ServiceRequest.objects.none(), 0, size
        outer = ServiceRequest.objects.filter(pk__in=RawSQL(*ids))
        if by_distance:
            outer = outer.annotate(distance=filtered.query.annotations["distance"])
        return outer.order_by(*ordered.query.order_by), 0, size
    return ordered, 0, size


class Narrowing(NamedTuple):
    """Filters plain_source writes in SQL besides the window: categories by id (an empty
    list keeps nothing), statuses, and a box (south, west, north, east) as in_bbox()'s."""

    services: list[int] | None = None
    statuses: list[str] | None = None
    box: tuple[float, float, float, float] | None = None


def plain_source(
    plain: tuple[datetime, datetime, datetime],
    *,
    size: int,
    page: int,
    cursor: tuple[datetime, int] | None = None,
    narrowed: Narrowing | None = None,
) -> tuple[str, list[Any]]:
    """Where a page of the list narrowed by nothing but its window of requested times (and
    perhaps a cursor) comes from (`plain`: the window's start and end, and the moment it is
    public at), as the SQL after a statement's FROM and its parameters (documents.read_page
    selects from it): the conditions window() gives the ORM for it, written here as SQL.

    Why: the most asked list. Building that statement with the ORM (the filterset's
    queryset, the annotations, the compile) cost more Python than the database took to
    answer it. The conditions are public()'s (not hidden, published by `now`) and the
    window's, in the same order; the rows after a cursor are after()'s, and deeper pages by
    number start where positions.py puts them (on SQLite, find() gives the position first,
    and the page is read after it as after a cursor). With a cursor `page` is ignored, as
    in window()."""
    start, end, now = plain
    table = f'"{REPORTS_TABLE}"'
    postgresql = connection.vendor == "postgresql"
    adapt = connection.ops.adapt_datetimefield_value  # SQLite: UTC text, as stored
    conditions = [
        f'NOT {table}."hidden"',
        f'{table}."published_at" <= %s',
        f'{table}."requested_datetime" >= %s',
        f'{table}."requested_datetime" <= %s',
    ]
    params: list[Any] = [now, start, end] if postgresql else [adapt(now), adapt(start), adapt(end)]
    if narrowed is not None:
        _narrow(narrowed, table, conditions, params)
    position, offset = cursor, (page - 1) * size
    if offset and narrowed is not None and cursor is None:
        raise ValueError("A narrowed list's deep pages by number are the ORM's (window()).")
    if cursor is None and offset and postgresql:
        bound, more = positions.before_page(start=start, end=end, now=now, offset=offset)
        conditions.append(bound)
        params += more
    elif cursor is None and offset:
        position = positions.find(start=start, end=end, now=now, offset=offset)
        if position is None:  # past the last row
            conditions.append("0 = 1")
    if position is not None:
        condition, more = after_condition(position)
        if postgresql:
            conditions.append(condition)
            params += more
        else:
            conditions.insert(0, f"({condition})")
            params[:0] = more
    sql = f"{table} WHERE {' AND '.join(conditions)} "
    sql += f'ORDER BY {table}."requested_datetime" DESC, {table}."id" DESC LIMIT %s'
    return sql, [*params, size]


def _narrow(narrowed: Narrowing, table: str, conditions: list[str], params: list[Any]) -> None:
    """The filters' conditions, in the order the filterset adds them (its fields' order)."""
    if narrowed.services is not None:
        if narrowed.services:
            conditions.append(
                f'{table}."service_id" IN ({", ".join(["%s"] * len(narrowed.services))})'
            )
            params += narrowed.services
        else:
            conditions.append("0 = 1")  # no such category
    if narrowed.statuses:
        conditions.append(f'{table}."status" IN ({", ".join(["%s"] * len(narrowed.statuses))})')
        params += narrowed.statuses
    if narrowed.box is not None:
        conditions.append(
            f'{table}."lat" >= %s AND {table}."lat" <= %s '
            f'AND {table}."long" >= %s AND {table}."long" <= %s'
        )
        south, west, north, east = narrowed.box
        params += [south, north, west, east]


def next_cursor(rows: list[tuple[Any, ...]], size: int, *, by_distance: bool) -> str | None:
    """The position after a full page, from its last row's (pk, requested text, …)."""
    if by_distance or len(rows) < size:
        return None
    return encode_cursor(_utc(rows[-1][1]), rows[-1][0])


def rows(queryset: QuerySet[ServiceRequest], extended: bool, *more: str) -> QuerySet:
    """The fields documents() reads (and `more` after them), photos and times included."""
    first_photo = public_photos().filter(request=OuterRef("pk")).order_by("order", "pk")
    fields = ROW_FIELDS if extended else ROW_FIELDS[:-EXTENDED_ONLY]
    # Times come as text: parsing ISO text is several times cheaper than the driver's
    # time-zone-aware conversion, and they are turned into text again anyway.
    as_text = {name: Cast(field, TextField()) for name, field in TIMES.items()}
    return queryset.annotate(
        first_photo=Subquery(first_photo.values("image")[:1]), **as_text
    ).values_list(*fields, *more)


def documents(
    rows: list[tuple[Any, ...]], *, extended: bool, absolute: Any
) -> list[dict[str, Any]]:
    zone = timezone.get_current_timezone()
    url = default_storage.url
    answers: list[dict[str, Any]] = []
    for row in rows:
        photo = row[17]
        answers.append(
            {
                "service_request_id": str(row[0]),
                "status": row[1],
                "status_notes": row[2],
                "service_name": row[3],
                "service_code": row[4],
                "description": REDACTED if row[6] else row[5],
                "agency_responsible": row[7] or "",
                "service_notice": "",
                "requested_datetime": w3c_text(row[8], zone),
                "updated_datetime": w3c_text(row[9], zone),
                "expected_datetime": w3c_text(row[10], zone),
                "address": row[11],
                "address_id": row[12],
                "zipcode": row[13],
                "lat": row[14],
                "long": row[15],
                # The spec's schema: a URI or null, never an empty string.
                "media_url": absolute(url(photo)) if photo else (row[16] or None),
            }
        )
    if extended and answers:
        _extend(answers, [row[18:20] for row in rows], zone=zone, absolute=absolute)
    return answers


def public_photos() -> QuerySet[Photo]:
    """A report's own public photos (a comment's photos are shown with their comment)."""
    return Photo.objects.filter(hidden=False, state=Photo.State.PROCESSED, comment__isnull=True)


def _extend(answers: list[dict[str, Any]], extras: list[Any], *, zone: Any, absolute: Any) -> None:
    """extensions=true: attribute answers, supporters, public timeline notes and photo URLs,
    in two queries for the whole page."""
    ids = [int(answer["service_request_id"]) for answer in answers]
    notes: dict[int, list[dict[str, Any]]] = defaultdict(list)
    timeline = (
        RequestUpdate.objects.filter(request_id__in=ids, public=True)
        .order_by("created", "pk")
        .values_list("request_id", "created", "kind", "state_to", "department_to__name", "text")
    )
    for request_id, created, kind, state_to, department, text in timeline:
        status = ""
        if state_to:
            status = "closed" if state_to in CLOSED_STATES else "open"
        notes[request_id].append(
            {
                "datetime": w3c(created, zone),
                "kind": kind,
                "status": status,
                "state": state_to,
                "department": department or "",
                "text": text,
            }
        )
    photos: dict[int, list[dict[str, str | None]]] = defaultdict(list)
    url = default_storage.url
    found = (
        public_photos()
        .filter(request_id__in=ids)
        .order_by("request", "order", "pk")
        .values_list("request_id", "image", "thumbnail")
    )
    for request_id, image, thumbnail in found:
        photos[request_id].append(
            {
                "url": absolute(url(image)),
                "thumbnail_url": absolute(url(thumbnail)) if thumbnail else None,
            }
        )
    for answer, pk, (given, supporters) in zip(answers, ids, extras, strict=True):
        answer["attributes"] = [
            {"code": code, "values": value if isinstance(value, list) else [value]}
            for code, value in (given or {}).items()
        ]
        answer["supporters"] = supporters
        answer["notes"] = notes.get(pk, [])
        answer["photos"] = photos.get(pk, [])
