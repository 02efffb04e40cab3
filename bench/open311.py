"""Benchmark: every page and API answer of the README's table, over real HTTP.

    make bench                                    # SQLite, 100,000 reports
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/civic311_bench make bench
    make bench BENCH_ARGS=--million               # 1,000,000 reports (--count N for others)
    make bench BENCH_ARGS="--runs 3"              # every scenario three times, run by run

The project is served by gunicorn (one sync worker, production settings: DEBUG off,
collected static files) and each scenario is loaded by wrk (one thread, one connection) for
--seconds seconds, in --slices one-second parts spread over the run, a round over every
scenario per part (bench/paired.py); the table gives p50 and p99 (the medians of the parts')
and each p50 as a multiple of a minimal Django JSON view's, measured in the same rounds.
POSTs go through the Open311 API with a key; the photo is processed by a worker in
production, so the bench queues tasks on an in-memory broker that nothing consumes (the
request's own time is what is measured).

SQLite always (bench/results/bench.sqlite3); PostgreSQL too when BENCH_DATABASE_URL is set
(DATABASE_URL is ignored: the bench deletes reports, so it never falls back to the project's
database). Each database is measured in a child process. Data: seed_demo's city without its
reports, then `generate_reports`, reused by the next invocation when the database holds
exactly --count generated reports; a database holding any report that was not generated is
refused before anything is written to it. Numbers, not tests: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from production import PRODUCTION  # bench/, the script's own folder

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--million", action="store_true", help="Same as --count 1000000.")
    parser.add_argument("--seconds", type=float, default=5.0, help="Per scenario.")
    parser.add_argument(
        "--skip-sqlite", action="store_true", help="Only BENCH_DATABASE_URL's PostgreSQL."
    )
    parser.add_argument(
        "--only",
        default="",
        help="Comma-separated parts of scenario names to run (the minimal view always runs).",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="Times every scenario is loaded, all of them once per run (the README: three); "
        "with more than one, a last table gives each p50 run by run.",
    )
    parser.add_argument(
        "--beside",
        default="",
        metavar="URL",
        help="A second PostgreSQL database (with --beside-count reports), served at the same "
        "time as BENCH_DATABASE_URL's: every scenario is loaded on one, then at once on the "
        "other, and a last table gives the ratio of the two from those adjacent loads.",
    )
    parser.add_argument("--beside-count", type=int, default=100_000)
    parser.add_argument(
        "--slices",
        type=int,
        default=5,
        help="Each scenario's --seconds are loaded in this many parts (at least one second "
        "each), a round over every scenario per part (with --beside, the two databases in "
        "turn), and each figure is the median of its parts'; 1: each scenario in one load, "
        "one after the other.",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    count = 1_000_000 if options.million else options.count
    if options.child:
        run(count, options.seconds, options.only, max(options.runs, 1))
        return
    if options.serve:
        import paired

        paired.serve(count, options.seconds, options.only)
        return
    pg = os.environ.get("BENCH_DATABASE_URL", "")
    if options.beside and not (options.beside.startswith("postgres") and pg.startswith("postgres")):
        sys.exit("--beside compares two PostgreSQL databases: set BENCH_DATABASE_URL to one.")
    if options.beside and options.beside.rstrip("/") == pg.rstrip("/"):
        sys.exit("--beside needs a database other than BENCH_DATABASE_URL's (both are filled).")
    RESULTS.mkdir(parents=True, exist_ok=True)
    targets = [] if options.skip_sqlite else [("SQLite", f"sqlite:///{RESULTS / 'bench.sqlite3'}")]
    if pg.startswith("postgres"):
        create_database(pg)
        targets.append(("PostgreSQL", pg))

    def command(reports: int) -> list[str]:
        return [
            sys.executable, __file__, "--count", str(reports), "--only", options.only,
            "--seconds", str(options.seconds), "--runs", str(options.runs),
        ]  # fmt: skip

    failed = False
    for label, url in targets:
        print(f"\n=== {label} ===", flush=True)
        served = [(command(count), child_env(label, url))]
        if label == "PostgreSQL" and options.beside:
            create_database(options.beside)
            served.append((command(options.beside_count), child_env(label, options.beside)))
        if len(served) > 1 or options.slices > 1:
            import paired

            failed |= not paired.compare(served, options.runs, options.seconds, options.slices)
            continue
        child = [*command(count), "--child"]
        failed |= subprocess.call(child, env=child_env(label, url), cwd=ROOT) != 0
    sys.exit(1 if failed else 0)


def child_env(label: str, url: str) -> dict[str, str]:
    """The environment of the process that prepares and serves one database."""
    return {
        **os.environ,
        "DATABASE_URL": url,
        **PRODUCTION,
        # One connection for the whole run: a reconnection would start a database
        # backend after the CPU column's processes were listed.
        "DATABASE_CONN_MAX_AGE": "3600",
        "STATIC_ROOT": str(RESULTS / "static"),
        # Each served database has its own (two are served at once with --beside).
        "MEDIA_ROOT": str(RESULTS / f"media-{label.lower()}-{url.rsplit('/', 1)[-1]}"),
        # Tasks are queued, not run in the request (a worker would run them).
        "CELERY_BROKER_URL": "memory://",
        # One client posting as fast as it can: lift the per-key and per-address limits.
        "RATELIMIT_OPEN311_POST_KEY": "100000000/hour",
        "RATELIMIT_OPEN311_POST_ADDRESS": "100000000/hour",
    }


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


def prepare(count: int, only: str) -> tuple[list[Scenario], str]:
    """In the child: set Django up, fill the database (or reuse it), collect the static
    files; the scenarios that --only keeps, and the PostgreSQL database's name ("" for
    SQLite), whose backends the CPU column counts."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic311.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from reports.models import ServiceRequest

    refuse_unless_bench_database()
    call_command("migrate", verbosity=0)
    ensure_catalogue()
    generated = ServiceRequest.objects.filter(source="generated").count()
    if generated != count or ServiceRequest.objects.count() != count:
        print(f"Generating {count:,} reports (found {generated:,})…", flush=True)
        ServiceRequest.objects.all().delete()
        call_command("generate_reports", count=count, seed=311)
    else:
        print(f"Reusing {count:,} generated reports.", flush=True)
    if connection.vendor == "postgresql":
        # Index-only scans need the visibility map a VACUUM writes.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    call_command("collectstatic", interactive=False, verbosity=0)
    wanted = [part.strip() for part in only.split(",") if part.strip()]
    scenarios = [
        scenario
        for index, scenario in enumerate(build_scenarios())
        if index == 0 or not wanted or any(part in scenario.label for part in wanted)
    ]
    connection.close()
    database = str(connection.settings_dict["NAME"]) if connection.vendor == "postgresql" else ""
    return scenarios, database


def run(count: int, seconds: float, only: str = "", runs: int = 1) -> None:
    """In the child: prepare the database, serve it with gunicorn, load every scenario."""
    scenarios, database = prepare(count, only)
    import httpload
    from django.db import connection

    every: list[list[httpload.Result]] = []
    try:
        with httpload.gunicorn(dict(os.environ)) as (base, master):
            for number in range(1, runs + 1):
                if number > 1:
                    between_runs(base)
                if runs > 1:
                    print(f"Run {number} of {runs}", flush=True)
                results = []
                for scenario in scenarios:
                    results.append(scenario.measure(base, seconds, master, database))
                    print(f"  {results[-1].label}: p50 {results[-1].p50:.2f} ms", flush=True)
                every.append(results)
    finally:
        # The server has stopped, after any request still in flight.
        delete_posted()
    title = f"{connection.vendor}, {count:,} reports"
    for number, results in enumerate(every, 1):
        print_table(f"{title}, run {number} of {runs}" if runs > 1 else title, results)
    if len(every) > 1:
        print_runs(title, every)


class Scenario:
    """One URL to load: its label in the table, headers (a session cookie) and an optional
    wrk Lua script (a POST)."""

    def __init__(
        self,
        label: str,
        path: str,
        headers: dict[str, str] | None = None,
        script: str | None = None,
        seconds: float | None = None,
    ) -> None:
        self.label, self.path, self.script, self.seconds = label, path, script, seconds
        self.headers = headers or {}

    def measure(self, base: str, seconds: float, master: int, database: str) -> Any:
        """Load the scenario; the CPU column counts the server's processes as they are after
        a first request (the worker and the database backend it is connected to)."""
        import urllib.error
        import urllib.request

        import httpload

        # One request first: templates, caches, plans and stored documents warm up (a POST
        # warms up with the minimal view, without filing a report).
        path = self.path if self.script is None else "/bench/minimal.json"
        warm = urllib.request.Request(base + path, headers=self.headers)
        try:
            with urllib.request.urlopen(warm, timeout=120) as answer:
                answer.read()
        except urllib.error.HTTPError:
            pass  # counted by wrk as not 2xx/3xx
        pids = httpload.server_pids(master, database)

        return httpload.wrk(
            self.label,
            base + self.path,
            seconds=self.seconds or seconds,
            headers=self.headers,
            script=self.script,
            pids=pids,
        )


def build_scenarios() -> list[Scenario]:
    """The scenarios of the README's table, with the data they need (an API key, staff
    sessions, a report, a service without required questions)."""
    from urllib.parse import urlencode

    import httpload
    from django.conf import settings
    from django.utils import timezone

    from reports.api.listing import encode_cursor
    from reports.browse.pages import link
    from reports.models import Service, ServiceAttribute, ServiceRequest
    from reports.services.api_keys import api_key_create

    now = timezone.now()
    south, west, north, east = settings.MAP_BOUNDS
    lat, long = (south + north) / 2, (west + east) / 2
    with_questions = ServiceAttribute.objects.filter(required=True).values("service")
    service = Service.objects.active().exclude(pk__in=with_questions).order_by("pk").first()
    busiest = (
        ServiceRequest.objects.filter(requested_datetime__gte=now - timedelta(days=90))
        .values_list("service__service_code", flat=True)
        .first()
    )
    # The report and triage pages show a report of the same category at every scale (the
    # first with questions, whose answers they show), so that 100,000 and 1,000,000 reports
    # are compared on pages of the same shape.
    asked = Service.objects.active().filter(pk__in=with_questions).order_by("pk").first()
    assert asked is not None, "no category with required questions"
    public_list = ServiceRequest.objects.public().order_by("-requested_datetime", "-pk")
    report = (
        ServiceRequest.objects.public()
        .filter(service=asked)
        .order_by("-pk")
        .values_list("pk", flat=True)[500]
    )
    # The public list's page 2,000 (of 25), as its "Older" links reach it: the page after
    # the report 49,999 places down (setup only: an OFFSET, once). Its pages go by
    # neighbour; a `page` number means something near a point only.
    down = public_list[49_999:50_000].first() or public_list.first()
    page_2000 = "/reports/" + (f"?{urlencode(link('before', down))}" if down else "")
    # Page 50 as a client following the Link headers reaches it: after page 49's last row
    # (with fewer reports in the window, after the last one: an empty page).
    page_49_end = list(
        ServiceRequest.objects.public()
        .filter(requested_datetime__gte=now - timedelta(days=90), requested_datetime__lte=now)
        .order_by("-requested_datetime", "-pk")
        .values_list("requested_datetime", "pk")[: 49 * 100]
    )[-1:] or [(now - timedelta(days=90), 0)]
    month = {
        "start_date": (now - timedelta(days=60)).isoformat(),
        "end_date": (now - timedelta(days=30)).isoformat(),
    }
    bbox = f"{long - 0.02},{lat - 0.015},{long + 0.02},{lat + 0.015}"
    radius = {"lat": f"{lat:.5f}", "long": f"{long:.5f}", "radius": "500"}

    def api(fmt: str = "json", **query: str) -> str:
        return f"/open311/v2/requests.{fmt}" + (f"?{urlencode(query)}" if query else "")

    _key, raw_key = api_key_create(name="Bench client")
    assert service is not None, "no category without required questions"
    form = urlencode(
        {
            "service_code": service.service_code,
            "lat": f"{lat:.5f}",
            "long": f"{long:.5f}",
            "description": "A bench report: a pothole in the right lane.",
        }
    )
    post = httpload.post_script(form, "application/x-www-form-urlencoded", {"X-Api-Key": raw_key})
    boundary = "benchboundary7d1f"
    photo_body = multipart(boundary, form, photo_bytes())
    post_photo = httpload.post_script(
        photo_body, f"multipart/form-data; boundary={boundary}", {"X-Api-Key": raw_key}
    )
    agent, superuser = staff_cookie("health"), staff_cookie("admin")
    return [
        Scenario("minimal Django view", "/bench/minimal.json"),
        Scenario("discovery.json", "/open311/discovery.json"),
        Scenario("requests.json, 100 per page", api(page_size="100")),
        Scenario("requests.xml, 100 per page", api("xml", page_size="100")),
        Scenario("requests.json, default 1000", api()),
        Scenario("service_code, 100", api(page_size="100", service_code=busiest or "")),
        Scenario("status=open, 100", api(page_size="100", status="open")),
        Scenario("a 30-day month, 100", api(page_size="100", **month)),
        Scenario("bbox, 100", api(page_size="100", bbox=bbox)),
        Scenario("extensions=true, 100", api(page_size="100", extensions="true")),
        Scenario("page 50 of 100", api(page_size="100", page="50")),
        Scenario("page 50 by cursor", api(page_size="100", cursor=encode_cursor(*page_49_end[0]))),
        # Deep: the hourly counts (reports/api/positions.py) are summed over most of the
        # window at 100,000 reports, which still holds rows there (about 34,000).
        Scenario("page 300 of 100", api(page_size="100", page="300")),
        Scenario("radius 500 m, 100", api(page_size="100", **radius)),
        Scenario("radius 500 m by distance", api(page_size="100", sort="distance", **radius)),
        Scenario("POST a report", "/open311/v2/requests.json", script=post),
        Scenario("POST with a 3 MB photo", "/open311/v2/requests.json", script=post_photo),
        Scenario("home page", "/"),
        Scenario("public list, page 2000", page_2000),
        Scenario("public list, open", "/reports/?status=open"),
        Scenario("a report page", f"/reports/{report}/"),
        Scenario("admin queue, agent", "/admin/reports/servicerequest/", agent),
        Scenario("admin queue, superuser", "/admin/reports/servicerequest/", superuser),
        Scenario("admin queue, page 200", "/admin/reports/servicerequest/?p=200", superuser),
        Scenario("admin search, agent", "/admin/reports/servicerequest/?q=pothole", agent),
        Scenario("admin search, superuser", "/admin/reports/servicerequest/?q=pothole", superuser),
        Scenario("triage page", f"/admin/reports/servicerequest/{report}/change/", superuser),
    ]


def staff_cookie(username: str) -> dict[str, str]:
    """A signed-in session for a seed_demo user, as a Cookie header."""
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore

    user = get_user_model().objects.get(username=username)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}"}


def photo_bytes(size: int = 3_000_000) -> bytes:
    """A JPEG of about `size` bytes (noise compresses badly, so it stays large)."""
    import io

    import numpy as np
    from PIL import Image

    side = 1400
    noise = np.random.default_rng(1).integers(0, 256, (side, side, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(noise).save(out, "JPEG", quality=92)
    data = out.getvalue()
    return data[:size] if len(data) > size * 1.5 else data


def multipart(boundary: str, form: str, photo: bytes) -> bytes:
    from urllib.parse import parse_qsl

    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in parse_qsl(form)
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="media"; filename="bench.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode()
        + photo
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


def print_table(title: str, results: list[Any]) -> None:
    """p50 and p99 of each scenario, each p50 as a multiple of the minimal view's, and the
    CPU time per request of the server (the gunicorn worker plus, on PostgreSQL, its
    database backend): on a shared machine the CPU time is the steadier figure."""
    base = results[0].p50 or 1e-9
    print(f"\n{title} (gunicorn, 1 sync worker; wrk, 1 connection)")
    print(
        f"| {'scenario':32} | {'p50 ms':>8} | {'p99 ms':>8} | {'× minimal':>9} "
        f"| {'CPU ms':>7} | requests |"
    )
    print(f"|{'-' * 34}|{'-' * 9}:|{'-' * 9}:|{'-' * 10}:|{'-' * 8}:|---------:|")
    for result in results:
        flag = f" ({result.bad} not 2xx/3xx)" if result.bad else ""
        print(
            f"| {result.label:32} | {result.p50:8.2f} | {result.p99:8.2f} | "
            f"{result.p50 / base:9.1f} | {result.cpu:7.2f} | {result.requests:8}{flag} |"
        )


def delete_posted() -> None:
    """Delete the reports the POST scenarios made, and their photos: the next run or the next
    invocation finds exactly --count reports again (even after a scenario failed)."""
    from reports.models import ServiceRequest

    ServiceRequest.objects.exclude(source="generated").delete()
    shutil.rmtree(os.environ["MEDIA_ROOT"], ignore_errors=True)


def between_runs(base: str) -> None:
    """The data as at the first run's start: the POSTs' reports deleted and PostgreSQL
    vacuumed. First one request through the server's single sync worker, which answers it
    only after a request still in flight when wrk stopped (a POST's report would otherwise
    be written after the deletion)."""
    import urllib.request

    from django.db import connection

    with urllib.request.urlopen(base + "/bench/minimal.json", timeout=120) as answer:
        answer.read()
    delete_posted()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    connection.close()


def print_runs(title: str, every: list[list[Any]]) -> None:
    """Each scenario's p50 run by run, and as a multiple of the minimal view's in the same
    run, as the README's table gives them ("run 1 / run 2 / run 3")."""
    print(f"\n{title}, p50 ms and × minimal, run by run")
    print(f"| {'scenario':32} | p50 ms | × minimal |")
    print(f"|{'-' * 34}|---:|---:|")
    for index, label in enumerate(result.label for result in every[0]):
        # Three significant figures, as the README's table: 0.35, 2.45, 10.6.
        p50s = [
            f"{r[index].p50:.2f}" if r[index].p50 < 10 else f"{r[index].p50:.1f}" for r in every
        ]
        times = [f"{r[index].p50 / (r[0].p50 or 1e-9):.1f}" for r in every]
        print(f"| {label:32} | {' / '.join(p50s)} | {' / '.join(times)} |")


def ensure_catalogue() -> None:
    """The demo city's departments, areas, categories and staff (seed_demo without its
    reports) when the bench database has no categories yet."""
    import io

    from django.core.management import call_command

    from reports.models import Service, ServiceRequest

    if Service.objects.exists():
        return
    call_command(
        "seed_demo", reports=0, photos=0, allow_production=True, verbosity=0, stdout=io.StringIO()
    )
    ServiceRequest.objects.all().delete()


if __name__ == "__main__":
    main()
