"""The demo city's address list (places/data/riverton-addresses.csv), which `seed_demo`
imports. Made once by `write_demo_addresses` and kept in the repository, so the demo works
offline and the same everywhere: a street grid around downtown and the main diagonal
roads, numbered like a real city (odd numbers on one side, even on the other, a hundred
per block from the centre lines)."""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path

DEMO_FILE = Path(__file__).resolve().parent / "data" / "riverton-addresses.csv"
CENTRE = (35.7796, -78.6385)  # where the numbering starts: Fayetteville and Hargett
SPACING_M = 45  # between houses on one side
HALF_LENGTH_M = 1500

# (name, bearing in degrees, offset of the street from the centre in metres, postcode)
EAST_WEST = [
    ("Peace Street", 1250, "27604"),
    ("Johnson Street", 1000, "27604"),
    ("North Street", 750, "27604"),
    ("Lane Street", 500, "27601"),
    ("Jones Street", 300, "27601"),
    ("Edenton Street", 150, "27601"),
    ("Morgan Street", 50, "27601"),
    ("Hargett Street", -50, "27601"),
    ("Martin Street", -150, "27601"),
    ("Davie Street", -300, "27601"),
    ("Cabarrus Street", -450, "27601"),
    ("Lenoir Street", -600, "27601"),
    ("South Street", -750, "27603"),
    ("Bragg Street", -1000, "27603"),
    ("Hoke Street", -1250, "27603"),
]
NORTH_SOUTH = [
    ("Oberlin Road", -1900, "27605"),
    ("Saint Marys Street", -1300, "27605"),
    ("Boylan Avenue", -900, "27603"),
    ("Harrington Street", -550, "27603"),
    ("West Street", -400, "27603"),
    ("Dawson Street", -250, "27601"),
    ("McDowell Street", -150, "27601"),
    ("Salisbury Street", -70, "27601"),
    ("Fayetteville Street", 0, "27601"),
    ("Wilmington Street", 100, "27601"),
    ("Blount Street", 200, "27601"),
    ("Person Street", 300, "27601"),
    ("East Street", 600, "27604"),
    ("Bloodworth Street", 850, "27604"),
    ("State Street", 1300, "27610"),
]
# (name, start (lat, long), bearing in degrees from north, length in metres, postcode)
DIAGONALS = [
    ("Glenwood Avenue", (35.7830, -78.6450), 320, 5200, "27605"),
    ("Hillsborough Street", (35.7800, -78.6420), 280, 4800, "27605"),
    ("Capital Boulevard", (35.7860, -78.6370), 20, 6500, "27604"),
    ("New Bern Avenue", (35.7790, -78.6350), 95, 4000, "27610"),
    ("Poole Road", (35.7760, -78.6200), 110, 5500, "27610"),
    ("Whitaker Mill Road", (35.8060, -78.6500), 70, 2800, "27608"),
    ("Oakwood Avenue", (35.7850, -78.6320), 85, 2200, "27604"),
    ("Western Boulevard", (35.7740, -78.6560), 250, 4500, "27606"),
]
METRES_PER_DEGREE = 111_320


def _move(lat: float, long: float, north_m: float, east_m: float) -> tuple[float, float]:
    return (
        lat + north_m / METRES_PER_DEGREE,
        long + east_m / (METRES_PER_DEGREE * math.cos(math.radians(lat))),
    )


def _street_points(
    name: str,
    start: tuple[float, float],
    bearing: float,
    length: float,
    postcode: str,
    rng: random.Random,
    first_number: int,
) -> list[dict[str, object]]:
    rows = []
    north, east = math.cos(math.radians(bearing)), math.sin(math.radians(bearing))
    for step in range(int(length // SPACING_M)):
        along = step * SPACING_M + rng.uniform(-6, 6)
        for side, parity in ((1, 1), (-1, 0)):
            if rng.random() < 0.12:  # a park, a lot, a school: no address here
                continue
            offset = side * rng.uniform(14, 22)
            lat, long = _move(
                start[0], start[1], along * north - offset * east, along * east + offset * north
            )
            number = first_number + step * 2 + parity
            rows.append(
                {
                    "number": number,
                    "street": name,
                    "postcode": postcode,
                    "lat": round(lat, 6),
                    "long": round(long, 6),
                }
            )
    return rows


def demo_rows(seed: int = 311) -> list[dict[str, object]]:
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    for name, offset, postcode in EAST_WEST:
        start = _move(*CENTRE, offset, -HALF_LENGTH_M)
        rows += _street_points(name, start, 90, 2 * HALF_LENGTH_M, postcode, rng, 100)
    for name, offset, postcode in NORTH_SOUTH:
        start = _move(*CENTRE, -HALF_LENGTH_M, offset)
        rows += _street_points(name, start, 0, 2 * HALF_LENGTH_M, postcode, rng, 100)
    for name, start, bearing, length, postcode in DIAGONALS:
        rows += _street_points(name, start, bearing, length, postcode, rng, 100)
    for index, row in enumerate(rows, start=1):
        row["id"] = f"RVT-{index:05d}"
    return rows


def write_demo_addresses(path: Path = DEMO_FILE) -> int:
    rows = demo_rows()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["id", "number", "street", "postcode", "lat", "long"])
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)
