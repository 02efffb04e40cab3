"""Benchmark: the gazetteer at a large city's size: import, search and reverse geocoding.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/civic311_bench \\
        python bench/gazetteer.py --points 300000

Writes a CSV of synthetic address points (the demo city's streets, repeated across a grid
of copies inside the city's bounds, so names repeat like real "Oak Street"s in different
districts), imports it twice with `import_addresses` (the second run is the idempotent
no-op), then times searches and nearest-address lookups. Replaces the database's address
points. Without BENCH_DATABASE_URL it uses bench/results/bench.sqlite3.
Numbers, not tests: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import sys
import time
from pathlib import Path

from production import PRODUCTION  # bench/, the script's own folder

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
QUERIES = ["120 fayetteville st", "fayetteville", "glenwod ave", "12 oak", "saint marys", "poole"]


def setup() -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    url = os.environ.get("BENCH_DATABASE_URL", "") or f"sqlite:///{RESULTS / 'bench.sqlite3'}"
    os.environ["DATABASE_URL"] = url
    os.environ.update(PRODUCTION)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic311.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def write_points(path: Path, count: int) -> int:
    from django.conf import settings

    from places.demo import demo_rows

    base = demo_rows()
    south, west, north, east = settings.MAP_BOUNDS
    centre_lat, centre_long = (south + north) / 2, (west + east) / 2
    copies = -(-count // len(base))
    side = int(copies**0.5) + 1
    step_lat, step_long = (north - south) / (side + 1), (east - west) / (side + 1)
    written = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "number", "street", "postcode", "lat", "long"])
        for copy in range(copies):
            row_shift = (copy // side - side / 2) * step_lat * 0.9
            col_shift = (copy % side - side / 2) * step_long * 0.9
            for row in base:
                if written == count:
                    return written
                lat = float(str(row["lat"])) - 35.7796 + centre_lat + row_shift
                long = float(str(row["long"])) + 78.6385 + centre_long + col_shift
                lat = min(max(lat, south), north)
                long = min(max(long, west), east)
                writer.writerow(
                    [
                        f"B{copy}-{row['id']}",
                        row["number"],
                        row["street"],
                        row["postcode"],
                        round(lat, 6),
                        round(long, 6),
                    ]
                )
                written += 1
    return written


def timed(function, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        function()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    setup()
    from django.conf import settings
    from django.db import connection

    from places.importer import import_addresses
    from places.models import AddressPoint, Street
    from places.search import nearest_address, search

    settings.GEOCODER_URL = ""
    AddressPoint.objects.all().delete()
    Street.objects.all().delete()
    path = RESULTS / "gazetteer.csv"
    written = write_points(path, args.points)
    print(f"database: {connection.vendor}; {written:,} address points in {path.name}")
    for label in ("first import", "second import (unchanged)"):
        began = time.perf_counter()
        result = import_addresses(path)
        seconds = time.perf_counter() - began
        print(
            f"{label}: {seconds:.1f} s, {result.read / seconds:,.0f} rows/s "
            f"({result.created:,} new, {result.unchanged:,} unchanged, {result.streets} streets)"
        )
    for query in QUERIES:
        median, p95 = timed(lambda q=query: search(q), args.runs)
        top = search(query)
        first = top[0].label if top else "(nothing)"
        print(f"search {query!r}: median {median:.1f} ms, p95 {p95:.1f} ms; first: {first}")
    south, west, north, east = settings.MAP_BOUNDS
    rng = random.Random(1)
    points = [(rng.uniform(south, north), rng.uniform(west, east)) for _ in range(args.runs)]
    found = sum(nearest_address(lat, long) is not None for lat, long in points)
    iterator = iter(points * 2)
    median, p95 = timed(lambda: nearest_address(*next(iterator)), args.runs)
    print(
        f"reverse (random points): median {median:.1f} ms, p95 {p95:.1f} ms; "
        f"{found}/{len(points)} within {settings.PLACES_REVERSE_MAX_METRES} m of an address"
    )


if __name__ == "__main__":
    main()
