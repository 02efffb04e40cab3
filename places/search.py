"""Finding places by name and points by place, in the database.

Street names are matched first: PostgreSQL ranks them with pg_trgm's word similarity
(typos and half-typed words still match; a GIN trigram index keeps it fast); SQLite, for
development, asks that every word typed appears and ranks exact and leading matches first.
A house number is then looked up on those streets by the start of the address text. The
external geocoder, when one is configured, answers only what the city's own data cannot."""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import (
    Case,
    F,
    FloatField,
    Func,
    IntegerField,
    Lookup,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.fields import CharField
from django.db.models.functions import Length

from civic311.geo import bbox_around, distance_metres
from places import geocoder
from places.models import AddressPoint, Street
from places.place import Place
from places.text import normalize, split_number

# Word similarity below this is noise ("oak" and "park" share a trigram).
MIN_SIMILARITY = 0.35


@CharField.register_lookup
class WordSimilar(Lookup):
    """`field__word_similar=text`: pg_trgm's `text <% field`, which the GIN index serves."""

    lookup_name = "word_similar"

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{rhs} <%% {lhs}", (*rhs_params, *lhs_params)


class WordSimilarity(Func):
    function = "word_similarity"
    output_field = FloatField()


def uses_trigrams() -> bool:
    return connection.vendor == "postgresql"


def _ranked(queryset: QuerySet[Any], text: str) -> QuerySet[Any]:
    if uses_trigrams():
        return (
            queryset.filter(search_text__word_similar=text)
            .annotate(rank=WordSimilarity(Value(text), F("search_text")))
            .filter(rank__gte=MIN_SIMILARITY)
            .order_by("-rank", Length("search_text"), "search_text")
        )
    for word in text.split():
        queryset = queryset.filter(search_text__contains=word)
    return queryset.annotate(
        rank=Case(
            When(search_text=text, then=Value(2)),
            When(search_text__startswith=text, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    ).order_by("-rank", Length("search_text"), "search_text")


def matching_streets(street_text: str, *, limit: int) -> list[Street]:
    """Streets whose name matches, best first (a few hundred rows even in a big city)."""
    if not street_text:
        return []
    return list(_ranked(Street.objects.all(), street_text)[:limit])


def addresses_on(streets: list[Street], number: str, *, limit: int) -> list[Place]:
    """The address `number` on each of `streets`, in the streets' order. Found by the
    start of the address text ("12 oak street", units after it), which an index serves."""
    prefixes = [f"{number} {street.search_text}" for street in streets]
    if not prefixes:
        return []
    condition = Q()
    for prefix in prefixes:
        condition |= Q(search_text=prefix) | Q(search_text__startswith=f"{prefix} ")
    points = list(AddressPoint.objects.filter(condition)[: limit * 4])
    rank = {prefix: index for index, prefix in enumerate(prefixes)}

    def order(point: AddressPoint) -> tuple[int, str]:
        street = next((p for p in prefixes if point.search_text.startswith(p)), "")
        return rank.get(street, len(prefixes)), point.search_text

    points.sort(key=order)
    return [Place(p.label, p.lat, p.long, "address", p.source_id) for p in points[:limit]]


def search(text: str, *, limit: int = 8) -> list[Place]:
    """Addresses and streets matching `text`, best first: with a house number typed, that
    number on the streets that match, then the streets; without one, the streets. The
    streets are matched first (there are few), so a search stays fast with hundreds of
    thousands of addresses. The external geocoder is asked only when the city's data has
    nothing."""
    text = text.strip()[:200]
    number, street_text = split_number(normalize(text))
    streets = matching_streets(street_text, limit=limit)
    found = addresses_on(streets, number, limit=limit) if number else []
    found += [Place(s.name, s.lat, s.long, "street") for s in streets]
    if not found and text:
        found = geocoder.external_search(text, limit=limit)
    return found[:limit]


# The few address points nearest a point in its box, by the flat distance (the square of
# the longitude's difference scaled by cos² of the latitude): one statement, written here
# rather than built by the ORM, as an Open311 POST without an address waits for it (the
# ORM's query with model instances took 0.85 ms at the median, this one 0.3).
NEAREST_SQL = (
    f"SELECT source_id, number, street, unit, lat, long FROM {AddressPoint._meta.db_table} "
    "WHERE lat >= %s AND lat <= %s AND long >= %s AND long <= %s "
    "ORDER BY (lat - %s) * (lat - %s) + (long - %s) * (long - %s) * %s LIMIT 8"
)


def nearest_address(
    lat: float, long: float, *, max_metres: float | None = None, external: bool = True
) -> Place | None:
    """The address point nearest to a point, within `max_metres`
    (PLACES_REVERSE_MAX_METRES), else the external geocoder's answer (unless `external`
    is off). The bounding box lets the (lat, long) index read only the neighbourhood; the
    exact distance picks among the nearest few."""
    limit = settings.PLACES_REVERSE_MAX_METRES if max_metres is None else max_metres
    south, west, north, east = bbox_around(lat, long, limit)
    scale = math.cos(math.radians(lat)) ** 2
    with connection.cursor() as cursor:
        cursor.execute(NEAREST_SQL, (south, north, west, east, lat, lat, long, long, scale))
        rows = cursor.fetchall()
    best, best_distance = None, limit
    for row in rows:
        distance = distance_metres(lat, long, row[4], row[5])
        if distance <= best_distance:
            best, best_distance = row, distance
    if best is not None:
        source_id, number, street, unit, point_lat, point_long = best
        label = AddressPoint(number=number, street=street, unit=unit).label
        return Place(label, point_lat, point_long, "address", source_id)
    return geocoder.external_reverse(lat, long) if external else None
