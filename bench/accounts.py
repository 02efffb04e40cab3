"""Benchmark: My account (/account/) for a citizen whose reports hide among many.

    python bench/accounts.py                 # SQLite (bench/results/accounts.sqlite3)
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/civic311_bench_accounts \
        python bench/accounts.py --count 200000

DATABASE_URL is ignored: the bench rewrites reporters' addresses, so it only ever uses a
database of its own. Data: `seed_demo` and `generate_reports --count N` on the first run
(reused afterwards); every report gets one of 50,000 reporter addresses, the bench citizen
60 of them (in mixed letter case) and 80 followed reports among 20,000 subscriptions.
Timing: Django's test Client in process, median and 90th percentile of --runs requests
after two warm-ups, with the page's query count; on PostgreSQL also EXPLAIN of the "reports
I made" query, saying whether the expression index is used.
Numbers, not tests: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

from production import PRODUCTION  # bench/, the script's own folder

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CITIZEN = "bench.citizen@example.org"


def setup(url: str) -> None:
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

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.ALLOWED_HOSTS = ["testserver"]


def fill(count: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from reports.models import Service, ServiceRequest, Subscription

    call_command("migrate", verbosity=0)
    if not Service.objects.exists():
        # Its staff logins' passwords are of no use here: not printed.
        call_command("seed_demo", allow_production=True, verbosity=0, stdout=io.StringIO())
    have = ServiceRequest.objects.filter(source="generated").count()
    if have < count:
        print(f"generating {count - have:,} reports …", flush=True)
        call_command("generate_reports", count=count - have, verbosity=0)
    if ServiceRequest.objects.filter(reporter_email__iexact=CITIZEN).count() == 60:
        return
    print("assigning reporter addresses …", flush=True)
    table = ServiceRequest._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET reporter_email = 'person' || (id % 50000) || '@example.org'"  # noqa: S608
        )
    ids = list(ServiceRequest.objects.order_by("?").values_list("pk", flat=True)[:140])
    ServiceRequest.objects.filter(pk__in=ids[:60]).update(
        reporter_email="Bench.Citizen@Example.org"
    )
    Subscription.objects.all().delete()
    others = ServiceRequest.objects.order_by("?").values_list("pk", flat=True)[:20_000]
    Subscription.objects.bulk_create(
        [Subscription(request_id=pk, email=f"person{pk % 50000}@example.org") for pk in others],
        ignore_conflicts=True,
    )
    Subscription.objects.bulk_create(
        [Subscription(request_id=pk, email=CITIZEN) for pk in ids[60:]], ignore_conflicts=True
    )


def citizen():  # type: ignore[no-untyped-def]
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    from accounts.models import Profile

    user = get_user_model().objects.filter(username="bench-citizen").first()
    if user is None:
        user = get_user_model().objects.create_user("bench-citizen", CITIZEN)
        EmailAddress.objects.create(user=user, email=CITIZEN, verified=True, primary=True)
        Profile.objects.create(user=user, display_name="Bench Citizen")
    return user


def measure(runs: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from reports.models import ServiceRequest

    client = Client()
    client.force_login(citizen())
    timings = []
    for run in range(runs + 2):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get("/account/")
            elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.status_code
        if run >= 2:
            timings.append(elapsed)
    rows = response.content.decode().count('class="account-report"')
    total = ServiceRequest.objects.count()
    print(f"reports in database: {total:,}; rows on the page: {rows}; queries: {len(queries)}")
    timings.sort()
    p90 = timings[max(0, int(len(timings) * 0.9) - 1)]
    print(f"GET /account/: median {statistics.median(timings):.1f} ms, p90 {p90:.1f} ms")
    if connection.vendor == "postgresql":
        queryset = ServiceRequest.objects.reported_by([CITIZEN]).order_by("-requested_datetime")
        plan = queryset[:51].explain()
        verdict = "uses" if "sr_reporter_email_lower" in plan else "does NOT use"
        print(f"reports I made {verdict} the index sr_reporter_email_lower:\n{plan}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    options = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    url = os.environ.get("BENCH_DATABASE_URL", "") or f"sqlite:///{RESULTS / 'accounts.sqlite3'}"
    setup(url)
    fill(options.count)
    measure(options.runs)


if __name__ == "__main__":
    main()
