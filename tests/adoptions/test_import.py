"""import_assets: CSV, GeoJSON and GTFS; re-imports; missing, bad rows and bad files."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from adoptions.importer import Columns, FileRefused, read_assets
from adoptions.models import Asset
from adoptions.services.adoptions import adoption_start
from adoptions.services.assets import assets_import
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

GOOD_CSV = """id,name,lat,long,address,routes
S1,Main St at 1st,35.780,-78.640,1 Main St,5
S2,Main St at 2nd,35.781,-78.641,2 Main St,7
S3,Main St at 3rd,35.782,-78.642,3 Main St,7
"""


def run(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("import_assets", str(path), "--type", "bus-shelter", *args, stdout=out)
    return out.getvalue()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_import_creates_assets_with_attributes(asset_type, tmp_path):
    output = run(write(tmp_path, "shelters.csv", GOOD_CSV))
    assert "created 3, updated 0, unchanged 0, deactivated 0" in output
    s1 = Asset.objects.get(external_id="S1")
    assert (s1.name, s1.lat, s1.long, s1.address) == ("Main St at 1st", 35.78, -78.64, "1 Main St")
    assert s1.attributes == {"routes": "5"} and s1.asset_type == asset_type and s1.active


def test_reimport_is_idempotent_and_updates_changes(asset_type, tmp_path):
    path = write(tmp_path, "shelters.csv", GOOD_CSV)
    run(path)
    assert "created 0, updated 0, unchanged 3" in run(path)
    path.write_text(GOOD_CSV.replace("Main St at 2nd", "Main St at Second"), encoding="utf-8")
    assert "created 0, updated 1, unchanged 2" in run(path)
    second = Asset.objects.get(external_id="S2")
    assert (second.name, second.attributes) == ("Main St at Second", {"routes": "7"})
    assert Asset.objects.count() == 3


def test_missing_assets_are_deactivated_and_adopted_ones_flagged(asset_type, tmp_path):
    path = write(tmp_path, "shelters.csv", GOOD_CSV)
    run(path)
    volunteer = UserFactory()
    adoption = adoption_start(
        asset=Asset.objects.get(external_id="S3"), volunteer=volunteer, accept_terms=True
    )
    path.write_text("\n".join(GOOD_CSV.splitlines()[:2]) + "\n", encoding="utf-8")  # only S1
    output = run(path)
    assert "deactivated 2 (1 adopted, flagged for staff)" in output
    s2, s3 = Asset.objects.get(external_id="S2"), Asset.objects.get(external_id="S3")
    assert not s2.active and not s2.flagged_for_staff and s2.deactivated_at is not None
    assert not s3.active and s3.flagged_for_staff
    adoption.refresh_from_db()
    assert adoption.is_active  # kept; staff decide
    # Listed again: back, same row.
    path.write_text(GOOD_CSV, encoding="utf-8")
    assert "updated 2" in run(path)
    assert Asset.objects.get(external_id="S3").active and Asset.objects.count() == 3


def test_bad_rows_are_reported_with_line_numbers_and_the_rest_imported(asset_type, tmp_path):
    text = GOOD_CSV + "S4,No place,abc,-78.6,,\nS5,Far away,10,10,,\n,No id,35.78,-78.64,,\n"
    text += "S1,Duplicate,35.78,-78.64,,\n"
    output = run(write(tmp_path, "shelters.csv", text))
    assert "created 3" in output and "errors 4" in output
    assert "Line 5: latitude and longitude must be numbers" in output
    assert "Line 6: That location is outside" in output
    assert "Line 7: no id" in output
    assert "Line 8: the id 'S1' is already on line 2" in output
    assert set(Asset.objects.values_list("external_id", flat=True)) == {"S1", "S2", "S3"}


def test_a_bad_row_does_not_deactivate_its_asset(asset_type, tmp_path):
    path = write(tmp_path, "shelters.csv", GOOD_CSV)
    run(path)
    path.write_text(GOOD_CSV.replace("35.782", "north"), encoding="utf-8")
    output = run(path)
    assert "deactivated 0" in output and "Line 4" in output
    assert Asset.objects.get(external_id="S3").active


def test_a_row_with_more_values_than_columns_does_not_deactivate_its_asset(
    asset_type, tmp_path, volunteer
):
    path = write(tmp_path, "shelters.csv", GOOD_CSV)
    run(path)
    adoption_start(
        asset=Asset.objects.get(external_id="S2"), volunteer=volunteer, accept_terms=True
    )
    # An unquoted comma in a name: the row has one value too many, its id is still first.
    path.write_text(GOOD_CSV.replace("Main St at 2nd", "Main St, at 2nd"), encoding="utf-8")
    output = run(path)
    assert "deactivated 0" in output and "Line 3: more values than columns" in output
    s2 = Asset.objects.get(external_id="S2")
    assert s2.active and not s2.flagged_for_staff  # it left the map, flagged for staff


def test_an_id_that_cannot_be_a_web_address_is_a_bad_row(asset_type, tmp_path):
    text = GOOD_CSV.replace("S2,", "..,").replace("S3,", "S/3,")
    output = run(write(tmp_path, "shelters.csv", text))
    assert "created 1" in output
    assert "Line 3: the id '..' has a / or is only dots" in output
    assert "Line 4: the id 'S/3' has a / or is only dots" in output
    assert list(Asset.objects.values_list("external_id", flat=True)) == ["S1"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("shelters.csv", "name,lat,long\nA,35.78,-78.64\n", "No id column found"),
        ("shelters.geojson", "{not json", "not valid JSON"),
        ("shelters.geojson", '{"type": "Feature"}', "FeatureCollection"),
        ("shelters.csv", "id,lat,long\nS1,x,y\n", "no usable assets"),
        ("shelters.csv", "", "empty"),
    ],
)
def test_bad_file_is_refused_whole(asset_type, tmp_path, name, content, message):
    run(write(tmp_path, "first.csv", GOOD_CSV))
    with pytest.raises(CommandError, match=message):
        run(write(tmp_path, name, content))
    assert Asset.objects.filter(active=True).count() == 3  # nothing deactivated


def test_non_utf8_file_is_refused(asset_type, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("id,name,lat,long\nS1,Caf\xe9,35.78,-78.64\n".encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8"):
        run(path)
    assert not Asset.objects.exists()


def test_unknown_type_and_missing_file_exit_non_zero(asset_type, tmp_path):
    with pytest.raises(CommandError, match="No asset type 'drains'"):
        call_command("import_assets", str(tmp_path / "x.csv"), "--type", "drains")
    with pytest.raises(CommandError, match="Cannot read"):
        run(tmp_path / "missing.csv")


def test_dry_run_saves_nothing(asset_type, tmp_path):
    output = run(write(tmp_path, "shelters.csv", GOOD_CSV), "--dry-run")
    assert "Dry run, nothing saved: would have created 3" in output
    assert not Asset.objects.exists()


def test_csv_columns_by_option_and_semicolons(asset_type, tmp_path):
    text = "stop;label;Y;X\nA7;Oak Ave;35.79;-78.63\n"
    path = write(tmp_path, "stops.csv", text)
    run(path, "--id-column", "stop", "--name-column", "label", "--lat-column", "Y",
        "--long-column", "X")  # fmt: skip
    assert Asset.objects.get(external_id="A7").name == "Oak Ave"
    with pytest.raises(CommandError, match="The id column 'nope' is not in the file"):
        run(path, "--id-column", "nope")


def test_geojson_points_with_feature_numbers(asset_type, tmp_path):
    features = [
        {"type": "Feature", "id": "G1", "geometry": {"type": "Point",
         "coordinates": [-78.64, 35.78]}, "properties": {"name": "Oak", "bench": True}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-78.63, 35.79]},
         "properties": {"id": "G2", "name": "Elm"}},
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
         "properties": {"id": "G3"}},
    ]  # fmt: skip
    document = {"type": "FeatureCollection", "features": features}
    output = run(write(tmp_path, "shelters.geojson", json.dumps(document)))
    assert "created 2" in output and "Feature 3: its geometry is not a Point" in output
    g1 = Asset.objects.get(external_id="G1")
    assert (g1.lat, g1.long, g1.name, g1.attributes) == (35.78, -78.64, "Oak", {"bench": True})


def test_a_nul_character_skips_its_row_only(asset_type, tmp_path):
    # PostgreSQL's text and jsonb cannot hold one: the whole import was a DataError.
    output = run(write(tmp_path, "shelters.csv", GOOD_CSV.replace("at 2nd", "at\x002nd")))
    assert "created 2" in output and "Line 3: it contains a NUL character (\\x00)" in output
    features = [
        {"type": "Feature", "id": "G1", "geometry": {"type": "Point",
         "coordinates": [-78.64, 35.78]}, "properties": {"name": "Oak"}},
        {"type": "Feature", "id": "G2", "geometry": {"type": "Point",
         "coordinates": [-78.63, 35.79]}, "properties": {"note": ["fine", {"k\x00": 1}]}},
    ]  # fmt: skip
    document = {"type": "FeatureCollection", "features": features}
    output = run(write(tmp_path, "shelters.geojson", json.dumps(document)))
    assert "created 1" in output and "Feature 2: it contains a NUL character" in output
    assert set(Asset.objects.values_list("external_id", flat=True)) == {"S1", "S3", "G1"}


GTFS = """stop_id,stop_code,stop_name,stop_lat,stop_lon,location_type,parent_station,shelter
100,1001,Main & 1st,35.780,-78.640,0,,1
101,1002,Main & 2nd,35.781,-78.641,0,,0
102,,Central Station,35.782,-78.642,1,,1
103,1004,Main & 4th,35.783,-78.643,,,yes
"""


def test_gtfs_keeps_stops_with_a_shelter(asset_type, tmp_path):
    output = run(write(tmp_path, "stops.txt", GTFS))
    assert "created 2" in output and "Skipped 2 rows" in output
    assert set(Asset.objects.values_list("external_id", flat=True)) == {"100", "103"}
    stop = Asset.objects.get(external_id="100")
    assert stop.name == "Main & 1st" and stop.attributes == {"stop_code": "1001"}


def test_gtfs_without_a_shelter_column_imports_every_stop_and_says_so(asset_type, tmp_path):
    text = "\n".join(line.rsplit(",", 1)[0] for line in GTFS.splitlines()) + "\n"
    output = run(write(tmp_path, "stops.txt", text))
    assert "created 3" in output and "does not say which stops have a shelter" in output


def test_gtfs_without_its_columns_is_refused(asset_type, tmp_path):
    with pytest.raises(CommandError, match="not a GTFS stops.txt: it lacks stop_lat"):
        run(write(tmp_path, "stops.txt", "stop_id,stop_name\n1,A\n"))


def test_progress_bar_goes_to_stderr_with_verbosity(asset_type, tmp_path):
    rows = "".join(f"P{n},Stop {n},35.78,-78.64,,\n" for n in range(600))
    path = write(tmp_path, "many.csv", "id,name,lat,long,address,x\n" + rows)
    out, err = StringIO(), StringIO()
    call_command(
        "import_assets", str(path), "--type", "bus-shelter", "-v", "2", stdout=out, stderr=err
    )
    assert "600/600" in err.getvalue() and "created 600" in out.getvalue()
    err = StringIO()
    call_command("import_assets", str(path), "--type", "bus-shelter", stdout=out, stderr=err)
    assert err.getvalue() == ""  # not a terminal, no -v


def test_read_assets_refuses_a_file_with_no_rows():
    with pytest.raises(FileRefused):
        read_assets(b"id,lat,long\n", fmt="csv", columns=Columns())


def test_service_dry_run_reports_deactivations(asset_type):
    parsed = read_assets(GOOD_CSV.encode(), fmt="csv")
    assets_import(asset_type=asset_type, parsed=parsed)
    one = read_assets(b"id,lat,long\nS1,35.78,-78.64\n", fmt="csv")
    summary = assets_import(asset_type=asset_type, parsed=one, dry_run=True)
    assert summary.deactivated == 2 and Asset.objects.filter(active=True).count() == 3


def feature_text(fid: str, properties: str, geometry: str = "[-78.64, 35.78]") -> str:
    return (
        f'{{"type": "Feature", "id": {fid}, "properties": {properties}, '
        f'"geometry": {{"type": "Point", "coordinates": {geometry}}}}}'
    )


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (feature_text('"G2"', '{"name": "Oak \\ud800"}'), "lone UTF-16 surrogate"),
        (feature_text('"G2"', '{"\\udfff": 1}'), "lone UTF-16 surrogate"),
        (feature_text('"G2"', '{"a": ' + "[" * 900 + "]" * 900 + "}"), "nested more than 32"),
        (feature_text("true", "{}"), "its id is not text or a number"),
        (feature_text('{"a": 1}', "{}"), "its id is not text or a number"),
        (feature_text('"x"', '{"id": ["G2"]}'), "its id is not text or a number"),
    ],
)
def test_geojson_values_no_database_can_hold_skip_their_feature(asset_type, tmp_path, bad, message):
    # json.loads takes lone surrogates, which neither database can store: the import failed
    # with a traceback, and the admin's upload with a 500.
    good = feature_text('"G1"', '{"name": "Oak"}')
    text = f'{{"type": "FeatureCollection", "features": [{good}, {bad}]}}'
    output = run(write(tmp_path, "shelters.geojson", text))
    assert "created 1" in output and "Feature 2: " in output and message in output
    assert list(Asset.objects.values_list("external_id", flat=True)) == ["G1"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"type": "FeatureCollection", "n": 1' + "0" * 5000 + "}", "5,001 digits"),
        # Not JSON, though Python's reader takes them (civic311.geo.json_loads_strict).
        (feature_text('"G2"', '{"depth": NaN}'), "NaN is not a JSON number"),
        (feature_text('"G2"', '{"depth": -Infinity}'), "-Infinity is not a JSON number"),
        (feature_text('"G2"', '{"depth": [1e999]}'), "1e999 is too large"),
    ],
)
def test_geojson_python_cannot_parse_is_refused_whole(asset_type, tmp_path, text, message):
    with pytest.raises(CommandError, match=message):
        run(write(tmp_path, "shelters.geojson", text))
    assert not Asset.objects.exists()
