"""The demo city's catalogue: departments, areas, categories and their questions, and the
answers both data generators (`seed_demo`, `generate_reports`) give to those questions.

Kept as data so that `seed_demo` reads as a recipe, and tests can build the same city."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import LineString, mapping

from reports.models import ServiceAttribute, ServiceRequest

# What other apps add to the demo city (adoptions: bus shelters and volunteers). Each step
# is called by `seed_demo` inside its transaction, after the catalogue and the reports, with
# a function that prints a line.
DemoStep = Callable[..., None]
_demo_steps: list[DemoStep] = []


def register_demo_step(step: DemoStep) -> None:
    """Add a step to `seed_demo` (called from an AppConfig.ready(); idempotent)."""
    if step not in _demo_steps:
        _demo_steps.append(step)


def demo_steps() -> list[DemoStep]:
    return list(_demo_steps)


# (slug, name, email, description)
DEPARTMENTS = [
    (
        "public-works",
        "Public Works",
        "publicworks@riverton.example.org",
        "Streets, sidewalks, streetlights, signals and graffiti.",
    ),
    ("water", "Water", "water@riverton.example.org", "Water mains, meters and storm drains."),
    (
        "health",
        "Health Department",
        "health@riverton.example.org",
        "Public health, syringe pick-up and sanitation.",
    ),
    (
        "parks",
        "Parks and Greenways",
        "parks@riverton.example.org",
        "Parks, trees and the greenway network.",
    ),
    ("transit", "Transit", "transit@riverton.example.org", "Buses, stops and shelters."),
    (
        "police",
        "Police",
        "police-nonemergency@riverton.example.org",
        "Non-emergency: abandoned vehicles and safety concerns.",
    ),
    (
        "outreach",
        "Community Outreach (partner)",
        "outreach@riverton.example.org",
        "Social-services partner working with Health on harm reduction.",
    ),
]


@dataclass(frozen=True)
class Question:
    code: str
    description: str
    datatype: str
    required: bool = False
    values: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    group: str
    department: str
    sla_hours: int
    description: str
    keywords: str = ""
    questions: tuple[Question, ...] = field(default=())


YES_NO = (("yes", "Yes"), ("no", "No"), ("unsure", "Not sure"))

CATEGORIES = [
    Category(
        "pothole",
        "Pothole",
        "Streets and sidewalks",
        "public-works",
        72,
        "A hole or a broken patch in the road surface.",
        "road,asphalt,hole",
        (
            Question(
                "size",
                "How big is it?",
                "singlevaluelist",
                True,
                (
                    ("small", "Smaller than a plate"),
                    ("medium", "Up to a car tyre"),
                    ("large", "Larger than a car tyre"),
                ),
            ),
            Question("in_lane", "Is it in a traffic lane?", "singlevaluelist", False, YES_NO[:2]),
        ),
    ),
    Category(
        "streetlight",
        "Streetlight out",
        "Streets and sidewalks",
        "public-works",
        120,
        "A streetlight that is off, flickering or on during the day.",
        "lamp,light,dark",
        (Question("pole_number", "Pole number (on a metal tag), if you can see it", "string"),),
    ),
    Category(
        "sidewalk",
        "Damaged sidewalk",
        "Streets and sidewalks",
        "public-works",
        240,
        "Broken, lifted or blocked sidewalk.",
        "pavement,trip,curb",
    ),
    Category(
        "signal",
        "Traffic signal problem",
        "Streets and sidewalks",
        "public-works",
        12,
        "A signal that is dark, stuck or mistimed.",
        "traffic light",
    ),
    Category(
        "graffiti",
        "Graffiti",
        "Streets and sidewalks",
        "public-works",
        168,
        "Graffiti on public property.",
        "tag,paint,vandalism",
    ),
    Category(
        "stolen-water-meter",
        "Stolen water meter / flooding",
        "Water",
        "water",
        24,
        "A missing water meter, often at an empty house, with water running.",
        "meter,flood,vacant,theft",
        (
            Question(
                "water_running",
                "Is water running or pooling now?",
                "singlevaluelist",
                True,
                YES_NO[:2],
            ),
            Question("vacant", "Does the house look empty?", "singlevaluelist", False, YES_NO),
        ),
    ),
    Category(
        "water-main",
        "Water main break",
        "Water",
        "water",
        8,
        "Water gushing from the street or a hydrant.",
        "pipe,burst,hydrant",
    ),
    Category(
        "storm-drain",
        "Blocked storm drain",
        "Water",
        "water",
        72,
        "A drain blocked by leaves or litter.",
        "drain,flooding,leaves",
    ),
    Category(
        "found-syringe",
        "Found syringe",
        "Health and safety",
        "health",
        24,
        "A used needle in a public place. Do not touch it.",
        "needle,sharps,drugs",
        (
            Question("count", "How many syringes?", "number", True),
            Question(
                "place",
                "Where did you find it?",
                "singlevaluelist",
                True,
                (
                    ("sidewalk", "Sidewalk or street"),
                    ("park", "Park or greenway"),
                    ("playground", "Playground or school"),
                    ("private", "Private property"),
                ),
            ),
        ),
    ),
    Category(
        "illegal-dumping",
        "Illegal dumping",
        "Health and safety",
        "public-works",
        120,
        "Furniture, tyres or bags left on public land.",
        "trash,garbage,mattress",
    ),
    Category(
        "abandoned-vehicle",
        "Abandoned vehicle",
        "Health and safety",
        "police",
        168,
        "A vehicle parked for weeks, often without plates.",
        "car,plates",
    ),
    Category(
        "fallen-tree",
        "Fallen tree on greenway",
        "Parks and greenways",
        "parks",
        48,
        "A tree or a large branch down on a greenway trail.",
        "branch,trail,storm",
        (
            Question(
                "blocking",
                "Is the trail blocked?",
                "singlevaluelist",
                True,
                (("fully", "Fully blocked"), ("partly", "Partly"), ("no", "Not blocked")),
            ),
        ),
    ),
    Category(
        "park-maintenance",
        "Park maintenance",
        "Parks and greenways",
        "parks",
        168,
        "Broken benches, overflowing bins or damaged play equipment.",
        "bench,bin,playground",
    ),
    Category(
        "bus-shelter",
        "Bus shelter damaged",
        "Transit",
        "transit",
        72,
        "Broken glass, a damaged bench or graffiti at a bus shelter.",
        "bus,stop,shelter",
        (
            Question("shelter_id", "Stop number (on the sign), if you can see it", "string"),
            Question(
                "damage",
                "What is damaged?",
                "multivaluelist",
                False,
                (
                    ("glass", "Glass panel"),
                    ("bench", "Bench"),
                    ("roof", "Roof"),
                    ("lighting", "Lighting"),
                    ("graffiti", "Graffiti"),
                ),
            ),
        ),
    ),
]


def sample_answers(
    attributes: Iterable[ServiceAttribute], rng: random.Random
) -> dict[str, list[str]]:
    """Plausible answers to a category's questions, as a form submits them (code → values):
    every required question is answered, and most optional ones. `attributes` should come
    with their values prefetched."""
    datatype = ServiceAttribute.Datatype
    answers: dict[str, list[str]] = {}
    for attribute in attributes:
        if not (attribute.variable and attribute.active):
            continue
        if not attribute.required and rng.random() < 0.2:
            continue
        keys = [v.key for v in attribute.values.all()]
        if attribute.datatype == datatype.NUMBER:
            answers[attribute.code] = [str(rng.randint(1, 4))]
        elif attribute.datatype == datatype.MULTIVALUELIST and keys:
            answers[attribute.code] = rng.sample(keys, min(len(keys), rng.randint(1, 2)))
        elif attribute.datatype == datatype.SINGLEVALUELIST and keys:
            answers[attribute.code] = [rng.choice(keys)]
        elif attribute.datatype in (datatype.STRING, datatype.TEXT):
            answers[attribute.code] = ["Seen on the way to work."]
        elif attribute.datatype == datatype.DATETIME:
            answers[attribute.code] = [f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T08:00:00Z"]
    return answers


def stored_answers(
    attributes: Iterable[ServiceAttribute], answers: dict[str, list[str]]
) -> dict[str, str | list[str]]:
    """`answers` as report_create stores them (a list only for a multi-value question), for
    the bulk generator that writes rows without calling it."""
    multi = {a.code for a in attributes if a.datatype == ServiceAttribute.Datatype.MULTIVALUELIST}
    return {code: values if code in multi else values[0] for code, values in answers.items()}


# The map of the demo city: areas, where problems cluster, and what people write.


def box(south: float, west: float, north: float, east: float) -> list[list[float]]:
    return [[west, south], [east, south], [east, north], [west, north], [west, south]]


def polygon(south: float, west: float, north: float, east: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [box(south, west, north, east)]}


def corridor(points: list[tuple[float, float]], half_width: float) -> dict[str, Any]:
    """A GeoJSON area `half_width` degrees either side of a polyline of (lat, long) points."""
    line = LineString([(long, lat) for lat, long in points])
    return mapping(line.buffer(half_width, cap_style="flat").simplify(0.0002))


GREENWAY = [
    (35.742, -78.700),
    (35.760, -78.672),
    (35.772, -78.655),
    (35.790, -78.612),
    (35.815, -78.585),
]
BUS_ROUTE = [
    (35.745, -78.640),
    (35.765, -78.639),
    (35.780, -78.638),
    (35.800, -78.636),
    (35.830, -78.632),
]
MAIN_ROADS = [
    [(35.735, -78.690), (35.790, -78.640), (35.850, -78.580)],
    [(35.779, -78.720), (35.780, -78.640), (35.782, -78.560)],
]

NEIGHBOURHOODS = {
    "Downtown": {
        "type": "Polygon",
        "coordinates": [
            box(35.770, -78.650, 35.790, -78.628),
            # The Capitol grounds are State land: a hole the city does not serve.
            box(35.7790, -78.6400, 35.7815, -78.6375),
        ],
    },
    "Boylan Heights": polygon(35.768, -78.665, 35.778, -78.650),
    "Oakwood": polygon(35.785, -78.628, 35.800, -78.608),
    "Five Points": polygon(35.800, -78.650, 35.815, -78.630),
    "Southside": {
        "type": "MultiPolygon",
        "coordinates": [
            [box(35.735, -78.660, 35.755, -78.630)],
            [box(35.740, -78.620, 35.752, -78.600)],
        ],
    },
}

# Where reports of a category cluster: (weight, kind, where).
HOTSPOTS: dict[str, list[tuple[float, str, Any]]] = {
    "stolen-water-meter": [
        (0.75, "around", (35.792, -78.618, 0.006)),
        (0.25, "around", (35.746, -78.645, 0.008)),
    ],
    "found-syringe": [(0.6, "around", (35.776, -78.642, 0.004)), (0.4, "line", GREENWAY)],
    "fallen-tree": [(1.0, "line", GREENWAY)],
    "bus-shelter": [(1.0, "line", BUS_ROUTE)],
    "pothole": [(0.5, "line", MAIN_ROADS[0]), (0.5, "line", MAIN_ROADS[1])],
    "streetlight": [(0.6, "line", MAIN_ROADS[1]), (0.4, "around", (35.805, -78.640, 0.01))],
}

COUNTS = {
    "stolen-water-meter": 62,
    "pothole": 48,
    "found-syringe": 44,
    "streetlight": 30,
    "graffiti": 24,
    "fallen-tree": 20,
    "bus-shelter": 20,
    "illegal-dumping": 18,
    "sidewalk": 12,
    "storm-drain": 12,
    "park-maintenance": 12,
    "abandoned-vehicle": 8,
    "signal": 6,
    "water-main": 4,
}

DESCRIPTIONS = {
    "stolen-water-meter": [
        "Water meter box open and the meter is gone. Water running into the "
        "yard of the empty house.",
        "Meter stolen at a vacant house, basement flooding, water on the sidewalk.",
        "The house next door has been empty for months; water is pouring from the meter pit.",
    ],
    "found-syringe": [
        "Used syringe on the sidewalk near the bus stop.",
        "Two needles under the bench by the greenway entrance.",
        "Syringe next to the playground fence, kids play here.",
    ],
    "pothole": [
        "Deep pothole in the right lane, cars swerve around it.",
        "Pothole at the crosswalk, about a foot across.",
        "Several potholes in a row after the last storm.",
    ],
    "streetlight": [
        "Streetlight out for a week, the corner is very dark.",
        "Light flickers all night.",
        "Lamp is on all day.",
    ],
    "graffiti": ["Graffiti on the underpass wall.", "Tags on the library's side wall."],
    "fallen-tree": [
        "Large tree across the greenway trail after last night's wind.",
        "Big branch down on the trail near the bridge, bikes can't pass.",
    ],
    "bus-shelter": [
        "Glass panel of the shelter smashed, glass on the bench.",
        "Shelter roof leaking and the bench is broken.",
    ],
    "illegal-dumping": [
        "Mattress and bags of trash dumped by the lot.",
        "Old tyres dumped along the fence.",
    ],
    "sidewalk": ["Tree roots lifted the sidewalk slab, tripping hazard."],
    "storm-drain": ["Storm drain blocked with leaves, street floods when it rains."],
    "park-maintenance": ["Bins overflowing at the picnic area.", "Swing chain broken."],
    "abandoned-vehicle": ["Grey sedan without plates parked here for a month."],
    "signal": ["Signal stuck on red for the side street."],
    "water-main": ["Water bubbling up through the asphalt."],
}
STREETS = [
    "Hillsborough St",
    "Person St",
    "Blount St",
    "Glenwood Ave",
    "Oberlin Rd",
    "Fayetteville St",
    "Boylan Ave",
    "Jones St",
    "Lane St",
    "Edenton St",
    "Wilmington St",
    "Peace St",
    "Whitaker Mill Rd",
    "Poole Rd",
]
CLOSING_NOTES = {
    ServiceRequest.State.FIXED: "Fixed. Thank you for reporting it.",
    ServiceRequest.State.NOT_ACTIONABLE: "We inspected the site and found nothing to act on.",
    ServiceRequest.State.REFERRED: "This is private property; we referred it to the owner.",
    ServiceRequest.State.DUPLICATE: "This was already reported; we are working on the other "
    "report.",
}
