from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from places.demo import DEMO_FILE, demo_rows
from places.models import AddressPoint, Street

pytestmark = pytest.mark.django_db

CSV = """id,number,street,unit,postcode,lat,long
A1,12,Oak St,,27601,35.7800,-78.6400
A2,14,Oak Street,,27601,35.7801,-78.6401
A3,3,Elm Avenue,2B,27603,35.7700,-78.6300
A4,5,Elm Avenue,,27603,north,-78.6300
A5,7,Elm Avenue,,27603,10.0,10.0
A6,,,,,35.77,-78.63
A1,99,Duplicate Road,,,35.78,-78.64
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(path: Path) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_addresses", str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_csv_import_reports_bad_rows_and_a_summary(tmp_path):
    out, err = run(write(tmp_path, "a.csv", CSV))
    assert "7 rows read: 3 new, 0 updated, 0 unchanged, 4 skipped" in out
    assert "row 5: latitude and longitude must be numbers" in err
    assert "row 6: That location is outside" in err
    assert "row 7: no street" in err
    assert "row 8: the same address as row 2" in err
    point = AddressPoint.objects.get(source_id="A3")
    assert (point.label, point.postcode, point.search_text) == (
        "3 Elm Avenue, unit 2B",
        "27603",
        "3 elm avenue 2b",
    )
    # "Oak St" and "Oak Street" are one street, in the middle of its points.
    oak = Street.objects.get(search_text="oak street")
    assert oak.address_count == 2 and oak.lat == pytest.approx(35.78005)
    assert Street.objects.count() == 2


def test_a_nul_character_skips_its_row_only(tmp_path):
    text = (
        "id,number,street,lat,long\nA1,1,Main Street,35.78,-78.64\nA2,2,Oak\x00 St,35.78,-78.64\n"
    )
    out, err = run(write(tmp_path, "a.csv", text))
    assert "2 rows read: 1 new" in out and "row 3: it contains a NUL character (\\x00)" in err
    assert list(AddressPoint.objects.values_list("source_id", flat=True)) == ["A1"]


def test_import_is_idempotent_and_updates_what_moved(tmp_path):
    path = write(tmp_path, "a.csv", CSV)
    run(path)
    out, _ = run(path)
    assert "3 unchanged" in out and "0 new" in out
    moved = CSV.replace("A1,12,Oak St,,27601,35.7800", "A1,12,Oak St,,27601,35.7810")
    out, _ = run(write(tmp_path, "b.csv", moved))
    assert "1 updated, 2 unchanged" in out
    assert AddressPoint.objects.get(source_id="A1").lat == 35.781
    assert AddressPoint.objects.count() == 3


def test_geojson_import_with_feature_ids_and_osm_keys(tmp_path):
    features = [
        {
            "type": "Feature",
            "id": "g1",
            "geometry": {"type": "Point", "coordinates": [-78.64, 35.78]},
            "properties": {"addr:housenumber": "21", "addr:street": "Pine Road"},
        },
        {"type": "Feature", "geometry": None, "properties": {"street": "Pine Road"}},
        "not a feature",
    ]
    data = {"type": "FeatureCollection", "features": features}
    out, err = run(write(tmp_path, "a.geojson", json.dumps(data)))
    assert "1 new" in out and "2 skipped" in out
    assert AddressPoint.objects.get(source_id="g1").label == "21 Pine Road"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.txt", "anything", "expected a .csv or .geojson file"),
        ("a.csv", "name,colour\nOak,1\n", "no column for street, lat, long"),
        ("a.geojson", "{not json", "not valid JSON"),
        ("a.geojson", '{"type": "Feature"}', "expected a GeoJSON FeatureCollection"),
        ("a.csv", None, "broken at line"),
    ],
)
def test_a_bad_file_is_refused_and_nothing_is_stored(tmp_path, name, text, message):
    path = tmp_path / name
    if text is None:  # good rows, then a byte that is not UTF-8, past the first batch
        good = "".join(f"{n},Oak Street,35.78,-78.64\n" for n in range(3000))
        path.write_bytes(f"number,street,lat,long\n{good}".encode() + b"7,\xff,35.78,-78.64\n")
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(CommandError, match=message):
        run(path)
    assert AddressPoint.objects.count() == 0


def test_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run(tmp_path / "nope.csv")


def test_the_demo_file_is_the_generators_output_and_imports_cleanly():
    lines = DEMO_FILE.read_text(encoding="utf-8").splitlines()
    assert len(lines) - 1 == len(demo_rows())
    out, err = run(DEMO_FILE)
    assert f"{len(lines) - 1:,} new" in out and "0 skipped" in out and not err
    assert Street.objects.filter(name="Fayetteville Street").exists()
