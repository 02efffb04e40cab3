"""Bulk-create realistic synthetic reports, for benchmarks and for trying the portal at scale.

Why: the list endpoint, the maps and the insights must be measured against a city-sized
history (a million reports), and nobody will file those by hand. Reports are generated in
the order they were made (so ids grow with time, as real ones do) and written in batches,
each in one transaction, through reports/bulk.py (COPY on PostgreSQL), with the timeline
report_create and the workflow would have written: CREATED, ROUTED (internal) and, for a
report that moved on, STATE. The fields that go together (status and closed time from the
state, target time from the category, a duplicate's master) come from the same rules as
the services (reports/rules.py); every required question is answered. Routing is
Service.route, called once per (service, set of areas containing the point) instead of
once per row. Random draws are made for a whole batch at once with numpy.

It needs the service catalogue (`python manage.py seed_demo`) and exits non-zero without it.
Generated reports carry source=generated and no reporter data.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import shapely
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from civic311.geo import parse_area
from departments.models import Boundary, Department
from reports import demo, rules
from reports.bulk import Table, analyze, loading, reserve_ids
from reports.insights import rollups
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
State = ServiceRequest.State
CLOSED_NOTES: dict[str, str] = {
    State.FIXED: "Fixed by the crew.",
    State.DUPLICATE: "Already reported; merged with an earlier report.",
    State.NOT_ACTIONABLE: "Inspected; nothing the city can act on.",
    State.REFERRED: "Referred to the utility that owns it.",
}
OPEN_CHOICES = ([State.NEW, State.ACKNOWLEDGED, State.IN_PROGRESS], [40, 35, 25])
CLOSED_CHOICES = (
    [State.FIXED, State.DUPLICATE, State.NOT_ACTIONABLE, State.REFERRED],
    [78, 10, 8, 4],
)
CLUSTERS = 14
CLUSTER_SHARE = 0.7  # the rest is spread evenly over the city
ANSWER_SETS = 32  # distinct answer sets drawn per category, reused across its rows
DAY = 86400.0

REPORT_FIELDS = [
    "id", "service_id", "description", "attributes", "lat", "long", "address", "status",
    "state", "status_notes", "department_id", "area_id", "duplicate_of_id",
    "requested_datetime", "updated_datetime", "expected_datetime", "closed_datetime", "source",
    "published_at",
]  # fmt: skip
TIMELINE_FIELDS = [
    "request_id", "kind", "public", "text", "state_from", "state_to", "department_to_id",
    "created",
]  # fmt: skip


@dataclass(frozen=True)
class Area:
    pk: int
    size: float
    shape: Any


@dataclass(frozen=True)
class Routed:
    """What routing decided for a (service, areas) pair, and the timeline text saying so."""

    department_id: int | None
    area_id: int | None
    text: str


class Command(BaseCommand):
    help = "Bulk-create N realistic synthetic reports (source=generated)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, required=True, help="How many reports.")
        parser.add_argument("--days", type=int, default=365, help="Spread over this many days.")
        parser.add_argument("--seed", type=int, default=311, help="Random seed (repeatable).")
        parser.add_argument("--batch", type=int, default=20000, help="Rows per batch.")
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
        generator = Generator(services, days=days, seed=options["seed"], count=count)
        if options["dry_run"]:
            made = 0
            while made < count:
                size = min(batch, count - made)
                generator.batch(made, list(range(made + 1, made + size + 1)))
                made += size
        else:
            self.write(generator, count=count, batch=batch, verbosity=options["verbosity"])
        elapsed = time.perf_counter() - started
        verb = "Would create" if options["dry_run"] else "Created"
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"{verb} {count} reports in {elapsed:.1f} s "
                f"({count / elapsed:,.0f}/s; {generator.route_calls} routing decisions)."
            )

    def write(self, generator: Generator, *, count: int, batch: int, verbosity: int) -> None:
        """Everything in one transaction: a failure leaves the database as it was."""
        reports = Table(ServiceRequest, REPORT_FIELDS)
        timeline = Table(RequestUpdate, TIMELINE_FIELDS)
        with transaction.atomic():
            with loading(ServiceRequest, RequestUpdate):
                made = 0
                while made < count:
                    size = min(batch, count - made)
                    rows, entries = generator.batch(made, reserve_ids(ServiceRequest, size))
                    reports.write(rows)
                    timeline.write(entries)
                    made += size
                    if verbosity >= 2:
                        self.stderr.write(f"{made}/{count}")
            # loading() switched the reports' triggers off, those that keep the insights
            # summaries too: count them again (seconds for a million reports).
            rollups.rebuild()
        analyze(ServiceRequest, RequestUpdate)


class Generator:
    """Draws reports oldest first; each batch continues where the last one stopped."""

    def __init__(self, services: list[Service], *, days: int, seed: int, count: int) -> None:
        self.services = services
        self.random = random.Random(seed)
        self.numbers = np.random.default_rng(seed)
        self.now = timezone.now()
        self.days = days
        south, west, north, east = settings.MAP_BOUNDS
        self.bounds = (south, west, north, east)
        self.centres = np.array(
            [
                (self.random.uniform(south, north), self.random.uniform(west, east))
                for _ in range(CLUSTERS)
            ]
        )
        # Each cluster is mostly one or two kinds of problem (water meters in one
        # neighbourhood, syringes downtown), which is what hotspot maps should reveal.
        self.cluster_services = np.array(
            [
                [self.random.randrange(len(services)) for _ in range(2)]
                if len(services) > 1
                else [0, 0]
                for _ in range(CLUSTERS)
            ]
        )
        self.sla = np.array([s.sla_hours or 72 for s in services], dtype=float)
        self.answers = [self.answer_sets(service) for service in services]
        self.areas = [
            Area(b.pk, shape.area, shape)
            for b in Boundary.objects.all()
            for shape in [parse_area(b.geometry)]
        ]
        for area in self.areas:
            shapely.prepare(area.shape)
        self.routed: dict[tuple[int, tuple[int, ...]], Routed] = {}
        self.department_names = dict(Department.objects.values_list("pk", "name"))
        self.route_calls = 0
        # Ages of every report to make, oldest first: more recent than old.
        ages = days * DAY * (self.numbers.random(count) ** 1.3)
        self.ages = np.sort(ages)[::-1]
        # The latest report of each category that is not a duplicate: a duplicate's master.
        self.masters: dict[int, int] = {}

    def answer_sets(self, service: Service) -> list[str]:
        """A few answer sets (JSON) for the category, each answering every required
        question, as report_create stores them."""
        attributes = service.attributes.all()  # prefetched
        return [
            json.dumps(
                demo.stored_answers(attributes, demo.sample_answers(attributes, self.random))
            )
            for _ in range(ANSWER_SETS)
        ]

    def points(self, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(lat, long, cluster index or -1) arrays, clipped to the city's bounds."""
        south, west, north, east = self.bounds
        cluster = self.numbers.integers(0, len(self.centres), size)
        clustered = self.numbers.random(size) < CLUSTER_SHARE
        centres = self.centres[cluster]
        spread = self.numbers.normal(0, 0.006, (size, 2))
        lat = np.where(
            clustered, centres[:, 0] + spread[:, 0], self.numbers.uniform(south, north, size)
        )
        long = np.where(
            clustered, centres[:, 1] + spread[:, 1], self.numbers.uniform(west, east, size)
        )
        return (
            np.round(np.clip(lat, south, north), 6),
            np.round(np.clip(long, west, east), 6),
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

    def route(self, service_index: int, areas: tuple[int, ...], lat: float, long: float) -> Routed:
        key = (service_index, areas)
        found = self.routed.get(key)
        if found is None:
            # The decision depends only on the service and the areas around the point, so
            # one real call per combination gives every row the answer route() would.
            decision = self.services[service_index].route(lat=lat, long=long)
            self.route_calls += 1
            text = ""
            if decision.department_id is not None:
                name = self.department_names[decision.department_id]
                text = rules.routed_text(name, decision)
            found = Routed(decision.department_id, decision.area_id, text)
            self.routed[key] = found
        return found

    def states(self, ages: np.ndarray) -> list[str]:
        """Old reports are mostly closed; this week's are mostly still open."""
        size = len(ages)
        share = np.where(ages > 30 * DAY, 0.9, np.where(ages > 3 * DAY, 0.35, 0.1))
        closed = self.numbers.random(size) < share
        open_states, open_weights = OPEN_CHOICES
        closed_states, closed_weights = CLOSED_CHOICES
        open_pick = self.numbers.choice(3, size, p=np.array(open_weights) / sum(open_weights))
        closed_pick = self.numbers.choice(4, size, p=np.array(closed_weights) / sum(closed_weights))
        return [
            closed_states[c] if is_closed else open_states[o]
            for is_closed, c, o in zip(
                closed.tolist(), closed_pick.tolist(), open_pick.tolist(), strict=True
            )
        ]

    def service_indexes(self, cluster: np.ndarray) -> np.ndarray:
        size = len(cluster)
        anywhere = self.numbers.integers(0, len(self.services), size)
        pick = self.numbers.integers(0, 2, size)
        clustered = self.cluster_services[np.maximum(cluster, 0), pick]
        return np.where(cluster >= 0, clustered, anywhere)

    def batch(self, start: int, ids: list[int]) -> tuple[list[tuple], list[tuple]]:
        """The reports numbered start.. (oldest first) with the given ids, and their
        timeline entries, as rows in REPORT_FIELDS and TIMELINE_FIELDS order."""
        size = len(ids)
        ages = self.ages[start : start + size]
        lat, long, cluster = self.points(size)
        areas = self.containing(lat, long)
        service_index = self.service_indexes(cluster)
        states = self.states(ages)
        now_ts = self.now.timestamp()
        requested_ts = now_ts - ages
        sla = self.sla[service_index]
        closed_ts = np.minimum(requested_ts + self.numbers.exponential(sla) * 3600, now_ts)
        touched_ts = np.minimum(requested_ts + self.numbers.uniform(0, 48, size) * 3600, now_ts)
        numbers = self.numbers.integers(1, 2401, size).tolist()
        streets = self.numbers.integers(0, len(STREETS), size).tolist()
        phrases = self.numbers.integers(0, len(PHRASES), size).tolist()
        answer_picks = self.numbers.integers(0, ANSWER_SETS, size).tolist()
        columns = zip(
            ids, service_index.tolist(), states, lat.tolist(), long.tolist(), areas,
            requested_ts.tolist(), closed_ts.tolist(), touched_ts.tolist(), numbers, streets,
            phrases, answer_picks, strict=True,
        )  # fmt: skip
        rows: list[tuple] = []
        entries: list[tuple] = []
        stamp = datetime.fromtimestamp
        for pk, s, state, y, x, around, req, closed_at, touched, no, st, ph, ans in columns:
            service = self.services[s]
            routed = self.route(s, around, y, x)
            requested = stamp(req, UTC)
            master = None
            notes = CLOSED_NOTES.get(state, "")
            if state == State.DUPLICATE:
                master = self.masters.get(s)
                if master is None:  # the first report of its category can't duplicate one
                    state = State.NOT_ACTIONABLE
                    notes = CLOSED_NOTES[state]
                else:
                    notes = rules.duplicate_text(master, notes)
            if state != State.DUPLICATE:
                self.masters[s] = pk
            closed = rules.closed_datetime_for(state, now=stamp(closed_at, UTC))
            updated = closed or stamp(touched, UTC)
            rows.append(
                (
                    pk, service.pk, f"{service.name}. {PHRASES[ph]}", self.answers[s][ans], y, x,
                    f"{no} {STREETS[st]}", rules.status_for(state), state, notes,
                    routed.department_id, routed.area_id, master, requested, updated,
                    rules.expected_datetime(requested, service.sla_hours), closed,
                    ServiceRequest.Source.GENERATED, requested,
                )
            )  # fmt: skip
            entries.append(
                (pk, RequestUpdate.Kind.CREATED, True, "", "", State.NEW, None, requested)
            )
            if routed.department_id is not None:
                entries.append(
                    (pk, RequestUpdate.Kind.ROUTED, False, routed.text, "", "",
                     routed.department_id, requested)
                )  # fmt: skip
            if state != State.NEW:
                entries.append(
                    (pk, RequestUpdate.Kind.STATE, True, notes, State.NEW, state, None, updated)
                )
        return rows, entries
