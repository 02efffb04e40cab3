"""Benchmark: importing a city's assets, the adoption map, and the daily reminders, at scale.

    python bench/adoptions.py --assets 20000 --adoptions 2000
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/civic311_bench python bench/adoptions.py

Writes into the database it is given (default: a fresh SQLite file in bench/results/), under
an asset type of its own (`bench-shelter`), which it replaces on every run. Prints numbers;
asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def setup() -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    default = f"sqlite:///{RESULTS / 'adoptions.sqlite3'}"
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", "") or default
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic311.settings")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def csv_bytes(count: int, *, renamed: int = 0, skip: int = 0) -> bytes:
    lines = ["id,name,lat,long,address,routes"]
    for n in range(skip, count):
        name = f"Stop {n}" + (" (moved)" if n < skip + renamed else "")
        lat = 35.71 + (n % 400) * 0.0004
        long = -78.77 + (n // 400) * 0.0008 % 0.26
        lines.append(f"B{n},{name},{lat:.6f},{long:.6f},{n} Main St,{n % 12}")
    return ("\n".join(lines) + "\n").encode()


def timed(label: str, run):  # noqa: ANN001, ANN201
    started = time.perf_counter()
    result = run()
    print(f"{label:<52} {time.perf_counter() - started:8.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assets", type=int, default=20000)
    parser.add_argument("--adoptions", type=int, default=2000)
    options = parser.parse_args()
    setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from adoptions import rules
    from adoptions.importer import read_assets
    from adoptions.models import Adoption, Asset, AssetType, ReminderSent
    from adoptions.services.assets import assets_import
    from adoptions.services.reminders import reminders_send

    n = options.assets
    ReminderSent.objects.filter(adoption__asset__asset_type__slug="bench-shelter").delete()
    Adoption.objects.filter(asset__asset_type__slug="bench-shelter").delete()
    Asset.objects.filter(asset_type__slug="bench-shelter").delete()
    shelters, _ = AssetType.objects.update_or_create(
        slug="bench-shelter", defaults={"name": "Bench shelter", "checklist": ["Swept"]}
    )
    print(f"database: {connection.vendor}; {n} assets, {options.adoptions} adoptions")

    def load(data: bytes):  # noqa: ANN202
        return assets_import(asset_type=shelters, parsed=read_assets(data, fmt="csv"))

    first = timed(f"import {n} new assets (parse + upsert)", lambda: load(csv_bytes(n)))
    print(f"  {first.lines()[0]}")
    again = timed("re-import the same file", lambda: load(csv_bytes(n)))
    print(f"  {again.lines()[0]}")
    changed = timed(
        "re-import: 10% renamed, 5% missing",
        lambda: load(csv_bytes(n, renamed=n // 10, skip=n // 20)),
    )
    print(f"  {changed.lines()[0]}")
    load(csv_bytes(n))  # all back

    User = get_user_model()
    volunteers = [
        User.objects.get_or_create(username=f"bench-volunteer-{v}")[0]
        for v in range(max(1, options.adoptions // 5))
    ]
    assets = list(Asset.objects.filter(asset_type=shelters).order_by("pk")[: options.adoptions])
    now = timezone.now()
    # Adopted 30 to 99 days ago, never visited: due dates (by the rule) spread over the
    # last ten weeks, as the reminders would find them.
    starts = [now - timedelta(days=30 + i % 70) for i in range(len(assets))]
    Adoption.objects.bulk_create(
        Adoption(
            asset=asset,
            volunteer=volunteers[i % len(volunteers)],
            started=starts[i],
            terms_accepted_at=starts[i],
            due_on=rules.next_due(
                started=timezone.localdate(starts[i]), last_cared_on=None, cadence_months=1
            ),
        )
        for i, asset in enumerate(assets)
    )
    client = Client()
    client.get("/adopt/")  # warm up
    with CaptureQueriesContext(connection) as queries:
        response = timed("GET /adopt/ (map data + first list page)", lambda: client.get("/adopt/"))
    print(f"  {len(queries)} queries, {len(response.content) / 1024:.0f} kB")
    timed("GET /adopt/?q=Stop 123 (search)", lambda: client.get("/adopt/", {"q": "Stop 123"}))
    sent = timed("reminders_send (first run)", lambda: reminders_send())
    print(f"  {dict(sent)}")
    again_sent = timed("reminders_send (second run: nothing twice)", lambda: reminders_send())
    print(f"  {dict(again_sent) or 'nothing'}")


if __name__ == "__main__":
    main()
