"""The demo city's catalogue: departments, areas, categories and their questions, and the
answers both data generators (`seed_demo`, `generate_reports`) give to those questions.

Kept as data so that `seed_demo` reads as a recipe, and tests can build the same city."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from reports.models import ServiceAttribute

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
                "Where is it?",
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
        if not attribute.variable or (not attribute.required and rng.random() < 0.2):
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
