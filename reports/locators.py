"""Where an Open311 `address_id` is: a registry that other apps fill.

Reports do not know what an address id names (a bus shelter's stop id, an entry of a street
gazetteer); apps that do register a resolver in their AppConfig.ready(). A report that
comes with an `address_id` and no point takes the location of the first resolver that
knows it, and keeps the `address_id`, so the API answers it back.

A resolver may also say which public page the address id is about (`register_address_page`),
so that a report's page can link back to, say, the bus shelter it was filed from."""

from __future__ import annotations

from collections.abc import Callable

Location = tuple[float, float, str]  # latitude, longitude, address text
Resolver = Callable[[str], Location | None]
PageFinder = Callable[[str], tuple[str, str] | None]  # (label, url)

_resolvers: list[Resolver] = []
_page_finders: list[PageFinder] = []


def register_address_resolver(resolver: Resolver) -> None:
    """Add a resolver (idempotent: registering the same function twice keeps one)."""
    if resolver not in _resolvers:
        _resolvers.append(resolver)


def register_address_page(finder: PageFinder) -> None:
    if finder not in _page_finders:
        _page_finders.append(finder)


def resolve_address_id(address_id: str) -> Location | None:
    """(lat, long, address) of `address_id`, or None when no registered resolver knows it."""
    address_id = address_id.strip()
    if not address_id:
        return None
    for resolver in _resolvers:
        found = resolver(address_id)
        if found is not None:
            return found
    return None


def address_page(address_id: str) -> tuple[str, str] | None:
    """(label, url) of the public page about `address_id`, if an app has one."""
    address_id = address_id.strip()
    if not address_id:
        return None
    for finder in _page_finders:
        found = finder(address_id)
        if found is not None:
            return found
    return None


# Free-text addresses ("12 Oak Street"): the same idea, for an Open311 `address_string`
# that comes without a point. A gazetteer registers one.
StringResolver = Callable[[str], Location | None]

_string_resolvers: list[StringResolver] = []


def register_address_string_resolver(resolver: StringResolver) -> None:
    """Add a resolver of address text (idempotent)."""
    if resolver not in _string_resolvers:
        _string_resolvers.append(resolver)


def resolve_address_string(text: str) -> Location | None:
    """(lat, long, address) of the place `text` names, or None when no resolver is sure."""
    text = text.strip()
    if not text:
        return None
    for resolver in _string_resolvers:
        found = resolver(text)
        if found is not None:
            return found
    return None


# The other way round: the address at a point. An Open311 report that comes with a point and
# no address (nor address id) takes the address a registered resolver gives, as the web
# form's pin does, so that crews and the public list read a street. (label, address id)
PointResolver = Callable[[float, float], tuple[str, str] | None]

_point_resolvers: list[PointResolver] = []


def register_point_address_resolver(resolver: PointResolver) -> None:
    """Add a resolver of points (idempotent)."""
    if resolver not in _point_resolvers:
        _point_resolvers.append(resolver)


def address_at(lat: float, long: float) -> tuple[str, str] | None:
    """(address, address id) at the point, or None when no resolver knows one near it."""
    for resolver in _point_resolvers:
        found = resolver(lat, long)
        if found is not None:
            return found
    return None
