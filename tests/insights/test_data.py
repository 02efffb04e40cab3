"""Open data: exports (no contact field, no hidden report, streamed), the dump, /data/,
and the DCAT catalogues."""

from __future__ import annotations

import csv
import io
import json
import types
from datetime import timedelta
from pathlib import Path

import pytest
import rdflib
from django.utils import timezone
from jsonschema import Draft7Validator, FormatChecker

from reports.insights import catalogue, exports
from reports.insights.tasks import open_data_dump
from reports.services import triage
from tests.conftest import assert_no_private_data
from tests.factories import (
    BoundaryFactory,
    ServiceFactory,
    ServiceRequestFactory,
    UserFactory,
    square,
)

pytestmark = pytest.mark.django_db

SCHEMA = json.loads((Path(__file__).parent / "dcat_us_catalog.schema.json").read_text())


def body(response) -> str:
    return b"".join(response.streaming_content).decode()


def csv_rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body(response))))


def test_csv_export_has_public_fields_only_and_no_hidden_report(client) -> None:
    shown = ServiceRequestFactory(status_notes="Crew booked.")
    hidden = ServiceRequestFactory(hidden=True)
    redacted = ServiceRequestFactory(description="Rude words", description_redacted=True)
    response = client.get("/data/reports.csv")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    text = body(response)
    assert_no_private_data(text)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == exports.COLUMNS
    assert [int(r["service_request_id"]) for r in rows] == [shown.pk, redacted.pk]
    assert hidden.pk not in {int(r["service_request_id"]) for r in rows}
    assert rows[0]["status_notes"] == "Crew booked."
    assert rows[1]["description"] == exports.REDACTED
    assert "Rude words" not in text
    assert rows[0]["requested_datetime"].endswith("Z")


def test_no_export_column_reads_a_contact_field() -> None:
    private = {"reporter_name", "reporter_email", "reporter_phone", "device_id", "account_id"}
    assert not private & {f.source for f in exports.FIELDS}


def test_geojson_export_is_a_feature_collection_without_private_data(client) -> None:
    located = ServiceRequestFactory(lat=35.78, long=-78.64)
    address_only = ServiceRequestFactory(lat=None, long=None, address="1 Main St")
    ServiceRequestFactory(hidden=True)
    response = client.get("/data/reports.geojson")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    text = body(response)
    assert_no_private_data(text)
    data = json.loads(text)
    assert data["type"] == "FeatureCollection"
    features = {f["id"]: f for f in data["features"]}
    assert set(features) == {located.pk, address_only.pk}
    assert features[located.pk]["geometry"] == {"type": "Point", "coordinates": [-78.64, 35.78]}
    assert features[address_only.pk]["geometry"] is None
    assert set(features[located.pk]["properties"]) == set(exports.COLUMNS)


def test_empty_geojson_export_is_valid(client) -> None:
    assert json.loads(body(client.get("/data/reports.geojson")))["features"] == []


def test_export_filters_like_open311_plus_area(client) -> None:
    pothole, graffiti = ServiceFactory(service_code="pothole"), ServiceFactory()
    area = BoundaryFactory(geometry=square(35.0, -79.0, 35.1, -78.9))
    old = timezone.now() - timedelta(days=400)
    a = ServiceRequestFactory(service=pothole, area=area, requested_datetime=old)
    b = ServiceRequestFactory(service=pothole, status="closed", state="fixed")
    ServiceRequestFactory(service=graffiti, area=area)

    def ids(query: str) -> list[int]:
        return [
            int(r["service_request_id"]) for r in csv_rows(client.get(f"/data/reports.csv?{query}"))
        ]

    assert ids("service_code=pothole") == [a.pk, b.pk]  # no 90-day window
    assert ids("service_code=pothole&status=open") == [a.pk]
    assert ids(f"service_code=pothole&area={area.pk}") == [a.pk]
    start = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(f"service_code=pothole&start_date={start}") == [b.pk]
    assert ids(f"service_request_id={a.pk}") == [a.pk]
    assert ids("service_code=nothing-by-that-name") == []


@pytest.mark.parametrize(
    "query",
    [
        "start_date=yesterday",
        "status=lost",
        "area=999999",
        "bbox=1,2,3",
        "start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z",
    ],
)
def test_export_bad_filter_is_a_400_with_a_message(client, query: str) -> None:
    response = client.get(f"/data/reports.csv?{query}")
    assert response.status_code == 400
    assert response.content.strip()


def test_export_streams_in_blocks_without_listing_all_rows(client, monkeypatch) -> None:
    monkeypatch.setattr(exports, "BLOCK", 10)
    monkeypatch.setattr(exports, "CHUNK", 7)
    ServiceRequestFactory.create_batch(35)
    rows = exports.export_rows(exports.ServiceRequest.objects.all())
    assert isinstance(rows, types.GeneratorType)
    chunks = list(exports.csv_chunks(rows))
    # Three blocks of 10 rows (the header rides with the first), then the last 5.
    assert len(chunks) == 4
    assert sum(chunk.count(b"\n") for chunk in chunks) == 36
    stream = exports.stream("csv", exports.ServiceRequest.objects.all())
    assert isinstance(stream, types.GeneratorType)  # nothing is read before it is iterated
    response = client.get("/data/reports.csv")
    assert response.streaming
    assert b"".join(response.streaming_content).count(b"\n") == 36


def test_both_export_paths_agree(client) -> None:
    """PostgreSQL formats rows in the database; the Python path must say the same (to the
    byte: tests/insights/test_export_format.py), and the GeoJSON the same as the CSV."""
    ServiceRequestFactory(description='Line one\nline two, "quoted"', lat=None, long=None)
    ServiceRequestFactory(description_redacted=True, status_notes="Done.", zipcode="27601")
    via_python = b"".join(
        exports.csv_chunks(exports.export_rows(exports.ServiceRequest.objects.all()))
    )
    served = body(client.get("/data/reports.csv"))
    assert served.encode() == via_python
    rows = list(csv.reader(io.StringIO(served)))
    features = json.loads(body(client.get("/data/reports.geojson")))["features"]
    assert [list(f["properties"].values()) for f in features] == [
        [
            None if v == "" and c in NULLABLE else _typed(c, v)
            for c, v in zip(rows[0], row, strict=True)
        ]
        for row in rows[1:]
    ]


NULLABLE = {"expected_datetime", "closed_datetime", "lat", "long", "area", "agency_responsible"}


def _typed(column: str, value: str):
    if column == "service_request_id":
        return int(value)
    if column in {"lat", "long"}:
        return float(value)
    return value


def test_dump_is_written_whole_and_swapped_in(settings) -> None:
    ServiceRequestFactory()
    paths = open_data_dump.delay().get()
    assert sorted(Path(p).name for p in paths) == ["reports.csv", "reports.geojson"]
    root = Path(settings.OPEN_DATA_ROOT)
    assert sorted(p.name for p in root.iterdir()) == ["reports.csv", "reports.geojson"]
    assert_no_private_data((root / "reports.csv").read_text())
    json.loads((root / "reports.geojson").read_text())


def test_failed_dump_leaves_the_previous_file_and_no_temporary(settings, monkeypatch) -> None:
    ServiceRequestFactory()
    exports.dump_write("csv")
    before = exports.dump_path("csv").read_text()

    def broken(fmt, queryset):
        yield b"service_request_id\n"
        raise OSError("disk full")

    monkeypatch.setattr(exports, "STREAM", broken)
    with pytest.raises(OSError):
        exports.dump_write("csv")
    assert exports.dump_path("csv").read_text() == before
    assert [p.name for p in Path(settings.OPEN_DATA_ROOT).iterdir()] == ["reports.csv"]


def test_a_dump_written_across_a_takedown_is_not_put_in_place(settings, monkeypatch) -> None:
    ServiceRequestFactory()
    exports.dump_write("csv")
    written = exports.STREAM

    def taken_down_meanwhile(fmt, queryset):
        rows = list(written(fmt, queryset))  # read before the moderation...
        exports.dumps_retract()  # ...which takes the dumps down
        yield from rows

    monkeypatch.setattr(exports, "STREAM", taken_down_meanwhile)
    assert exports.dump_write("csv") is None
    assert not exports.dump_path("csv").exists()
    assert not [p for p in Path(settings.OPEN_DATA_ROOT).iterdir() if p.name.startswith(".reports")]
    monkeypatch.undo()
    assert exports.dump_write("csv") == exports.dump_path("csv")  # the next one goes in


def test_dump_is_served_with_its_size_on_the_data_page(client) -> None:
    # None yet: the live export, which is always current.
    assert client.get("/data/dumps/reports.csv")["Location"] == "/data/reports.csv"
    ServiceRequestFactory()
    exports.dump_write("csv")
    response = client.get("/data/dumps/reports.csv")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"service_request_id,")
    page = client.get("/data/")
    assert "Nightly full dump (CSV)" in page.content.decode()


def test_moderation_takes_the_dumps_down_until_they_are_written_again(
    client, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    hidden = ServiceRequestFactory(description="Neighbour John Smith at 12 Elm leaves trash")
    redacted = ServiceRequestFactory(description="Call Jane on 555-0100 about the hydrant")
    open_data_dump()
    staff = UserFactory(is_staff=True, is_superuser=True)
    queued = []
    monkeypatch.setattr(exports, "queue_after_commit", lambda task: queued.append(task))
    with django_capture_on_commit_callbacks(execute=True):
        triage.report_moderate(
            report=hidden, author=staff, hidden=True, description_redacted=False, reason="Names"
        )
    assert [task.name for task in queued] == ["reports.insights.tasks.open_data_dump"]
    for fmt in ("csv", "geojson"):  # gone at once, broker or not
        assert not exports.dump_path(fmt).exists()
        assert client.get(f"/data/dumps/reports.{fmt}")["Location"] == f"/data/reports.{fmt}"
    open_data_dump()
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):  # written again by the task
        triage.report_moderate(
            report=redacted, author=staff, hidden=False, description_redacted=True, reason="Phone"
        )
    for fmt in ("csv", "geojson"):
        text = exports.dump_path(fmt).read_text()
        assert str(redacted.pk) in text and "555-0100" not in text
        assert "John Smith" not in text


def test_data_page_shows_dictionary_licence_and_downloads(client, settings) -> None:
    settings.OPEN_DATA_LICENSE_NAME = "CC BY 4.0"
    settings.OPEN_DATA_LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"
    ServiceRequestFactory()
    response = client.get("/data/")
    assert response.status_code == 200
    text = response.content.decode()
    for field in exports.FIELDS:
        assert f"<code>{field.name}</code>" in text
    assert 'href="https://creativecommons.org/licenses/by/4.0/" rel="license">CC BY 4.0' in text
    assert "/data/reports.csv" in text and "/data/reports.geojson" in text
    assert "No nightly full dump at the moment" in text


def test_data_json_validates_against_dcat_us(client) -> None:
    ServiceRequestFactory()
    exports.dump_write("geojson")
    response = client.get("/data.json")
    assert response.status_code == 200
    catalogue = response.json()
    errors = list(Draft7Validator(SCHEMA, format_checker=FormatChecker()).iter_errors(catalogue))
    assert errors == []
    [reports, _services] = catalogue["dataset"]
    urls = {d.get("downloadURL") or d.get("accessURL") for d in reports["distribution"]}
    assert "http://testserver/data/reports.csv" in urls
    assert "http://testserver/data/dumps/reports.geojson" in urls
    assert reports["license"].startswith("https://")
    assert "bureauCode" not in reports


def test_data_json_of_a_federal_agency_carries_omb_codes(client, settings) -> None:
    settings.OPEN_DATA_BUREAU_CODE = "015:11"
    settings.OPEN_DATA_PROGRAM_CODE = "015:001"
    catalogue = client.get("/data.json").json()
    assert Draft7Validator(SCHEMA).is_valid(catalogue)
    assert catalogue["dataset"][0]["bureauCode"] == ["015:11"]


def test_dcat_us_schema_catches_a_broken_catalogue() -> None:
    validator = Draft7Validator(SCHEMA, format_checker=FormatChecker())
    broken = {"conformsTo": "https://project-open-data.cio.gov/v1.1/schema", "dataset": [{}]}
    assert not validator.is_valid(broken)


def test_dcat_ap_json_ld_describes_the_same_distributions(client) -> None:
    response = client.get("/data/catalog.jsonld")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/ld+json"
    data = response.json()
    assert data["@type"] == "dcat:Catalog"
    assert "dcat" in data["@context"] and "dct" in data["@context"]
    dataset = data["dcat:dataset"][0]
    assert dataset["@type"] == "dcat:Dataset"
    assert all(d["dct:license"] for d in dataset["dcat:distribution"])


# rdflib's JSON-LD parser still uses its own deprecated ConjunctiveGraph.
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_dcat_ap_read_as_rdf_names_media_types_and_formats_by_iri(client) -> None:
    """DCAT-AP wants a distribution's media type and format as resources (IANA's, the EU's
    file types): as text, harvesters checking DCAT-AP refuse the distribution or drop it."""
    ServiceRequestFactory()
    graph = rdflib.Graph().parse(data=client.get("/data/catalog.jsonld").content, format="json-ld")
    dcat, dct = rdflib.Namespace("http://www.w3.org/ns/dcat#"), rdflib.DCTERMS
    distributions = set(graph.subjects(rdflib.RDF.type, dcat.Distribution))
    media_types = {graph.value(d, dcat.mediaType) for d in distributions}
    formats = {graph.value(d, dct.format) for d in distributions}
    iana, eu = "http://www.iana.org/assignments/media-types/", catalogue.EU_FILE_TYPE
    assert media_types == {
        rdflib.URIRef(iana + kind)
        for kind in ("text/csv", "application/geo+json", "application/json")
    }
    assert formats == {rdflib.URIRef(eu + kind) for kind in ("CSV", "GEOJSON", "JSON")}
    [dataset] = graph.subjects(dcat.distribution, next(iter(distributions)), unique=True)
    modified = graph.value(dataset, dct.modified)
    assert isinstance(modified, rdflib.Literal) and modified.datatype == rdflib.XSD.dateTime


def test_last_change_moves_when_a_report_is_hidden(client) -> None:
    """Hiding a report takes its row out of the data: the catalogues' modified date and the
    page's "last change" move with it, so a portal that harvests on a change takes it out too."""
    kept = ServiceRequestFactory(updated_datetime=timezone.now() - timedelta(days=2))
    hidden = ServiceRequestFactory(updated_datetime=timezone.now() - timedelta(days=3))
    before = client.get("/data.json").json()["dataset"][0]["modified"]
    assert before == catalogue._iso(kept.updated_datetime)
    staff = UserFactory(is_staff=True, is_superuser=True)
    triage.report_moderate(
        report=hidden, author=staff, hidden=True, description_redacted=False, reason="Abusive"
    )
    hidden.refresh_from_db()
    assert hidden.updated_datetime > kept.updated_datetime
    after = client.get("/data.json").json()["dataset"][0]["modified"]
    assert after == catalogue._iso(hidden.updated_datetime)
    assert (
        f"{timezone.localtime(hidden.updated_datetime):%H:%M}"
        in client.get("/data/").content.decode()
    )
    jsonld = client.get("/data/catalog.jsonld").json()
    assert jsonld["dcat:dataset"][0]["dct:modified"] == after


@pytest.mark.parametrize("fmt", ["csv", "geojson"])
def test_an_export_of_a_service_code_naming_nothing_is_empty(client, fmt: str) -> None:
    ServiceRequestFactory()
    response = client.get(f"/data/reports.{fmt}?service_code=nothing-by-that-name")
    assert response.status_code == 200
    text = body(response)
    if fmt == "csv":
        assert len(text.strip().splitlines()) == 1  # the header alone
    else:
        assert json.loads(text)["features"] == []


def test_last_change_moves_when_a_report_is_deleted(client) -> None:
    """Deleting the latest-changed report takes its row out: modified must not go back."""
    older = ServiceRequestFactory(updated_datetime=timezone.now() - timedelta(days=3))
    newer = ServiceRequestFactory(updated_datetime=timezone.now() - timedelta(days=1))
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    url = f"/admin/reports/servicerequest/{newer.pk}/delete/"
    assert client.post(url, {"post": "yes"}).status_code == 302
    client.logout()
    modified = client.get("/data.json").json()["dataset"][0]["modified"]
    assert modified > catalogue._iso(older.updated_datetime)
    assert modified >= catalogue._iso(timezone.now() - timedelta(minutes=1))
