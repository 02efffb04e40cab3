"""The project's URLs plus the smallest possible Django JSON view, /bench/minimal.json."""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path


def minimal(request: HttpRequest) -> JsonResponse:
    return JsonResponse([{"ok": True}], safe=False)


urlpatterns = [
    path("bench/minimal.json", minimal),
    path("", include("civic311.urls")),
]
