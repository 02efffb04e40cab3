"""Benchmark: the public pages (home, the list at any page and filter, a report page, the
map's clusters, the neighbourhood pages) over the Django test client, at scale.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/civic311_bench python bench/pages.py

Read-only: it measures whatever reports the database holds (fill it first with
`python manage.py seed_demo && python manage.py generate_reports --count 1000000`).
Without BENCH_DATABASE_URL it uses bench/results/bench.sqlite3. By default the cache is
cleared before every request, so each figure is the database's work (the counts and map
answers the pages keep for a minute are recomputed); --warm keeps the cache.
Numbers, not tests: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from production import PRODUCTION  # bench/, the script's own folder

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def setup() -> None:
    url = os.environ.get("BENCH_DATABASE_URL", "") or f"sqlite:///{RESULTS / 'bench.sqlite3'}"
    os.environ.update(
        {
            "DATABASE_URL": url,
            **PRODUCTION,
            "DJANGO_SETTINGS_MODULE": "civic311.settings",
        }
    )
    sys.path.insert(0, str(ROOT))
    import warnings

    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    # Pages link static files; the bench does not run collectstatic (no manifest needed).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def scenarios() -> list[tuple[str, str]]:
    from django.conf import settings

    from departments.querysets import area_slug, neighbourhoods
    from reports.browse.pages import link
    from reports.models import ServiceRequest

    public = ServiceRequest.objects.public().order_by("-requested_datetime", "-pk")
    first = public.first()
    # Setup only (an OFFSET, once): the report 50,000 places down the list.
    down = public[50_000:50_001].first() or first
    further = public[500_000:500_001].first() or down
    deep = down.pk if down else None
    # The pages' own links, which name the neighbour by id and time.
    newest, deep_before, deep_after, deeper = (
        urlencode(link(side, report)) if report else f"{side}=0"
        for side, report in (("before", first), ("before", down), ("after", down),
                             ("before", further))
    )  # fmt: skip
    area = neighbourhoods().first()
    slug = area_slug(area) if area else "none"
    service = ServiceRequest.objects.values_list("service_id", flat=True).first()
    lat, long = settings.MAP_CENTER
    south, west, north, east = settings.MAP_BOUNDS
    city = f"{south},{west},{north},{east}"
    return [
        ("home", "/"),
        ("list, first page", "/reports/"),
        ("list, page 2 (keyset)", f"/reports/?{newest}"),
        ("list, 50,000 down", f"/reports/?{deep_before}"),
        ("list, 500,000 down", f"/reports/?{deeper}"),
        ("list, newer than 50,000 down", f"/reports/?{deep_after}"),
        ("list, status=open", "/reports/?status=open"),
        ("list, one category", f"/reports/?service={service}"),
        ("list, neighbourhood", f"/reports/?area={slug}"),
        ("list, neighbourhood, open, deep", f"/reports/?area={slug}&status=open&{deep_before}"),
        ("list, text 'pothole'", "/reports/?q=pothole"),
        ("list, text 'rain'", "/reports/?q=rain"),
        ("list, one month", "/reports/?start=2026-06-01&end=2026-06-30"),
        ("list, near centre 500 m", f"/reports/?lat={lat}&long={long}&radius=500"),
        ("list, near centre 2 km, page 5", f"/reports/?lat={lat}&long={long}&radius=2000&page=5"),
        ("report page", f"/reports/{deep}/"),
        ("map, city, zoom 12", f"/reports/map.json?bbox={city}&zoom=12"),
        ("map, city, zoom 14, open", f"/reports/map.json?bbox={city}&zoom=14&status=open"),
        (
            "map, street, zoom 17",
            f"/reports/map.json?bbox={lat - 0.002},{long - 0.003},{lat + 0.002},{long + 0.003}"
            "&zoom=17",
        ),
        (
            "map, neighbourhood, open",
            f"/reports/map.json?bbox={city}&zoom=14&area={slug}&status=open",
        ),
        ("neighbourhoods", "/areas/"),
        ("neighbourhood page", f"/areas/{slug}/"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--warm", action="store_true", help="keep the cache between requests")
    parser.add_argument("--only", help="run the scenarios whose label contains this")
    options = parser.parse_args()
    setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from reports.models import ServiceRequest

    total = ServiceRequest.objects.count()
    kept = "kept" if options.warm else "cleared"
    print(f"{total:,} reports in {connection.vendor}; cache {kept}")
    client = Client()
    print(f"{'scenario':36} {'p50 ms':>8} {'p90 ms':>8} {'queries':>8} {'KB':>6}")
    for label, path in scenarios():
        if options.only and options.only not in label:
            continue
        client.get(path)
        timings = []
        for _ in range(options.runs):
            if not options.warm:
                cache.clear()
            began = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (label, response.status_code)
        if not options.warm:
            cache.clear()
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        timings.sort()
        p90 = timings[min(len(timings) - 1, int(len(timings) * 0.9))]
        print(
            f"{label:36} {statistics.median(timings):8.1f} {p90:8.1f} "
            f"{len(queries.captured_queries):8d} {len(response.content) / 1024:6.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
