"""The generator's own count of the insights summaries (reports/insights/tally.py) agrees
with PostgreSQL's expressions where they are hardest to agree: next to a bucket's edge and
next to local midnight and a change of daylight saving time."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import numpy as np
import pytest
from django.db import connection

from reports.insights import rollups
from reports.insights.tally import EPOCH, Tally, buckets

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the summary tables are PostgreSQL's"
    ),
]


def at(micros: int):
    return EPOCH + timedelta(microseconds=micros)


def test_buckets_equal_postgresqls_next_to_every_edge() -> None:
    """Durations one microsecond either side of each edge e^(k/4), and random ones."""
    durations = [0, 1, 999_999, 1_000_000, 1_000_001]
    for k in range(rollups.BUCKETS + 2):
        edge = round(math.exp(k / 4) * 1e6)
        durations += [edge - 1, edge, edge + 1]
    draw = random.Random(11)
    durations += [draw.randrange(0, 3 * 10**14) for _ in range(300)]
    start = 800_000_000 * 10**6
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {rollups.BUCKET} FROM unnest(%s::timestamptz[], %s::timestamptz[]) "
            "AS v(requested_datetime, closed_datetime)",
            [[at(start)] * len(durations), [at(start + d) for d in durations]],
        )
        expected = [row[0] for row in cursor.fetchall()]
    assert buckets(np.array(durations, dtype=np.int64)).tolist() == expected


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe"])
def test_local_days_equal_postgresqls_around_midnight_and_clock_changes(settings, zone) -> None:
    """Every quarter-hour of two years ± 1 µs, in zones with whole, 45-minute and
    half-hour offsets and changes (Lord Howe moves its clocks by 30 minutes)."""
    from reports.insights import tally

    settings.TIME_ZONE = zone
    rollups.install()
    first = 830_000_000 * 10**6  # 2026-04-21
    last = first + 2 * 365 * 86400 * 10**6
    made = Tally.for_period(first, last)
    assert made is not None
    quarters = np.arange(first - first % tally.QUARTER, last, tally.QUARTER, dtype=np.int64)
    times = np.concatenate([quarters, quarters + 1, quarters[1:] - 1])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {rollups.local_day('t', zone)} - DATE '2000-01-01' "
            "FROM unnest(%s::timestamptz[]) AS t",
            [[at(t) for t in times.tolist()]],
        )
        expected = [row[0] for row in cursor.fetchall()]
    assert made.local_days(times).tolist() == expected
