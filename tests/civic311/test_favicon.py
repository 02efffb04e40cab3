"""Every page names the portal's icon, so no browser asks for /favicon.ico (a 404, logged
as an error in the console of every admin page)."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db
ICON = re.compile(r'<link rel="icon" href="/static/(?P<path>[^"]+)"')


def icon_path(html: str) -> str:
    match = ICON.search(html)
    assert match, "the page names no icon"
    return match["path"]


@pytest.mark.parametrize("path", ["/", "/admin/login/"])
def test_public_pages_and_the_admin_login_name_an_icon_that_exists(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert finders.find(icon_path(response.content.decode()))


@pytest.mark.parametrize("path", ["/admin/", "/admin/reports/servicerequest/"])
def test_admin_pages_name_the_icon(client, superuser, path):
    client.force_login(superuser)
    response = client.get(path)

    assert response.status_code == 200
    assert finders.find(icon_path(response.content.decode()))
