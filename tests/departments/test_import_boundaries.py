from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from departments.models import Boundary
from tests.factories import square

pytestmark = pytest.mark.django_db


def feature(name: str | None, geometry: dict) -> dict:
    return {"type": "Feature", "properties": {"NAME": name} if name else {}, "geometry": geometry}


def write(tmp_path: Path, features: list[dict]) -> Path:
    path = tmp_path / "areas.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def run(path: Path, *args: str) -> str:
    out = StringIO()
    call_command(
        "import_boundaries",
        str(path),
        "--kind",
        "neighbourhood",
        "--name-field",
        "NAME",
        *args,
        stdout=out,
    )
    return out.getvalue()


AREAS = [
    feature("Oakwood", square(35.77, -78.66, 35.79, -78.64)),
    feature("Mordecai", square(35.77, -78.64, 35.79, -78.62)),
]


def test_import_creates_then_is_idempotent_then_updates(tmp_path):
    path = write(tmp_path, AREAS)
    assert "2 created, 0 updated, 0 unchanged" in run(path)
    oakwood = Boundary.objects.get(name="Oakwood")
    assert (oakwood.kind, oakwood.min_lat, oakwood.max_long) == ("neighbourhood", 35.77, -78.64)
    assert "0 created, 0 updated, 2 unchanged" in run(path)
    moved = [feature("Oakwood", square(35.76, -78.66, 35.79, -78.64)), AREAS[1]]
    assert "0 created, 1 updated, 1 unchanged" in run(write(tmp_path, moved))
    assert Boundary.objects.get(name="Oakwood").min_lat == 35.76
    assert Boundary.objects.count() == 2


def test_names_sharing_one_address_are_refused_and_nothing_imported(tmp_path):
    clash = [*AREAS, feature("OAKWOOD", square(35.70, -78.66, 35.72, -78.64))]
    with pytest.raises(CommandError, match="/areas/oakwood/"):
        run(write(tmp_path, clash))
    assert not Boundary.objects.exists()


def test_dry_run_saves_nothing(tmp_path):
    output = run(write(tmp_path, AREAS), "--dry-run")
    assert "Dry run, nothing saved: 2 created" in output
    assert not Boundary.objects.exists()


def test_errors_name_the_feature_and_import_nothing(tmp_path):
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[-78.6, 35.7], [-78.5, 35.8], [-78.5, 35.7], [-78.6, 35.8], [-78.6, 35.7]]
        ],
    }
    path = write(
        tmp_path,
        [
            AREAS[0],
            feature(None, AREAS[1]["geometry"]),
            feature("Bowtie", bowtie),
            feature("Line", {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}),
        ],
    )
    with pytest.raises(CommandError) as info:
        run(path)
    message = str(info.value)
    assert "Feature 2: no 'NAME' property" in message
    assert "Feature 3 (Bowtie): Invalid geometry" in message
    assert "Feature 4 (Line): Expected a Polygon or MultiPolygon" in message
    assert not Boundary.objects.exists()


@pytest.mark.parametrize(
    ("content", "expected"), [("not json", "Not a GeoJSON file"), ("[]", "must be an object")]
)
def test_bad_files_are_refused(tmp_path, content, expected):
    path = tmp_path / "bad.geojson"
    path.write_text(content)
    with pytest.raises(CommandError, match=expected):
        run(path)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Can't read"):
        run(tmp_path / "nope.geojson")


def test_verbose_import_lists_every_area_with_its_outcome(tmp_path):
    path = write(tmp_path, AREAS)
    run(path)
    moved = [feature("Oakwood", square(35.76, -78.66, 35.79, -78.64)), AREAS[1]]
    output = run(write(tmp_path, moved), "--verbosity", "2")
    assert "  updated: Oakwood" in output
    assert "  unchanged: Mordecai" in output


def test_an_area_outside_the_city_is_refused_and_swapped_coordinates_are_named(tmp_path):
    """No report can lie outside MAP_BOUNDS, so such an area would never route anything."""
    swapped = {
        "type": "Polygon",
        "coordinates": [[[35.77, -78.65], [35.77, -78.62], [35.79, -78.62], [35.77, -78.65]]],
    }
    paris = square(48.8, 2.3, 48.9, 2.4)
    path = write(tmp_path, [AREAS[0], feature("Swapped", swapped), feature("Paris", paris)])
    with pytest.raises(CommandError) as info:
        run(path)
    message = str(info.value)
    assert "Feature 2 (Swapped): The area lies wholly outside" in message
    assert "look like latitude, longitude" in message
    assert "Feature 3 (Paris): The area lies wholly outside" in message
    assert message.count("look like latitude") == 1
    assert not Boundary.objects.exists()


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ({"type": "Feature", "properties": ["Oakwood"], "geometry": AREAS[0]["geometry"]},
         "Feature 2: its properties are not an object."),
        ({"type": "Feature", "properties": {"NAME": {"en": "Oakwood"}},
          "geometry": AREAS[0]["geometry"]},
         "Feature 2: its 'NAME' property is not text."),
        # PostgreSQL refuses a NUL in text: it was a database error after the first saves.
        (feature("Bad\x00name", AREAS[0]["geometry"]), "Feature 2: the name 'Bad\\x00name' holds"),
    ],
    ids=["properties-a-list", "name-an-object", "name-with-nul"],
)  # fmt: skip
def test_a_feature_with_unusable_properties_is_named_and_nothing_imported(tmp_path, bad, expected):
    """Such a feature stopped the import with a traceback, was saved under a name like
    "{'en': 'Oakwood'}", or failed in the database: now a clear error, nothing saved."""
    with pytest.raises(CommandError) as info:
        run(write(tmp_path, [AREAS[1], bad]))
    assert expected in str(info.value)
    assert not Boundary.objects.exists()


def test_a_name_whose_address_is_taken_names_its_feature_and_every_other(tmp_path):
    """The model's own checks (a neighbourhood whose address another has, earlier in the file
    or already saved) said which name, but not which feature, and only the first."""
    Boundary.objects.create(name="Five Points", kind="neighbourhood", geometry=AREAS[0]["geometry"])
    clashes = [
        *AREAS,
        feature("OAKWOOD", square(35.70, -78.66, 35.72, -78.64)),
        feature("Five-Points", square(35.72, -78.66, 35.74, -78.64)),
    ]
    with pytest.raises(CommandError) as info:
        run(write(tmp_path, clashes))
    message = str(info.value)
    assert "Feature 3 (OAKWOOD): The neighbourhood Oakwood already has the address" in message
    assert "Feature 4 (Five-Points): The neighbourhood Five Points already has" in message
    assert list(Boundary.objects.values_list("name", flat=True)) == ["Five Points"]


def test_a_numeric_name_is_kept_as_its_text(tmp_path):
    path = write(tmp_path, [feature(12, AREAS[0]["geometry"])])
    assert "1 created" in run(path)
    assert Boundary.objects.get().name == "12"
