"""Benchmark: the insights dashboard, the hotspot answer and full exports, at scale.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/civic311_bench python bench/insights.py

Read-only: it measures whatever reports the database holds (fill it first with
`python manage.py seed_demo && python manage.py generate_reports --count 1000000`, or with
bench/open311.py). Without BENCH_DATABASE_URL it uses bench/results/bench.sqlite3.
The figure cache is off (INSIGHTS_CACHE_SECONDS=0), so every run computes from the database.
Each export runs in a child process of its own and reports that process's peak RSS (the
whole Django process, not only the export), rows per second, bytes, and the CPU time of
the process and (PostgreSQL on this machine) of its database backend: on a shared machine
the CPU times are the steadier figures (the backend only: a parallel plan's workers are not
counted; the exports' plans use none). The pages' CPU column adds the same two per request.
The staff dashboard is read as the first active superuser.
Numbers, not tests: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from production import PRODUCTION  # bench/, the script's own folder

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def environment() -> dict[str, str]:
    url = os.environ.get("BENCH_DATABASE_URL", "") or f"sqlite:///{RESULTS / 'bench.sqlite3'}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        **PRODUCTION,
        "INSIGHTS_CACHE_SECONDS": "0",
    }


def setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic311.settings")
    import warnings

    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    from django.conf import settings

    # Pages link static files; the bench does not run collectstatic (no manifest needed).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def backend_pid() -> int | None:
    """The PostgreSQL backend serving this process's connection (None on SQLite)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def export_child(fmt: str) -> None:
    """Stream one full export through the view and print a JSON line of numbers."""
    setup()
    sys.path.insert(0, str(ROOT / "bench"))
    from django.test import Client
    from httpload import cpu_seconds

    client = Client()
    client.get("/data/reports.csv?service_request_id=1")  # warm imports and connections
    before = peak_rss_mb()
    backend = backend_pid()
    db_cpu_began = cpu_seconds([backend]) if backend else 0.0
    cpu_began = time.process_time()
    began = time.perf_counter()
    response = client.get(f"/data/reports.{fmt}")
    size = rows = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        rows += chunk.count(b"\n")
    seconds = time.perf_counter() - began
    cpu = time.process_time() - cpu_began
    # The same backend afterwards (persistent connection), or its CPU is unknown.
    db_cpu = cpu_seconds([backend]) - db_cpu_began if backend and backend == backend_pid() else None
    rows -= 1 if fmt == "csv" else 2  # the header / the collection's first and last lines
    print(
        json.dumps(
            {
                "fmt": fmt,
                "rows": rows,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "db_cpu_seconds": db_cpu,
                "bytes": size,
                "rss_before_mb": before,
                "rss_peak_mb": peak_rss_mb(),
            }
        )
    )


def backend_cpu_seconds() -> float:
    """CPU time of this connection's PostgreSQL backend so far (0 on SQLite)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from httpload import cpu_seconds

    backend = backend_pid()
    return cpu_seconds([backend]) if backend else 0.0


def pages(runs: int) -> None:
    setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from departments.models import Boundary, Department
    from reports.models import Service, ServiceRequest

    total = ServiceRequest.objects.count()
    print(f"{total:,} reports in {connection.vendor}", flush=True)
    busiest = (
        Service.objects.order_by("-pk").first()
        if not total
        else Service.objects.filter(
            pk=ServiceRequest.objects.values("service_id")
            .order_by("service_id")
            .first()["service_id"]
        ).first()
    )
    code = busiest.service_code if busiest else ""
    department = Department.objects.order_by("pk").values_list("slug", flat=True).first()
    areas = {
        kind: Boundary.objects.filter(kind=kind).order_by("pk").values_list("pk", flat=True).first()
        for kind in ("neighbourhood", "district")
    }
    scenarios = [
        ("dashboard, last 12 months", "/insights/"),
        ("dashboard, last 30 days", "/insights/?period=30"),
        ("dashboard, 90 days, one category", f"/insights/?period=90&service={code}"),
        ("dashboard, 12 months, one department", f"/insights/?department={department}"),
        ("dashboard, 12 months, a neighbourhood", f"/insights/?area={areas['neighbourhood']}"),
        ("dashboard, 12 months, a district", f"/insights/?area={areas['district']}"),
        ("hotspot map, last 12 months", "/insights/map/"),
        ("hotspot map, 90 days, one category", f"/insights/map/?period=90&service={code}"),
        ("staff dashboard, last 12 months", "/admin/insights/"),
        ("data.json", "/data.json"),
    ]
    client = Client()
    staff = get_user_model().objects.filter(is_superuser=True, is_active=True).first()
    if staff is not None:
        client.force_login(staff)
    else:
        scenarios = [s for s in scenarios if not s[1].startswith("/admin/")]
    print(f"{'scenario':42} {'median ms':>10} {'p90 ms':>8} {'CPU ms':>7} {'queries':>8} {'KB':>7}")
    for label, path in scenarios:
        client.get(path)
        timings, cpu = [], []
        for _ in range(runs):
            began, cpu_began = time.perf_counter(), time.process_time() + backend_cpu_seconds()
            response = client.get(path)
            timings.append((time.perf_counter() - began) * 1000)
            cpu.append((time.process_time() + backend_cpu_seconds() - cpu_began) * 1000)
        assert response.status_code == 200, (label, response.status_code)
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        timings.sort()
        p90 = timings[min(len(timings) - 1, int(len(timings) * 0.9))]
        print(
            f"{label:42} {statistics.median(timings):10.0f} {p90:8.0f} "
            f"{statistics.median(cpu):7.0f} "
            f"{len(queries.captured_queries):8d} {len(response.content) / 1024:7.0f}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--export", choices=["csv", "geojson"], help=argparse.SUPPRESS)
    parser.add_argument("--pages", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--skip-exports", action="store_true")
    parser.add_argument("--only-exports", action="store_true")
    options = parser.parse_args()
    if options.export:
        export_child(options.export)
        return
    if options.pages:
        pages(options.runs)
        return
    env = environment()
    me = [sys.executable, __file__]
    if not options.only_exports:
        subprocess.check_call([*me, "--pages", "--runs", str(options.runs)], env=env, cwd=ROOT)
    if options.skip_exports:
        return
    print(
        f"\n{'export':8} {'rows':>10} {'seconds':>8} {'rows/s':>9} {'rows/CPU-s':>11} "
        f"{'DB CPU-s':>9} {'MB out':>7} {'RSS MB':>7}"
    )
    for fmt in ("csv", "geojson"):
        out = subprocess.check_output([*me, "--export", fmt], env=env, cwd=ROOT, text=True)
        r = json.loads(out.strip().splitlines()[-1])
        db_cpu = "-" if r["db_cpu_seconds"] is None else f"{r['db_cpu_seconds']:.1f}"
        print(
            f"{fmt:8} {r['rows']:10,} {r['seconds']:8.1f} {r['rows'] / r['seconds']:9,.0f} "
            f"{r['rows'] / r['cpu_seconds']:11,.0f} {db_cpu:>9} {r['bytes'] / 2**20:7.0f} "
            f"{r['rss_peak_mb']:7.0f} "
            f"(peak; {r['rss_before_mb']:.0f} before the export)",
            flush=True,
        )


if __name__ == "__main__":
    main()
