"""The site's own pages for "not found" and for a server error: the site's look and a way
on, never Django's bare text."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.views.defaults import server_error

from tests.factories import ServiceRequestFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/no-such-page/", "hidden", "/reports/999999/"])
def test_a_page_not_found_is_the_sites_own(client, path):
    if path == "hidden":
        path = ServiceRequestFactory(hidden=True).get_absolute_url()
    response = client.get(path)
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Page not found</h1>" in html and 'href="/reports/new/"' in html
    assert 'class="site-header"' in html  # the site's header and navigation


def test_a_server_error_is_the_sites_own():
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html and 'href="/"' in html
    assert "/static/css/civic311" in html
