"""The gazetteer's answers to reports' locators: where an Open311 `address_id` or
`address_string` is."""

from __future__ import annotations

from places import geocoder
from places.models import AddressPoint
from places.search import nearest_address
from places.text import first_part, normalize

Location = tuple[float, float, str]


def locate_address_id(address_id: str) -> Location | None:
    point = AddressPoint.objects.filter(source_id=address_id).first()
    return None if point is None else (point.lat, point.long, point.label)


def locate_address_text(text: str) -> Location | None:
    """Only a sure answer: an address point whose text is exactly the address given
    (abbreviations and case aside), else the external geocoder's first answer. A report
    is better left without a point than put on the wrong street."""
    wanted = normalize(first_part(text))
    if not wanted:
        return None
    matches = list(AddressPoint.objects.filter(search_text=wanted)[:2])
    if len(matches) == 1:
        point = matches[0]
        return point.lat, point.long, point.label
    if matches:
        return None
    found = geocoder.external_search(text, limit=1)
    return (found[0].lat, found[0].long, found[0].label) if found else None


def locate_point(lat: float, long: float) -> tuple[str, str] | None:
    """The city's own address nearest to a point (within PLACES_REVERSE_MAX_METRES), as
    (label, address id). Not the external geocoder: this is asked while an app's POST waits,
    and must not hang on another site."""
    place = nearest_address(lat, long, external=False)
    return None if place is None else (place.label, place.address_id)
