from django.conf import settings
from django.http import HttpRequest


def city(request: HttpRequest) -> dict[str, object]:
    """The city's name and map set-up, for every template."""
    return {
        "CITY_NAME": settings.CITY_NAME,
        "MAP_CENTER": settings.MAP_CENTER,
        "MAP_ZOOM": settings.MAP_ZOOM,
        "MAP_BOUNDS": settings.MAP_BOUNDS,
    }
