"""Benchmark: Open311 requests.json at 100,000 reports, next to a minimal Django view.

    python bench/open311.py            # SQLite (bench/results/bench.sqlite3)
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/civic311_bench python bench/open311.py

Runs SQLite always, and PostgreSQL too when BENCH_DATABASE_URL is set (DATABASE_URL is
ignored: the bench deletes reports, so it never falls back to the project's database).
Each database is measured in a child process (settings are read once per process).
Data: `generate_reports` into a dedicated database, reused on the next run when it already
holds exactly --count generated reports. A database holding any report that was not
generated is refused before anything is written to it. Timing: Django's test Client, in process (no
network), median and 90th percentile of --runs runs after two warm-ups. Then EXPLAIN of
every scenario's query, with a verdict on whether an index is used.
Numbers, not tests: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        run(options.count, options.runs)
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    targets = [("SQLite", f"sqlite:///{RESULTS / 'bench.sqlite3'}")]
    pg = os.environ.get("BENCH_DATABASE_URL", "")
    if pg.startswith("postgres"):
        create_database(pg)
        targets.append(("PostgreSQL", pg))
    failed = False
    for label, url in targets:
        print(f"\n=== {label} ===", flush=True)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            # Production-like request handling: no query log, no debug pages.
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-production-use-0123456789",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "ERROR",
        }
        command = [sys.executable, __file__, "--child", "--count", str(options.count)]
        command += ["--runs", str(options.runs)]
        failed |= subprocess.call(command, env=env, cwd=ROOT) != 0
    sys.exit(1 if failed else 0)


def create_database(url: str) -> None:
    """Create the bench database on the PostgreSQL server when it is missing."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    config = dj_database_url.parse(url)
    params = {"host": config["HOST"], "port": config["PORT"] or 5432, "user": config["USER"]}
    if config["PASSWORD"]:
        params["password"] = config["PASSWORD"]
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))


def refuse_unless_bench_database() -> None:
    """Exit with a message when the database holds a report that is not generated: it is
    somebody's real data, and the bench would delete it. Empty databases are fine."""
    from django.db import connection

    from reports.models import ServiceRequest

    if ServiceRequest._meta.db_table not in connection.introspection.table_names():
        return
    foreign = ServiceRequest.objects.exclude(source=ServiceRequest.Source.GENERATED).count()
    if foreign:
        sys.exit(
            f"Refusing to bench database {connection.settings_dict['NAME']!s}: it holds "
            f"{foreign:,} reports that are not generated, and the bench deletes reports. "
            "Point BENCH_DATABASE_URL at a database of its own."
        )


def minimal_urlconf() -> ModuleType:
    """The project's URLs plus the smallest possible Django JSON view, for comparison."""
    from django.http import JsonResponse
    from django.urls import include, path

    def minimal(request: Any) -> JsonResponse:
        return JsonResponse([{"ok": True}], safe=False)

    module = ModuleType("bench_urls")
    module.urlpatterns = [  # type: ignore[attr-defined]
        path("bench/minimal.json", minimal),
        path("", include("civic311.urls")),
    ]
    sys.modules["bench_urls"] = module
    return module


def run(count: int, runs: int) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic311.settings")
    import warnings

    import django

    # The API serves no static files; an uncollected STATIC_ROOT is irrelevant here.
    warnings.filterwarnings("ignore", message="No directory at", module="whitenoise")
    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.utils import timezone

    from reports.api.filters import ServiceRequestFilter
    from reports.api.views import public_requests
    from reports.models import Service, ServiceRequest

    refuse_unless_bench_database()
    call_command("migrate", verbosity=0)
    ensure_catalogue()
    have = ServiceRequest.objects.filter(source="generated").count()
    if have != count or ServiceRequest.objects.count() != count:
        print(f"Generating {count:,} reports (found {have:,})…", flush=True)
        ServiceRequest.objects.all().delete()
        call_command("generate_reports", count=count, seed=311)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        print(f"Reusing {count:,} generated reports.", flush=True)

    service = Service.objects.order_by("pk").first()
    now = timezone.now()
    start, end = now - timedelta(days=200), now - timedelta(days=170)
    south, west, north, east = settings.MAP_BOUNDS
    lat, long = (south + north) / 2, (west + east) / 2
    bbox = f"{long - 0.02},{lat - 0.015},{long + 0.02},{lat + 0.015}"
    scenarios: list[tuple[str, str, dict[str, str] | None]] = [
        ("minimal Django view", "/bench/minimal.json", None),
        ("requests.json (default)", "/open311/v2/requests.json", {}),
        (
            "requests.json service_code",
            "/open311/v2/requests.json",
            {"service_code": service.service_code},
        ),
        (
            "requests.json 30-day range",
            "/open311/v2/requests.json",
            {"start_date": start.isoformat(), "end_date": end.isoformat()},
        ),
        ("requests.json bbox", "/open311/v2/requests.json", {"bbox": bbox}),
        (
            "requests.json updated_after 1 day",
            "/open311/v2/requests.json",
            {"updated_after": (now - timedelta(days=1)).isoformat()},
        ),
        ("requests.json page_size=50", "/open311/v2/requests.json", {"page_size": "50"}),
    ]

    client = Client()
    rows = []
    with override_settings(ROOT_URLCONF=minimal_urlconf().__name__):
        for label, path, params in scenarios:
            query = params or {}
            for _ in range(2):
                client.get(path, query)
            timings = []
            for _ in range(runs):
                began = time.perf_counter()
                response = client.get(path, query)
                timings.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, (label, response.content[:300])
            with CaptureQueriesContext(connection) as queries:
                client.get(path, query)
            results = len(response.json())
            timings.sort()
            p90 = timings[min(len(timings) - 1, int(len(timings) * 0.9))]
            rows.append((label, statistics.median(timings), p90, results, len(queries)))

    print(f"\n{connection.vendor}, {count:,} reports, {runs} runs each (ms)")
    print(f"{'scenario':32} {'median':>8} {'p90':>8} {'results':>8} {'queries':>8}")
    for label, median, p90, results, queries in rows:
        print(f"{label:32} {median:8.1f} {p90:8.1f} {results:8} {queries:8}")

    print("\nQuery plans (the main query of each scenario):")
    all_indexed = True
    for label, _path, params in scenarios:
        if params is None:
            continue
        filterset = ServiceRequestFilter(params, queryset=public_requests(extended=False))
        assert filterset.is_valid(), filterset.errors
        limit = int(params.get("page_size", 1000))
        plan = filterset.qs[:limit].explain()
        indexed = uses_index(connection.vendor, plan)
        all_indexed &= indexed
        print(f"- {label}: {'index used' if indexed else 'NO INDEX (full scan)'}")
        for line in plan.splitlines():
            print(f"    {line}")
    if not all_indexed:
        print("\nSome filter scans the whole table: see the plans above.")


def uses_index(vendor: str, plan: str) -> bool:
    """True when the report table is read through an index, never scanned whole."""
    lines = [line for line in plan.splitlines() if "servicerequest" in line]
    if vendor == "sqlite":
        return bool(lines) and all("USING" in line and "INDEX" in line for line in lines)
    return bool(lines) and not any("Seq Scan" in line for line in lines)


def ensure_catalogue() -> None:
    """A small city catalogue when the bench database has none (seed_demo's is richer)."""
    from django.conf import settings

    from departments.models import Boundary, Department, RoutingRule
    from reports.models import Service

    if Service.objects.exists():
        return
    names = ["Streets", "Parks", "Health", "Water", "Sanitation"]
    departments = [
        Department.objects.create(name=f"{name} Department", slug=name.lower()) for name in names
    ]
    codes = [
        ("pothole", "Pothole", 0, 72),
        ("streetlight", "Streetlight out", 0, 120),
        ("tree-down", "Fallen tree", 1, 24),
        ("graffiti", "Graffiti", 4, 168),
        ("syringe", "Found syringe", 2, 8),
        ("water-meter", "Stolen water meter", 3, 48),
        ("dumping", "Illegal dumping", 4, 96),
        ("sidewalk", "Damaged sidewalk", 0, 336),
    ]
    services = [
        Service.objects.create(
            service_code=code,
            name=name,
            group=names[dept],
            department=departments[dept],
            sla_hours=sla,
        )
        for code, name, dept, sla in codes
    ]
    south, west, north, east = settings.MAP_BOUNDS
    mid_lat, mid_long = (south + north) / 2, (west + east) / 2
    quarters = {
        "North-west": (mid_lat, west, north, mid_long),
        "North-east": (mid_lat, mid_long, north, east),
        "South-west": (south, west, mid_lat, mid_long),
        "South-east": (south, mid_long, mid_lat, east),
    }
    for name, (s, w, n, e) in quarters.items():
        boundary = Boundary(
            name=name,
            kind=Boundary.Kind.DISTRICT,
            geometry={
                "type": "Polygon",
                "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]],
            },
        )
        boundary.full_clean()
        boundary.save()
        if name == "South-east":
            RoutingRule.objects.create(
                service=services[4], boundary=boundary, department=departments[2], priority=10
            )


if __name__ == "__main__":
    main()
