"""The demo city's bus shelters and a few volunteers with histories, for `seed_demo`.

The shelters are a CSV file in adoptions/data/, imported with the same importer a city
uses (so the demo is also an example file); `write_shelters_csv` made it, from the demo
city's main roads, and makes it again if the roads change."""

from __future__ import annotations

import csv
import io
import math
import random
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw

from accounts.services import profile_save
from adoptions.importer import detect_format, read_assets
from adoptions.models import Adoption, Asset, AssetType
from adoptions.services.adoptions import adoption_end, adoption_start
from adoptions.services.assets import assets_import
from adoptions.services.care import care_log_add
from reports import demo as city
from reports.models import Service

SHELTERS_CSV = Path(__file__).resolve().parent / "data" / "demo_bus_shelters.csv"
# (road name, points, cross streets): the demo city's main roads and its bus route.
ROADS = [
    ("Glenwood Ave", city.MAIN_ROADS[0]),
    ("Hillsborough St", city.MAIN_ROADS[1]),
    ("Fayetteville St", city.BUS_ROUTE),
]
SPACING_DEGREES = 0.0031  # about 330 m between stops
VOLUNTEERS = [
    ("maya", "Maya R."),
    ("jonas", "Jonas K."),
    ("aisha", "Aisha B."),
    ("tomas", "Tomás"),
    ("lin", "Lin W."),
    ("deshawn", "DeShawn"),
    ("greta", "Greta from Oakwood"),
    ("sam", "Sam P."),
]


def shelter_rows() -> list[dict[str, str]]:
    """Stops every SPACING_DEGREES along each road, alternating sides of the street."""
    rows = []
    for road_index, (road, points) in enumerate(ROADS):
        number = 0
        for (lat1, long1), (lat2, long2) in zip(points, points[1:], strict=False):
            length = math.hypot(lat2 - lat1, long2 - long1)
            steps = max(1, int(length / SPACING_DEGREES))
            for step in range(steps):
                t = step / steps
                side = 0.00012 * (1 if number % 2 else -1)
                number += 1
                cross = city.STREETS[(number * 5 + road_index) % len(city.STREETS)]
                rows.append(
                    {
                        "id": f"BS-{road_index + 1}{number:03d}",
                        "name": f"{road} at {cross}",
                        "lat": f"{lat1 + (lat2 - lat1) * t + side:.6f}",
                        "long": f"{long1 + (long2 - long1) * t - side:.6f}",
                        "address": f"{100 + number * 40} {road}",
                        "routes": str(1 + road_index * 2 + number % 2),
                        "bench": "yes" if number % 3 else "no",
                    }
                )
    return rows


def write_shelters_csv(path: Path = SHELTERS_CSV) -> int:
    rows = shelter_rows()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def bus_shelter_type() -> AssetType:
    """The bus shelter type (its migration makes it), linked to the demo's category."""
    asset_type = AssetType.objects.get(slug="bus-shelter")
    service = Service.objects.filter(service_code="bus-shelter").first()
    if service is not None and asset_type.service_id != service.pk:
        asset_type.service = service
        asset_type.save(update_fields=["service"])
    return asset_type


def seed_adoptions(*, say: Callable[[str], None]) -> None:
    """Import the shelters (idempotent) and, into a database without adoptions, give eight
    volunteers histories: on time, overdue, lapsed, released."""
    asset_type = bus_shelter_type()
    data = SHELTERS_CSV.read_bytes()
    parsed = read_assets(data, fmt=detect_format(SHELTERS_CSV.name, data))
    summary = assets_import(asset_type=asset_type, parsed=parsed)
    say(f"Bus shelters: {summary.lines()[0]}")
    if Adoption.objects.exists():
        say("Adoptions already exist; not generating more.")
        return
    rng = random.Random(9)
    volunteers = [_volunteer(username, name) for username, name in VOLUNTEERS]
    shelters = list(Asset.objects.active().filter(asset_type=asset_type).order_by("pk"))
    picks = rng.sample(shelters, 16)
    # (days ago it started, visit ages, how it ends: None, ("lapsed"|"released", days ago))
    stories: list[tuple[int, list[int], tuple[str, int] | None]] = [
        (95, [90, 62, 33, 4], None),  # on time
        (70, [66, 40, 12], None),
        (60, [55, 27], None),  # due within days
        (45, [41, 15], None),
        (52, [50], None),  # overdue
        (80, [77, 49], None),  # overdue
        (40, [], None),  # overdue, never visited
        (20, [18], None),
        (12, [], None),
        (130, [126], ("lapsed", 36)),
        (110, [100, 70], ("released", 30)),
        (150, [148, 118], ("lapsed", 28)),
        (30, [25, 3], None),
        (65, [60, 31, 2], None),
        (66, [64], ("lapsed", 1)),
    ]
    for index, (started, visits, end) in enumerate(stories):
        volunteer = volunteers[index % len(volunteers)]
        _story(picks[index], volunteer, started, visits, end, rng)
    say(f"Adoptions: {len(stories)} with care histories, {len(volunteers)} volunteers.")


def _volunteer(username: str, name: str) -> Any:
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, email=f"{username}@volunteers.example.net")
        user.set_unusable_password()  # demo volunteers: shown, not logged into
    user.save()
    profile_save(user=user, display_name=name, show_on_leaderboard=username != "sam")
    return user


def _story(
    asset: Asset,
    volunteer: Any,
    started: int,
    visits: list[int],
    end: tuple[str, int] | None,
    rng: random.Random,
) -> None:
    now = timezone.now()
    adoption = adoption_start(
        asset=asset,
        volunteer=volunteer,
        accept_terms=True,
        nickname=rng.choice(["", "", "Our stop", "The corner one", "Mum's stop"]),
        now=now - timedelta(days=started),
        notify=False,
    )
    checklist = asset.asset_type.checklist
    for age in visits:
        moment = now - timedelta(days=age, hours=rng.randint(0, 6))
        care_log_add(
            adoption=adoption,
            volunteer=volunteer,
            day=timezone.localdate(moment),
            tasks=rng.sample(checklist, rng.randint(2, len(checklist))),
            note=rng.choice(["", "", "All clean.", "Lots of flyers this time.", "Bench wet."]),
            photo=_photo(rng) if rng.random() < 0.4 else None,
            now=moment,
        )
    if end is not None:
        reason, ago = end
        adoption_end(adoption=adoption, reason=reason, now=now - timedelta(days=ago), notify=False)


def _photo(rng: random.Random) -> SimpleUploadedFile:
    image = Image.new("RGB", (640, 480), rng.choice(["#8fb3c9", "#a7c4a0", "#c9b38f"]))
    draw = ImageDraw.Draw(image)
    draw.rectangle((120, 120, 520, 420), outline="#1d2b36", width=8)  # the shelter
    draw.line((120, 330, 520, 330), fill="#5b4636", width=14)  # its bench
    draw.text((20, 20), "Bus shelter, cleaned (demo photo)", fill="#1d2b36")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return SimpleUploadedFile("care.jpg", buffer.getvalue(), content_type="image/jpeg")
