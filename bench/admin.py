"""Benchmark: the staff pages of the README's table alone, over real HTTP.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/civic311_bench python bench/admin.py

The same server and load as bench/open311.py (gunicorn with one sync worker and production
settings, wrk with one connection, --seconds per scenario) on a database that bench has
filled already (seed_demo's staff and generated reports): nothing is generated or deleted
here, only the two staff sessions are written. One request per scenario comes before its
measure and before the server's processes are listed, so that the worker's database
backend exists and its CPU time is counted; connections are kept for the whole run
(DATABASE_CONN_MAX_AGE), so that a reconnection never starts a backend nobody counts.
Numbers, not tests: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from production import PRODUCTION  # bench/, the script's own folder

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
QUEUE = "/admin/reports/servicerequest/"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="Per scenario.")
    options = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", "")
    if not url:
        sys.exit("Set BENCH_DATABASE_URL to a database bench/open311.py has filled.")
    os.environ.update(
        {
            "DATABASE_URL": url,
            "DATABASE_CONN_MAX_AGE": "3600",
            **PRODUCTION,
            "STATIC_ROOT": str(RESULTS / "static"),
            "CELERY_BROKER_URL": "memory://",
        }
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic311.settings")
    sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
    import django

    django.setup()
    import httpload
    from django.core.management import call_command
    from django.db import connection
    from open311 import Scenario, print_table, staff_cookie

    from reports.models import ServiceRequest

    call_command("collectstatic", interactive=False, verbosity=0)
    report = ServiceRequest.objects.public().order_by("-pk").values_list("pk", flat=True)[500]
    agent, superuser = staff_cookie("health"), staff_cookie("admin")
    scenarios = [
        Scenario("admin queue, agent", QUEUE, agent),
        Scenario("admin queue, superuser", QUEUE, superuser),
        Scenario("admin queue, page 200", f"{QUEUE}?p=200", superuser),
        Scenario("admin search, agent", f"{QUEUE}?q=pothole", agent),
        Scenario("admin search, superuser", f"{QUEUE}?q=pothole", superuser),
        Scenario("triage page", f"{QUEUE}{report}/change/", superuser),
    ]
    reports = ServiceRequest.objects.count()
    database = str(connection.settings_dict["NAME"])
    connection.close()
    results = []
    with httpload.gunicorn(dict(os.environ)) as (base, master):
        minimal = Scenario("minimal Django view", "/bench/minimal.json")
        results.append(minimal.measure(base, options.seconds, master, database))
        for scenario in scenarios:
            results.append(scenario.measure(base, options.seconds, master, database))
            print(f"  {results[-1].label}: CPU {results[-1].cpu:.1f} ms", flush=True)
    print_table(f"{connection.vendor}, {reports:,} reports", results)


if __name__ == "__main__":
    main()
