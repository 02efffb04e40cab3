from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from departments.models import Boundary
from departments.permissions import STAFF_GROUP_NAME
from tests.factories import BoundaryFactory, StaffMembershipFactory, square

pytestmark = pytest.mark.django_db
ADD = reverse("admin:departments_boundary_add")
AREA = square(35.77, -78.66, 35.79, -78.64)


def test_add_boundary_from_drawn_geojson(client, superuser):
    client.force_login(superuser)
    response = client.post(
        ADD, {"name": "Oakwood", "kind": "neighbourhood", "geometry": json.dumps(AREA)}
    )
    assert response.status_code == 302
    boundary = Boundary.objects.get(name="Oakwood")
    assert (boundary.min_lat, boundary.max_lat, boundary.min_long) == (35.77, 35.79, -78.66)


def test_neighbourhood_whose_address_is_taken_is_refused(client, superuser):
    # Both would be /areas/st-johns/, and the second page could never be reached.
    Boundary.objects.create(name="St. John's", kind="neighbourhood", geometry=AREA)
    client.force_login(superuser)
    data = {"name": "St Johns", "kind": "neighbourhood", "geometry": json.dumps(AREA)}
    response = client.post(ADD, data)
    assert response.status_code == 200
    assert "already has the address /areas/st-johns/" in response.content.decode()
    assert not Boundary.objects.filter(name="St Johns").exists()
    assert client.post(ADD, {**data, "kind": "district"}).status_code == 302  # no page


def test_add_boundary_from_uploaded_file(client, superuser):
    client.force_login(superuser)
    upload = SimpleUploadedFile(
        "oakwood.geojson",
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "properties": {}, "geometry": AREA}],
            }
        ).encode(),
    )
    response = client.post(
        ADD, {"name": "Oakwood", "kind": "neighbourhood", "geometry": "", "geojson_file": upload}
    )
    assert response.status_code == 302
    assert Boundary.objects.get(name="Oakwood").geometry["type"] == "Polygon"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {
                "geometry": json.dumps(
                    {
                        "type": "Polygon",
                        "coordinates": [
                            [
                                [-78.6, 35.7],
                                [-78.5, 35.8],
                                [-78.5, 35.7],
                                [-78.6, 35.8],
                                [-78.6, 35.7],
                            ]
                        ],
                    }
                )
            },
            "Invalid geometry: Self-intersection",
        ),
        (
            {"geometry": json.dumps({"type": "Point", "coordinates": [-78.6, 35.7]})},
            "Expected a Polygon or MultiPolygon",
        ),
        ({"geometry": ""}, "Draw the area on the map or upload a GeoJSON file."),
        (
            {"geometry": "", "geojson_file": SimpleUploadedFile("x.geojson", b"%PDF-1.4")},
            "Not a GeoJSON file",
        ),
    ],
)
def test_invalid_geometry_is_a_clear_form_error(client, superuser, data, expected):
    client.force_login(superuser)
    response = client.post(ADD, {"name": "Bad", "kind": "neighbourhood", **data})
    assert response.status_code == 200
    assert expected in response.content.decode()
    assert not Boundary.objects.exists()


def test_boundary_pages_show_maps(client, superuser):
    boundary = BoundaryFactory(name="Oakwood")
    client.force_login(superuser)
    page = client.get(
        reverse("admin:departments_boundary_change", args=[boundary.pk])
    ).content.decode()
    assert 'data-map-kind="editor"' in page and "leaflet.draw.js" in page
    response = client.get(reverse("admin:departments_boundary_changelist"))
    assert 'data-map-kind="boundaries"' in response.content.decode()
    assert response.context["boundary_map"]["geojson"]["features"][0]["properties"][
        "name"
    ].startswith("Oakwood")


def test_staff_view_boundaries_but_cannot_change_them(client):
    membership = StaffMembershipFactory()
    membership.user.groups.add(Group.objects.get(name=STAFF_GROUP_NAME))
    boundary = BoundaryFactory()
    client.force_login(membership.user)
    url = reverse("admin:departments_boundary_change", args=[boundary.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"name": "Renamed", "kind": "district", "geometry": json.dumps(AREA)}
    )
    assert response.status_code == 403
    assert (
        client.post(
            ADD, {"name": "New", "kind": "district", "geometry": json.dumps(AREA)}
        ).status_code
        == 403
    )
    assert Boundary.objects.get().name == boundary.name


def test_an_area_outside_the_city_is_a_form_error_drawn_or_uploaded(client, superuser):
    client.force_login(superuser)
    far = square(48.8, 2.3, 48.9, 2.4)
    response = client.post(ADD, {"name": "Far", "kind": "district", "geometry": json.dumps(far)})
    assert response.status_code == 200
    assert "The area lies wholly outside" in response.content.decode()
    upload = SimpleUploadedFile("far.geojson", json.dumps(far).encode())
    data = {"name": "Far", "kind": "district", "geometry": "", "geojson_file": upload}
    response = client.post(ADD, data)
    assert response.status_code == 200
    assert "The area lies wholly outside" in response.content.decode()
    assert not Boundary.objects.exists()
