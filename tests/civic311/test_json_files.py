"""GeoJSON from outside (the three import commands, the boundary admin's upload and drawn
area) that Python's json module mishandles is refused with a message, never a traceback or a
server error, and nothing is stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from adoptions.models import Asset, AssetType
from departments.models import Boundary
from places.models import AddressPoint

pytestmark = pytest.mark.django_db

RING = "[[-78.66, 35.77], [-78.64, 35.77], [-78.64, 35.79], [-78.66, 35.77]]"
NAN_RING = "[[NaN, 35.77], [-78.64, 35.77], [-78.64, 35.79], [NaN, 35.77]]"


def collection(geometry: str, properties: str) -> str:
    feature = f'{{"type": "Feature", "geometry": {geometry}, "properties": {properties}}}'
    return f'{{"type": "FeatureCollection", "features": [{feature}]}}'


POINT = '{"type": "Point", "coordinates": [-78.65, 35.78]}'
PROPERTIES = '{"id": "S1", "name": "Oak", "number": "1", "street": "Main Street"}'
HOSTILE = {
    # RecursionError from the decoder
    "nested": "[" * 100_000 + "]" * 100_000,
    # ValueError: "Exceeds the limit (4300 digits) for integer string conversion"
    "huge number": collection(POINT, '{"id": ' + "9" * 5000 + ', "name": "Oak"}'),
    # not JSON; Python reads NaN, and a ring with a NaN corner made GEOS raise
    "NaN": collection(f'{{"type": "Polygon", "coordinates": [{NAN_RING}]}}', PROPERTIES),
    "Infinity": collection('{"type": "Point", "coordinates": [Infinity, 35.78]}', PROPERTIES),
}
MESSAGES = ("nested too deeply", "a number of 5,000 digits", "NaN is not a JSON number",
            "Infinity is not a JSON number")  # fmt: skip


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "city.geojson"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("text", "message"), list(zip(HOSTILE.values(), MESSAGES, strict=True)))
def test_the_imports_refuse_json_python_mishandles(tmp_path, text, message) -> None:
    path = str(write(tmp_path, text))
    shelter = AssetType.objects.get(slug="bus-shelter")
    commands = (
        ("import_addresses", path),
        ("import_boundaries", path, "--kind", "neighbourhood"),
        ("import_assets", path, "--type", shelter.slug),
    )
    for command in commands:
        with pytest.raises(CommandError, match=message):
            call_command(*command)
    assert not AddressPoint.objects.exists()
    assert not Boundary.objects.exists()
    assert not Asset.objects.exists()


def test_a_good_file_still_imports(tmp_path) -> None:
    call_command("import_addresses", str(write(tmp_path, collection(POINT, PROPERTIES))))
    assert AddressPoint.objects.count() == 1
    area = collection(f'{{"type": "Polygon", "coordinates": [{RING}]}}', PROPERTIES)
    call_command("import_boundaries", str(write(tmp_path, area)), "--kind", "neighbourhood")
    assert Boundary.objects.get().name == "Oak"


@pytest.mark.parametrize("name", ["nested", "huge number", "NaN"])
def test_the_boundary_admin_refuses_them_as_a_form_error(client, superuser, name) -> None:
    client.force_login(superuser)
    add = reverse("admin:departments_boundary_add")
    upload = SimpleUploadedFile("area.geojson", HOSTILE[name].encode())
    data = {"name": "Bad", "kind": "neighbourhood", "geometry": "", "geojson_file": upload}
    response = client.post(add, data)
    assert response.status_code == 200
    assert "Not a GeoJSON file" in response.content.decode()
    drawn = f'{{"type": "Polygon", "coordinates": [{NAN_RING}]}}'
    response = client.post(add, {"name": "Bad", "kind": "neighbourhood", "geometry": drawn})
    assert response.status_code == 200
    assert "Malformed coordinates" in response.content.decode()  # was a server error
    assert not Boundary.objects.exists()


@pytest.mark.parametrize("properties", ["[1, 2]", '"Oak"', '{"name": {"a": 1}}', '{"name": [1]}'])
def test_properties_that_are_not_an_object_or_a_name_that_is_not_text(tmp_path, properties):
    """A list or a string as a feature's properties ended import_boundaries in an
    AttributeError and import_addresses in a TypeError; an object as the name was stored
    as the boundary "{'a': 1}"."""
    area = collection(f'{{"type": "Polygon", "coordinates": [{RING}]}}', properties)
    path = str(write(tmp_path, area))
    with pytest.raises(CommandError, match="properties are not an object|property is not text"):
        call_command("import_boundaries", path, "--kind", "neighbourhood")
    call_command("import_addresses", path)  # the row has no street: skipped, listed
    assert not Boundary.objects.exists() and not AddressPoint.objects.exists()
