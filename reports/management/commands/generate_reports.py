"""Bulk-create realistic synthetic reports, for benchmarks and for trying the portal at scale.

Why: the list endpoint, the maps and the insights must be measured against a city-sized
history (100,000 reports), and nobody will file those by hand. Rows are written with
bulk_create in batches, each batch in one transaction, with the timeline report_create and
the workflow would have written: CREATED, ROUTED (internal) and, for a report that moved on,
STATE. The fields that go together (status and closed time from the state, target time from
the category, a duplicate's master) come from the same rules as the services
(reports/rules.py); every required question is answered. Routing is Service.route, called
once per (service, set of areas containing the point) instead of once per row.

It needs the service catalogue (`python manage.py seed_demo`) and exits non-zero without it.
Generated reports carry source=generated and no reporter data.
"""

from __future__ import annotations

import random
import time
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import shapely
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction
from django.utils import timezone

from civic311.geo import parse_area
from departments.models import Boundary, Department
from departments.routing import RoutingDecision
from reports import demo, rules
from reports.models import RequestUpdate, Service, ServiceRequest

STREETS = [
    "Main Street", "Oak Avenue", "Hillsborough Street", "Glenwood Avenue", "New Bern Avenue",
    "Capital Boulevard", "Wade Avenue", "Person Street", "Blount Street", "Fayetteville Street",
    "Peace Street", "Lake Boone Trail", "Poole Road", "Six Forks Road", "Western Boulevard",
]  # fmt: skip
PHRASES = [
    "Reported by a neighbour on the way to work.",
    "Has been like this for about a week.",
    "Getting worse after the rain.",
    "Near the bus stop, hard to miss.",
    "Blocking part of the sidewalk.",
    "Second report this month at this spot.",
    "Children walk past here to school.",
    "Seen this morning around 8.",
]
CLOSED_NOTES: dict[str, str] = {
    ServiceRequest.State.FIXED: "Fixed by the crew.",
    ServiceRequest.State.DUPLICATE: "Already reported; merged with an earlier report.",
    ServiceRequest.State.NOT_ACTIONABLE: "Inspected; nothing the city can act on.",
    ServiceRequest.State.REFERRED: "Referred to the utility that owns it.",
}
State = ServiceRequest.State
CLUSTERS = 14
CLUSTER_SHARE = 0.7  # the rest is spread evenly over the city


@dataclass(frozen=True)
class Area:
    pk: int
    size: float
    shape: Any


@dataclass
class Row:
    """One report to write, with the state it ends in and when it got there."""

    report: ServiceRequest
    state: str
    changed: datetime
    routed: str  # the ROUTED timeline text ("" when no department)


class Command(BaseCommand):
    help = "Bulk-create N realistic synthetic reports (source=generated)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, required=True, help="How many reports.")
        parser.add_argument("--days", type=int, default=365, help="Spread over this many days.")
        parser.add_argument("--seed", type=int, default=311, help="Random seed (repeatable).")
        parser.add_argument("--batch", type=int, default=5000, help="Rows per INSERT batch.")
        parser.add_argument("--dry-run", action="store_true", help="Build rows, save nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        count, days, batch = options["count"], options["days"], options["batch"]
        if count < 1 or days < 1 or batch < 1:
            raise CommandError("--count, --days and --batch must be positive.")
        services = list(
            Service.objects.active().order_by("pk").prefetch_related("attributes__values")
        )
        if not services:
            raise CommandError(
                "There are no active services to report against. "
                "Run `python manage.py seed_demo` first."
            )
        started = time.perf_counter()
        generator = Generator(services, days=days, seed=options["seed"])
        masters = Masters()
        made = 0
        while made < count:
            size = min(batch, count - made)
            rows = generator.batch(size)
            if not options["dry_run"]:
                save(rows, masters)
            made += size
            if options["verbosity"] >= 2:
                self.stderr.write(f"{made}/{count}")
        elapsed = time.perf_counter() - started
        verb = "Would create" if options["dry_run"] else "Created"
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"{verb} {count} reports in {elapsed:.1f} s "
                f"({count / elapsed:,.0f}/s; {generator.route_calls} routing decisions)."
            )


class Masters:
    """Reports already written, by category and time, to name as a duplicate's master."""

    def __init__(self) -> None:
        self.by_service: dict[int, list[tuple[datetime, int]]] = defaultdict(list)

    def add(self, reports: list[ServiceRequest]) -> None:
        for report in reports:
            self.by_service[report.service_id].append((report.requested_datetime, report.pk))
        for found in self.by_service.values():
            found.sort()

    def find(self, report: ServiceRequest) -> int | None:
        """The latest report of the same category requested before this one (else the
        earliest after it); None when the category has none yet."""
        found = self.by_service.get(report.service_id)
        if not found:
            return None
        index = bisect_left(found, (report.requested_datetime, 0))
        return found[index - 1][1] if index else found[0][1]


def save(rows: list[Row], masters: Masters) -> None:
    """Write one batch: the reports that are no duplicates first, so that every duplicate
    can name a master that has an id, then the duplicates, then every timeline entry."""
    with transaction.atomic():
        originals = [row for row in rows if row.state != State.DUPLICATE]
        for row in originals:
            rules.apply_state(row.report, row.state, now=row.changed)
        # PostgreSQL and SQLite >= 3.35 return the new primary keys from a bulk insert.
        ServiceRequest.objects.bulk_create([row.report for row in originals])
        masters.add([row.report for row in originals])
        duplicates = []
        for row in rows:
            if row.state != State.DUPLICATE:
                continue
            master = masters.find(row.report)
            if master is None:  # the first report of its category can't duplicate another
                row.state = State.NOT_ACTIONABLE
                row.report.status_notes = CLOSED_NOTES[row.state]
                rules.apply_state(row.report, row.state, now=row.changed)
            else:
                rules.apply_duplicate(row.report, master, now=row.changed)
                row.report.status_notes = rules.duplicate_text(master, CLOSED_NOTES[row.state])
            duplicates.append(row)
        ServiceRequest.objects.bulk_create([row.report for row in duplicates])
        timeline_insert([entry for row in rows for entry in timeline(row)])


def timeline(row: Row) -> list[tuple[Any, ...]]:
    """The row's timeline entries, in TIMELINE_FIELDS order."""
    report = row.report
    requested = report.requested_datetime
    entries: list[tuple[Any, ...]] = [
        (report.pk, RequestUpdate.Kind.CREATED, True, "", "", State.NEW, None, requested)
    ]
    if report.department_id:
        entries.append(
            (report.pk, RequestUpdate.Kind.ROUTED, False, row.routed, "", "",
             report.department_id, requested)
        )  # fmt: skip
    if row.state != State.NEW:
        entries.append(
            (report.pk, RequestUpdate.Kind.STATE, True, report.status_notes, State.NEW,
             row.state, None, row.changed)
        )  # fmt: skip
    return entries


TIMELINE_FIELDS = [
    "request", "kind", "public", "text", "state_from", "state_to", "department_to", "created",
]  # fmt: skip


def timeline_insert(rows: list[tuple[Any, ...]]) -> None:
    """Insert timeline rows (in TIMELINE_FIELDS order) as multi-row INSERTs.

    There are about two per report and nothing needs their ids back, so this skips the
    ORM's per-value compilation, which is most of bulk_create's time at this size."""
    meta = RequestUpdate._meta
    fields = [meta.get_field(name) for name in TIMELINE_FIELDS]
    columns = ", ".join(
        connection.ops.quote_name(str(field.column))
        for field in fields
        if isinstance(field, models.Field)
    )
    quote = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    size = max(1, min(1000, connection.ops.bulk_batch_size(fields, rows)))
    row_marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES "
                + ", ".join([row_marks] * len(chunk)),
                [value for row in chunk for value in (*row[:-1], adapt(row[-1]))],
            )


class Generator:
    def __init__(self, services: list[Service], *, days: int, seed: int) -> None:
        self.services = services
        self.random = random.Random(seed)
        self.numbers = np.random.default_rng(seed)
        self.now = timezone.now()
        self.days = days
        south, west, north, east = settings.MAP_BOUNDS
        self.bounds = (south, west, north, east)
        self.centres = [
            (self.random.uniform(south, north), self.random.uniform(west, east))
            for _ in range(CLUSTERS)
        ]
        # Each cluster is mostly one or two kinds of problem (water meters in one
        # neighbourhood, syringes downtown), which is what hotspot maps should reveal.
        self.cluster_services = [
            self.random.sample(services, min(2, len(services))) for _ in self.centres
        ]
        self.areas = [
            Area(b.pk, shape.area, shape)
            for b in Boundary.objects.all()
            for shape in [parse_area(b.geometry)]
        ]
        for area in self.areas:
            shapely.prepare(area.shape)
        self.decisions: dict[tuple[int, tuple[int, ...]], RoutingDecision] = {}
        self.department_names = dict(Department.objects.values_list("pk", "name"))
        self.route_calls = 0

    def points(self, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(lat, long, cluster index or -1) arrays, clipped to the city's bounds."""
        south, west, north, east = self.bounds
        cluster = self.numbers.integers(0, len(self.centres), size)
        clustered = self.numbers.random(size) < CLUSTER_SHARE
        centres = np.array(self.centres)[cluster]
        spread = self.numbers.normal(0, 0.006, (size, 2))
        lat = np.where(
            clustered, centres[:, 0] + spread[:, 0], self.numbers.uniform(south, north, size)
        )
        long = np.where(
            clustered, centres[:, 1] + spread[:, 1], self.numbers.uniform(west, east, size)
        )
        return (
            np.clip(lat, south, north),
            np.clip(long, west, east),
            np.where(clustered, cluster, -1),
        )

    def containing(self, lat: np.ndarray, long: np.ndarray) -> list[tuple[int, ...]]:
        """For each point, the areas covering it, smallest first (as routing orders them)."""
        inside: list[list[Area]] = [[] for _ in range(len(lat))]
        for area in self.areas:
            for index in np.nonzero(shapely.intersects_xy(area.shape, long, lat))[0]:
                inside[index].append(area)
        return [
            tuple(a.pk for a in sorted(found, key=lambda a: (a.size, a.pk))) for found in inside
        ]

    def decision(
        self, service: Service, areas: tuple[int, ...], lat: float, long: float
    ) -> RoutingDecision:
        key = (service.pk, areas)
        found = self.decisions.get(key)
        if found is None:
            # The decision depends only on the service and the areas around the point, so
            # one real call per combination gives every row the answer route() would.
            found = service.route(lat=lat, long=long)
            self.route_calls += 1
            self.decisions[key] = found
        return found

    def batch(self, size: int) -> list[Row]:
        lat, long, cluster = self.points(size)
        areas = self.containing(lat, long)
        rows = []
        for i in range(size):
            if cluster[i] >= 0:
                service = self.random.choice(self.cluster_services[cluster[i]])
            else:
                service = self.random.choice(self.services)
            point = (round(float(lat[i]), 6), round(float(long[i]), 6))
            decision = self.decision(service, areas[i], *point)
            rows.append(self.row(service, decision, point))
        return rows

    def row(self, service: Service, decision: RoutingDecision, point: tuple[float, float]) -> Row:
        rnd = self.random
        age = timedelta(days=self.days) * (rnd.random() ** 1.3)  # more recent than old
        requested = self.now - age
        state = self.state(age)
        closed = state in rules.CLOSED_STATES
        sla = service.sla_hours or 72
        closed_at = (
            min(requested + timedelta(hours=rnd.expovariate(1 / sla)), self.now) if closed else None
        )
        updated = closed_at or min(requested + timedelta(hours=rnd.uniform(0, 48)), self.now)
        attributes = service.attributes.all()  # prefetched
        report = ServiceRequest(
            service=service,
            description=f"{service.name}. {rnd.choice(PHRASES)}",
            attributes=demo.stored_answers(attributes, demo.sample_answers(attributes, rnd)),
            lat=point[0],
            long=point[1],
            address=f"{rnd.randint(1, 2400)} {rnd.choice(STREETS)}",
            status_notes=CLOSED_NOTES.get(state, ""),
            requested_datetime=requested,
            updated_datetime=updated,
            published_at=requested,
            source=ServiceRequest.Source.GENERATED,
        )
        rules.apply_routing(report, decision)
        routed = ""
        if decision.department_id is not None:
            routed = rules.routed_text(self.department_names[decision.department_id], decision)
        return Row(report, state, updated, routed)

    def state(self, age: timedelta) -> str:
        """Old reports are mostly closed; this week's are mostly still open."""
        closed_share = 0.9 if age > timedelta(days=30) else 0.35 if age > timedelta(days=3) else 0.1
        if self.random.random() < closed_share:
            return self.random.choices(
                [State.FIXED, State.DUPLICATE, State.NOT_ACTIONABLE, State.REFERRED],
                weights=[78, 10, 8, 4],
            )[0]
        return self.random.choices(
            [State.NEW, State.ACKNOWLEDGED, State.IN_PROGRESS], weights=[40, 35, 25]
        )[0]
