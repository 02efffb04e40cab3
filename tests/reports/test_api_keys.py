"""API keys: created by command or admin, shown once, stored only as a hash."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from reports.models import ApiKey, ServiceRequest
from tests.factories import CITY_CENTRE, ServiceFactory, UserFactory, api_key_create

pytestmark = pytest.mark.django_db


def test_create_api_key_command_prints_key_once_and_stores_hash():
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "create_api_key", "Greenway app", "--email", "dev@example.org", stdout=out, stderr=err
    )

    raw = out.getvalue().strip()
    key = ApiKey.objects.get()
    assert key.name == "Greenway app"
    assert key.contact_email == "dev@example.org"
    assert key.key_hash == ApiKey.hash_key(raw)
    assert key.prefix == raw[:8]
    assert len(raw) >= 40
    assert raw not in str(ApiKey.objects.values_list())  # only the hash is stored
    assert "shown only now" in err.getvalue()


def test_create_api_key_command_refuses_bad_input():
    with pytest.raises(CommandError, match="name"):
        call_command("create_api_key", "  ", stdout=io.StringIO())
    with pytest.raises(CommandError, match="email"):
        call_command("create_api_key", "App", "--email", "nope", stdout=io.StringIO())
    assert not ApiKey.objects.exists()


def test_new_key_from_command_files_a_report(client):
    ServiceFactory(service_code="pothole")
    out = io.StringIO()
    call_command("create_api_key", "Greenway app", stdout=out, stderr=io.StringIO())

    response = client.post(
        "/open311/v2/requests.json",
        {
            "api_key": out.getvalue().strip(),
            "service_code": "pothole",
            "lat": CITY_CENTRE[0],
            "long": CITY_CENTRE[1],
        },
    )

    assert response.status_code == 200
    assert ServiceRequest.objects.get().api_key.name == "Greenway app"


def test_admin_add_generates_key_and_shows_it_once(client, superuser):
    client.force_login(superuser)

    response = client.post(
        "/admin/reports/apikey/add/",
        {"name": "Greenway app", "contact_email": "dev@example.org", "active": "on"},
        follow=True,
    )

    assert response.status_code == 200
    key = ApiKey.objects.get()
    shown = [str(m) for m in response.context["messages"]]
    (message,) = [m for m in shown if "not be shown again" in m]
    raw = message.split(" is ", 1)[1].split(" ", 1)[0]
    assert ApiKey.hash_key(raw) == key.key_hash
    # The change page never shows the secret again.
    page = client.get(f"/admin/reports/apikey/{key.pk}/change/").content.decode()
    assert raw not in page and key.key_hash not in page


def test_admin_list_shows_key_columns(client, superuser):
    key, raw = api_key_create("Bus shelter app")
    client.force_login(superuser)

    response = client.get("/admin/reports/apikey/")

    assert response.status_code == 200
    text = response.content.decode()
    assert "Bus shelter app" in text and key.prefix in text
    assert raw not in text


def test_admin_deactivating_a_key_refuses_its_posts(client, superuser):
    key, raw = api_key_create()
    ServiceFactory(service_code="pothole")
    client.force_login(superuser)
    client.post(
        f"/admin/reports/apikey/{key.pk}/change/",
        {"name": key.name, "contact_email": "", "active": ""},
    )
    client.logout()

    response = client.post(
        "/open311/v2/requests.json",
        {"api_key": raw, "service_code": "pothole", "lat": CITY_CENTRE[0], "long": CITY_CENTRE[1]},
    )

    assert response.status_code == 403
    assert not ServiceRequest.objects.exists()


def test_admin_api_keys_refused_to_non_staff(client):
    api_key_create()
    client.force_login(UserFactory(username="someone"))

    response = client.get("/admin/reports/apikey/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
