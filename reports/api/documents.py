"""Pages of the Open311 list from stored documents (reports.models.Open311Document).

Why: reading a page's stored texts is one indexed lookup per row, where building the
documents meant a photo subquery per row, time-zone arithmetic on three times per row and,
with extensions=true, two more queries; the answer is then the texts joined. A report
without a current document (new, changed since, or built under other settings) is built
here by listing.documents(), once for both formats and both variants, and stored for the
next reader; the database's triggers (reports/document_triggers.py) retire a document when
anything it shows changes, so the version read with the page says whether it still holds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.utils import timezone

from reports.api import circles, listing
from reports.api.renderers import RelativeUrl, Stored, json_fragment, xml_fragment
from reports.models import Open311Document, ServiceRequest

# Raise when the documents' fields or formats change: every stored document is built again.
FORMAT = 1
TEXTS = ("json", "json_extensions", "xml", "xml_extensions")
BASIC_FIELDS = 17  # documents() puts the GeoReport fields first, then the extensions'


def settings_key() -> str:
    """What a stored document depends on besides the report: the format, the site's time
    zone (times carry its offset) and where media files are served from."""
    basis = f"{FORMAT}|{settings.TIME_ZONE}|{default_storage.url('x')}"
    return hashlib.sha256(basis.encode()).hexdigest()[:32]


class Page:
    """One page of the list, in the asked format, and where the next page starts."""

    def __init__(self, answer: Stored, next_cursor: str | None) -> None:
        self.answer = answer
        self.next_cursor = next_cursor


# The databases listing.plain_source writes its statement for (the tests empty it to have
# the ORM read the same pages).
SQL_VENDORS = ("postgresql", "sqlite")


def read_page(
    filtered: Callable[[], QuerySet[ServiceRequest]],
    *,
    size: int,
    page: int = 1,
    cursor: tuple[datetime, int] | None = None,
    by_distance: bool = False,
    in_circle: bool = False,
    in_cells: bool = False,
    plain: tuple[datetime, datetime, datetime] | None = None,
    narrowed: listing.Narrowing | None = None,
    circle: circles.Circle | None = None,
    extended: bool,
    xml: bool,
    origin: str,
) -> Page:
    """The page of the reports `filtered()` gives (public reports, filters applied) as
    stored documents. It is called only when the ORM reads the page.

    The first page of a radius search narrowed by nothing but its window (`circle`), or
    newest first the page after a cursor, is read on PostgreSQL by circles.py from the
    circle's cells (by the ORM when they are too many), on SQLite by listing.circle_source
    from its box. A page of
    the list narrowed by nothing but its window (`plain`; by number or after a cursor) is
    read by listing.plain_source, on SQLite too; so are the first page and the pages after a
    cursor of one also `narrowed` by category, status or box, given only for those (their
    pages by number after the first are the ORM's: positions.py counts every report, not
    those of a filter).

    `origin` is the site's scheme://host, put in front of our own media paths."""
    key = settings_key()
    columns = ("xml", "xml_extensions") if xml else ("json", "json_extensions")
    texts = {name: _stored(name, key) for name in columns[: 1 + extended]}
    first = page == 1 or (cursor is not None and not by_distance)
    by_sql = connection.vendor in SQL_VENDORS
    if circle is not None and first and circle.cells is not None:
        inner = None
        if by_distance:
            inner = circles.cells_around(circle.lat, circle.long, circle.radius / 2)
        source = circles.page_source(
            circle,
            inner=inner,
            by_distance=by_distance,
            size=size,
            cursor=None if by_distance else cursor,
        )
        rows = _select(source, texts)
    elif circle is not None and first and connection.vendor == "sqlite" and by_sql:
        source = listing.circle_source(
            circle, by_distance=by_distance, size=size, cursor=None if by_distance else cursor
        )
        rows = _select(source, texts)
    elif plain is not None and by_sql:
        if narrowed is not None and narrowed.services == []:
            rows = []  # no such category: no report is read
        else:
            source = listing.plain_source(
                plain, size=size, page=page, cursor=cursor, narrowed=narrowed
            )
            rows = _select(source, texts)
    else:
        queryset, start, stop = listing.window(
            filtered(),
            size=size,
            page=page,
            cursor=cursor,
            by_distance=by_distance,
            in_circle=in_circle,
            in_cells=in_cells,
            plain=plain if narrowed is None else None,
        )
        requested = Cast("requested_datetime", TextField())
        rows = list(
            queryset.annotate(requested_text=requested, **texts).values_list(
                "pk", "requested_text", *texts
            )[start:stop]
        )
    missing = {row[0] for row in rows if None in row[2:]}
    built = build(list(missing), key) if missing else {}
    items = []
    for pk, _requested, *stored in rows:
        if pk in built:
            stored = [getattr(built[pk], name) for name in texts]
        elif pk in missing:
            continue  # deleted, hidden or unpublished since the page was read: left out
        items.append(_join(*stored, xml=xml))
    cursor_text = listing.next_cursor(rows, size, by_distance=by_distance)
    return Page(Stored(items, origin), cursor_text)


def _select(source: tuple[str, list[Any]], texts: dict[str, RawSQL]) -> list[tuple[Any, ...]]:
    """Each row's id, requested time as text and stored `texts`, from `source` (the SQL after
    FROM, naming the report table's "id", "requested_datetime" and "doc_version", and its
    parameters): a page read as one statement written as SQL, not compiled by the ORM."""
    reports = ServiceRequest._meta.db_table
    columns = ", ".join(f"({text.sql})" for text in texts.values())
    sql, params = source
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT "{reports}"."id", CAST("{reports}"."requested_datetime" AS text), '
            f"{columns} FROM {sql}",
            [*(value for text in texts.values() for value in text.params), *params],
        )
        return cursor.fetchall()


def _stored(column: str, key: str) -> RawSQL:
    """The report's stored text `column`, if it is current (else NULL). Written as SQL: it
    is the same on every request, and the ORM's Subquery costs more to compile than the
    rest of the query."""
    documents, reports = Open311Document._meta.db_table, ServiceRequest._meta.db_table
    return RawSQL(
        f'SELECT d."{column}" FROM "{documents}" d WHERE d."request_id" = "{reports}"."id" '
        f'AND d."version" = "{reports}"."doc_version" AND d."key" = %s',
        [key],
        output_field=TextField(),
    )


def _join(text: str, extensions: str = "", *, xml: bool) -> str:
    """A report's document, with the extensions' members when they are given."""
    if not extensions:
        return text
    return text + extensions if xml else text[:-1] + extensions + "}"


def build(pks: list[int], key: str) -> dict[int, Open311Document]:
    """The documents of those of these reports that are public now, built now and stored
    for the next readers. A report read with the page but deleted, hidden or taken back
    into its preview since then has none: its content as read now is not for publishing.

    The version stored is the one read with the report's row: a change committed after
    that raised it further, so the document is built again on the next read."""
    queryset = ServiceRequest.objects.public().filter(pk__in=pks)
    rows = list(listing.rows(queryset, True, "doc_version"))
    with timezone.override(settings.TIME_ZONE):  # the zone settings_key() names
        answers = listing.documents(rows, extended=True, absolute=_relative)
    documents = {}
    for row, answer in zip(rows, answers, strict=True):
        items = list(answer.items())
        basic, extra = dict(items[:BASIC_FIELDS]), dict(items[BASIC_FIELDS:])
        documents[row[0]] = Open311Document(
            request_id=row[0],
            version=row[-1],
            key=key,
            json=json_fragment(basic).decode(),
            json_extensions="," + json_fragment(extra).decode()[1:-1],
            xml=xml_fragment(basic),
            xml_extensions=xml_fragment(extra),
        )
    store(list(documents.values()))
    return documents


def store(documents: list[Open311Document]) -> None:
    """Keep the documents, replacing older ones. Storing is only a saving: when it fails
    (the report was deleted meanwhile, say) the answer goes out all the same."""
    try:
        with transaction.atomic():
            Open311Document.objects.bulk_create(
                documents,
                update_conflicts=True,
                unique_fields=["request"],
                update_fields=[*TEXTS, "version", "key"],
            )
    except DatabaseError:
        pass


def _relative(url: str) -> str:
    """Our media paths are stored marked, to be made absolute when sent; a URL that is
    absolute already (media on another host) is stored as it is."""
    return RelativeUrl(url) if url.startswith("/") and not url.startswith("//") else url


def origin_of(request: Any) -> str:
    """scheme://host of the request, as build_absolute_uri() would put before a path."""
    return str(request.build_absolute_uri("/"))[:-1]
