"""The gazetteer's JSON answers, for the report form's script. (Without JavaScript the form
searches through its own submit: see reports.views.ReportCreateView.)"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View

from civic311.geo import in_city_bounds
from civic311.numbers import parse_number
from civic311.ratelimit import rate_limit
from places.search import nearest_address, search

SEARCH_LIMIT = 8


@method_decorator(
    rate_limit("places", setting="RATELIMIT_PLACES", methods=("GET",)), name="dispatch"
)
class SearchView(View):
    def get(self, request: HttpRequest) -> JsonResponse:
        text = request.GET.get("q", "").strip()
        if len(text) < 2:
            return JsonResponse({"results": []})
        return JsonResponse({"results": [p.as_json() for p in search(text, limit=SEARCH_LIMIT)]})


@method_decorator(
    rate_limit("places", setting="RATELIMIT_PLACES", methods=("GET",)), name="dispatch"
)
class ReverseView(View):
    def get(self, request: HttpRequest) -> JsonResponse:
        lat = parse_number(request.GET.get("lat", ""))
        long = parse_number(request.GET.get("long", ""))
        if lat is None or long is None:
            return JsonResponse({"error": "lat and long must be numbers."}, status=400)
        if not in_city_bounds(lat, long):
            return JsonResponse({"place": None})
        place = nearest_address(lat, long)
        return JsonResponse({"place": place.as_json() if place else None})
