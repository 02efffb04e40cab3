"""Bulk-create realistic synthetic reports, for benchmarks and for trying the portal at scale.

Why: the list endpoint, the maps and the insights must be measured against a city-sized
history (a million reports), and nobody will file those by hand. Reports are generated in
the order they were made (so ids grow with time, as real ones do) and written in batches,
each in one transaction, through reports/bulk.py (COPY on PostgreSQL), with the timeline
report_create and the workflow would have written: CREATED, ROUTED (internal) and, for a
report that moved on, STATE. The fields that go together (status and closed time from the
state, target time from the category, a duplicate's master) come from the same rules as
the services (reports/rules.py); every required question is answered. Routing makes
Service.route's choice (departments.routing.choose) over the rules read once, once per
(service, set of areas containing the point) instead of once per row. Random draws and
the per-row values are made for a whole batch at once with numpy; while PostgreSQL takes
in one batch, the next is generated on another thread.

It needs the service catalogue (`python manage.py seed_demo`) and exits non-zero without it.
Generated reports carry source=generated and no reporter data.
"""

from __future__ import annotations

import gc
import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from departments.models import AreaSet
from reports import demo, rules
from reports.bulk import Table, loading, reserve_ids
from reports.generated_routing import SPARE_SETS, Routed, Router
from reports.insights import rollups
from reports.insights.tally import Tally
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
STATES = np.array([*OPEN_CHOICES[0], *CLOSED_CHOICES[0]], dtype=object)
STATUSES = np.array([rules.status_for(state) for state in STATES], dtype=object)
DUPLICATE = STATES.tolist().index(State.DUPLICATE)
NOT_ACTIONABLE = STATES.tolist().index(State.NOT_ACTIONABLE)
CLUSTERS = 14
CLUSTER_SHARE = 0.7  # the rest is spread evenly over the city
MAX_DAYS = 36_500  # --days: about a century back
ANSWER_SETS = 32  # distinct answer sets drawn per category, reused across its rows
DAY = 86400.0
ENTRIES_PER_REPORT = 3  # CREATED, ROUTED, STATE: the most a generated report has
HOUR_MICROS = 3600 * 10**6
EPOCH_2000 = datetime(2000, 1, 1, tzinfo=UTC).timestamp()  # PostgreSQL's epoch

# Partial indexes no generated row enters (no address id, assignee or API key; no entry
# with an author or from a department): kept through the load rather than built again.
UNENTERED_INDEXES = [
    "sr_address_id", "sr_assigned_to", "sr_api_key", "update_author", "update_department_from",
]  # fmt: skip
REPORT_FIELDS = [
    "id", "service_id", "description", "attributes", "lat", "long", "address", "status",
    "state", "status_notes", "department_id", "area_id", "area_set_id", "duplicate_of_id",
    "requested_datetime", "updated_datetime", "expected_datetime", "closed_datetime", "source",
    "published_at",
]  # fmt: skip
TIMELINE_FIELDS = [
    "id", "request_id", "kind", "public", "text", "state_from", "state_to", "department_to_id",
    "created",
]  # fmt: skip


class Command(BaseCommand):
    help = "Bulk-create N realistic synthetic reports (source=generated)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, required=True, help="How many reports.")
        parser.add_argument(
            "--days",
            type=int,
            default=365,
            help="Spread over this many days back from now (at most 36,500).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=311,
            help="Random seed, 0 or more (the same seed, the same reports).",
        )
        parser.add_argument("--batch", type=int, default=20000, help="Rows per batch.")
        parser.add_argument("--dry-run", action="store_true", help="Build rows, save nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        count, days, batch = options["count"], options["days"], options["batch"]
        if count < 1 or days < 1 or batch < 1:
            raise CommandError("--count, --days and --batch must be positive.")
        # numpy takes no negative seed, and a start before the year 1 overflowed: both ended
        # in a traceback. A century also keeps every date inside the API's date range.
        if options["seed"] < 0:
            raise CommandError(f"--seed must be 0 or more, got {options['seed']}.")
        if days > MAX_DAYS:
            raise CommandError(f"--days must be at most {MAX_DAYS:,} (a century), got {days:,}.")
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
        # Millions of new tuples and no reference cycles among them: the cyclic garbage
        # collector would walk them again and again (most of the generating time) for nothing.
        gc.disable()
        try:
            if options["dry_run"]:
                made = 0
                while made < count:
                    size = min(batch, count - made)
                    generator.batch(made, list(range(made + 1, made + size + 1)))
                    made += size
            else:
                self.write(generator, count=count, batch=batch, verbosity=options["verbosity"])
        finally:
            gc.enable()
        elapsed = time.perf_counter() - started
        verb = "Would create" if options["dry_run"] else "Created"
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"{verb} {count} reports in {elapsed:.1f} s "
                f"({count / elapsed:,.0f}/s; {generator.router.route_calls} routing decisions)."
            )

    def write(self, generator: Generator, *, count: int, batch: int, verbosity: int) -> None:
        """The rows in one transaction (loading() opens it): a failure while loading leaves
        the database as it was. After the commit loading() rebuilds the indexes; if one of
        those builds fails, its error is raised and the rows stay."""
        reports = Table(ServiceRequest, REPORT_FIELDS)
        timeline = Table(RequestUpdate, TIMELINE_FIELDS)
        sizes = [min(batch, count - start) for start in range(0, count, batch)]
        # The insights summaries (kept by triggers, which the load switches off) are counted
        # by the generator as it goes and written with the rows; where it can't count them
        # exactly, they are recounted from the reports beside the index builds.
        generator.tally = Tally.for_period(*generator.period())
        try:
            self._load(generator, reports, timeline, sizes, count, verbosity)
        except BaseException:
            # loading() switched the reports' triggers off, those that keep the insights
            # summaries too: they are counted again whatever became of the load (after a
            # load, beside the index builds: seconds for a million reports).
            rollups.rebuild()
            raise

    def _load(
        self,
        generator: Generator,
        reports: Table,
        timeline: Table,
        sizes: list[int],
        count: int,
        verbosity: int,
    ) -> None:
        tally = generator.tally
        with (
            loading(
                ServiceRequest,
                RequestUpdate,
                beside=[] if tally else [rollups.rebuild],
                keep=UNENTERED_INDEXES,
            ),
            ThreadPoolExecutor(max_workers=1) as ahead,
        ):
            # The next batch is generated (on another thread) while PostgreSQL takes in this
            # one: the database's work and Python's overlap. Ids are reserved here, on this
            # thread's connection (the transaction's); generating needs no database.
            # loading() holds both tables against other writers: each batch's ids are one
            # move of the sequence, its timeline's a block of ENTRIES_PER_REPORT per report.
            made = 0
            generator.router.spare = reserve_ids(AreaSet, SPARE_SETS)[::-1]
            coming = ahead.submit(generator.batch, 0, *self.reserve(sizes[0]))
            for size, next_size in zip(sizes, [*sizes[1:], 0], strict=True):
                rows, entries = coming.result()
                # Before the next batch starts adding to them.
                AreaSet.objects.bulk_create(generator.router.new_sets)
                generator.router.new_sets = []
                if next_size:
                    coming = ahead.submit(generator.batch, made + size, *self.reserve(next_size))
                reports.write(rows)
                timeline.write(entries)
                made += size
                if verbosity >= 2:
                    self.stderr.write(f"{made}/{count}")
            if tally:
                tally.write()

    @staticmethod
    def reserve(size: int) -> tuple[list[int], int]:
        """Ids for `size` reports, and the first of a block for their timeline entries."""
        ids = reserve_ids(ServiceRequest, size, locked=True)
        entries = reserve_ids(RequestUpdate, ENTRIES_PER_REPORT * size, locked=True)
        return ids, entries[0]


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
        # Per-row values are picked from these tables by index, a whole batch at once.
        self.service_pks = np.array([s.pk for s in services], dtype=np.int64)
        self.has_sla = np.array([bool(s.sla_hours) for s in services])
        self.sla_micros = np.array([(s.sla_hours or 0) * HOUR_MICROS for s in services])
        self.answers = np.array(
            [answers for service in services for answers in self.answer_sets(service)],
            dtype=object,
        )
        self.descriptions = np.array(
            [f"{service.name}. {phrase}" for service in services for phrase in PHRASES],
            dtype=object,
        )
        self.addresses = np.array(
            [f"{number} {street}" for number in range(1, 2401) for street in STREETS],
            dtype=object,
        )
        self.notes = np.array([CLOSED_NOTES.get(state, "") for state in STATES], dtype=object)
        self.router = Router(services)
        # Ages of every report to make, oldest first: more recent than old.
        ages = days * DAY * (self.numbers.random(count) ** 1.3)
        self.ages = np.sort(ages)[::-1]
        # The latest report of each category that is not a duplicate: a duplicate's master.
        self.masters: dict[int, int] = {}
        self.tally: Tally | None = None  # counts for the insights summaries, if kept

    def period(self) -> tuple[int, int]:
        """When the first report is made and when the last can close (microseconds since
        2000-01-01 UTC, as the rows' times)."""
        now = self.now.timestamp()
        first, last = micros(np.array([now - self.ages[0], now])).tolist()
        return first, last

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

    def states(self, ages: np.ndarray) -> np.ndarray:
        """Old reports are mostly closed; this week's are mostly still open. Indexes into
        STATES."""
        size = len(ages)
        share = np.where(ages > 30 * DAY, 0.9, np.where(ages > 3 * DAY, 0.35, 0.1))
        closed = self.numbers.random(size) < share
        open_states, open_weights = OPEN_CHOICES
        closed_states, closed_weights = CLOSED_CHOICES
        open_pick = self.numbers.choice(3, size, p=np.array(open_weights) / sum(open_weights))
        closed_pick = self.numbers.choice(4, size, p=np.array(closed_weights) / sum(closed_weights))
        return np.where(closed, len(open_states) + closed_pick, open_pick)

    def service_indexes(self, cluster: np.ndarray) -> np.ndarray:
        size = len(cluster)
        anywhere = self.numbers.integers(0, len(self.services), size)
        pick = self.numbers.integers(0, 2, size)
        clustered = self.cluster_services[np.maximum(cluster, 0), pick]
        return np.where(cluster >= 0, clustered, anywhere)

    def duplicates(self, ids: np.ndarray, service_index: np.ndarray, state: np.ndarray) -> list:
        """Each duplicate's master: the latest earlier report of its category that is not a
        duplicate (None elsewhere). The first report of a category can't duplicate one: it
        becomes not actionable instead (`state` is changed in place)."""
        masters = np.full(len(ids), -1, dtype=np.int64)
        for s in np.unique(service_index).tolist():
            rows = np.flatnonzero(service_index == s)
            if self.masters.get(s) is None and state[rows[0]] == DUPLICATE:
                state[rows[0]] = NOT_ACTIONABLE
            duplicate = state[rows] == DUPLICATE
            # The position of the latest non-duplicate at or before each row (-1: none yet).
            latest = np.maximum.accumulate(np.where(duplicate, -1, np.arange(len(rows))))
            carried = self.masters.get(s, -1)
            masters[rows] = np.where(latest >= 0, ids[rows][np.maximum(latest, 0)], carried)
            if latest[-1] >= 0:
                self.masters[s] = int(ids[rows][latest[-1]])
        return nullable(state == DUPLICATE, masters)

    def batch(
        self, start: int, ids: list[int], first_entry: int = 1
    ) -> tuple[list[tuple], list[tuple]]:
        """The reports numbered start.. (oldest first) with the given ids, and their
        timeline entries (ids from first_entry on, at most ENTRIES_PER_REPORT a report), as
        rows in REPORT_FIELDS and TIMELINE_FIELDS order. Times are microseconds since
        2000-01-01 UTC (see Table)."""
        size = len(ids)
        ages = self.ages[start : start + size]
        lat, long, cluster = self.points(size)
        inside = self.router.containing(lat, long)
        service_index = self.service_indexes(cluster)
        state = self.states(ages)
        now_ts = self.now.timestamp()
        requested_ts = now_ts - ages
        sla = self.sla[service_index]
        closed_ts = np.minimum(requested_ts + self.numbers.exponential(sla) * 3600, now_ts)
        touched_ts = np.minimum(requested_ts + self.numbers.uniform(0, 48, size) * 3600, now_ts)
        numbers = self.numbers.integers(1, 2401, size)
        streets = self.numbers.integers(0, len(STREETS), size)
        phrases = self.numbers.integers(0, len(PHRASES), size)
        answer_picks = self.numbers.integers(0, ANSWER_SETS, size)

        pks = np.array(ids, dtype=np.int64)
        masters = self.duplicates(pks, service_index, state)
        routed = self.router.routes(service_index, inside)
        is_closed = state >= len(OPEN_CHOICES[0])
        requested = micros(requested_ts)
        closed = np.where(is_closed, micros(closed_ts), 0)
        updated = np.where(is_closed, closed, micros(touched_ts))
        expected = requested + self.sla_micros[service_index]
        notes = self.notes[state].tolist()
        for i in np.flatnonzero(state == DUPLICATE).tolist():
            notes[i] = rules.duplicate_text(masters[i], notes[i])
        departments = [r.department_id for r in routed]
        requested_list = requested.tolist()
        updated_list = updated.tolist()
        rows = list(
            zip(
                ids,
                self.service_pks[service_index].tolist(),
                self.descriptions[service_index * len(PHRASES) + phrases].tolist(),
                self.answers[service_index * ANSWER_SETS + answer_picks].tolist(),
                lat.tolist(),
                long.tolist(),
                self.addresses[(numbers - 1) * len(STREETS) + streets].tolist(),
                STATUSES[state].tolist(),
                STATES[state].tolist(),
                notes,
                departments,
                [r.area_id for r in routed],
                [r.area_set_id for r in routed],
                masters,
                requested_list,
                updated_list,
                nullable(self.has_sla[service_index], expected),
                nullable(is_closed, closed),
                [ServiceRequest.Source.GENERATED] * size,
                requested_list,
                strict=True,
            )
        )
        entries = self.timeline(pks, state, notes, routed, requested, updated, first_entry)
        if self.tally is not None:
            self.tally.add(
                requested=requested,
                closed=closed,
                expected=expected,
                has_target=self.has_sla[service_index],
                is_closed=is_closed,
                service=self.service_pks[service_index],
                department=np.array([d or 0 for d in departments], dtype=np.int64),
                area=np.array([r.area_id or 0 for r in routed], dtype=np.int64),
                area_set=np.array([r.area_set_id or 0 for r in routed], dtype=np.int64),
                lat=lat,
                long=long,
            )
        return rows, entries

    @staticmethod
    def timeline(
        ids: np.ndarray,
        state: np.ndarray,
        notes: list[str],
        routed: list[Routed],
        requested: np.ndarray,
        updated: np.ndarray,
        first_entry: int,
    ) -> list[tuple]:
        """Each report's CREATED entry, the internal ROUTED one when routing found a
        department, and the STATE one when it moved on, in that order, report by report."""
        kind = RequestUpdate.Kind
        size = len(ids)
        department = np.array([r.department_id for r in routed], dtype=object)
        text = np.array([r.text for r in routed], dtype=object)
        was_routed = department != None  # noqa: E711 - elementwise on an object array
        moved = state != STATES.tolist().index(State.NEW)
        notes_array = np.array(notes, dtype=object)
        rows = np.arange(size)
        r, m = rows[was_routed], rows[moved]
        n_r, n_m = len(r), len(m)

        def column(created: Any, routed_: Any, moved_: Any) -> np.ndarray:
            parts = [
                np.broadcast_to(np.asarray(part, dtype=object), (n,))
                for part, n in ((created, size), (routed_, n_r), (moved_, n_m))
            ]
            return np.concatenate(parts)

        # Entries of one report together, in CREATED, ROUTED, STATE order.
        order = np.argsort(np.concatenate([rows * 3, r * 3 + 1, m * 3 + 2]), kind="stable")
        entry_ids = np.arange(first_entry, first_entry + size + n_r + n_m, dtype=np.int64)
        columns = [
            column(ids, ids[r], ids[m]),
            column(kind.CREATED, kind.ROUTED, kind.STATE),
            column(True, False, True),
            column("", text[r], notes_array[m]),
            column("", "", State.NEW),
            column(State.NEW, "", STATES[state[m]]),
            column(None, department[r], None),
            column(requested, requested[r], updated[m]),
        ]
        return list(zip(entry_ids.tolist(), *(c[order].tolist() for c in columns), strict=True))


def nullable(mask: np.ndarray, values: np.ndarray) -> list:
    """`values` as a list, with None where `mask` is false."""
    out = values.astype(object)
    out[~mask] = None
    return out.tolist()


def micros(timestamps: np.ndarray) -> np.ndarray:
    """POSIX timestamps (s) as whole microseconds since 2000-01-01 UTC."""
    return np.round((timestamps - EPOCH_2000) * 1e6).astype(np.int64)
