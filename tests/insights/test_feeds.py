"""Atom feeds: content, scope, and no hidden report or private data."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from tests.conftest import assert_no_private_data
from tests.factories import (
    BoundaryFactory,
    RequestUpdateFactory,
    ServiceFactory,
    ServiceRequestFactory,
    square,
)

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def entries(response) -> list[ElementTree.Element]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    assert_no_private_data(response.content.decode())
    return ElementTree.fromstring(response.content).findall(f"{ATOM}entry")


def titles(response) -> list[str]:
    return [e.findtext(f"{ATOM}title") for e in entries(response)]


def test_reports_feed_lists_new_public_reports(client) -> None:
    shown = ServiceRequestFactory(service=ServiceFactory(name="Pothole"), address="5 Oak Ave")
    ServiceRequestFactory(hidden=True, description="HIDDEN-TEXT")
    response = client.get("/insights/feeds/reports/")
    [entry] = entries(response)
    assert entry.findtext(f"{ATOM}title") == f"Pothole #{shown.pk}"
    assert "5 Oak Ave" in entry.findtext(f"{ATOM}summary")
    assert entry.find(f"{ATOM}link").get("href").endswith(f"/reports/{shown.pk}/")
    assert "HIDDEN-TEXT" not in response.content.decode()


def test_control_characters_in_a_report_leave_the_feeds_whole(client) -> None:
    """XML 1.0 cannot carry them, and a citizen's text may hold them: they are dropped
    (every feed was a 500 while such a report was in it)."""
    area = BoundaryFactory(name="Oakwood", geometry=square(35.0, -79.0, 35.1, -78.9))
    service = ServiceFactory(name="Fallen tree", service_code="tree")
    report = ServiceRequestFactory(
        service=service, area=area, description="fallen\x01 tree\x1b", address="5 Oak\x0b Ave"
    )
    RequestUpdateFactory(request=report, public=True, text="Crew\x08 booked.")
    for url in (
        "/insights/feeds/reports/",
        "/insights/feeds/category/tree/",
        f"/insights/feeds/area/{area.pk}/",
    ):
        [entry] = entries(client.get(url))
        assert entry.findtext(f"{ATOM}summary").startswith("fallen tree — 5 Oak Ave")
    [update] = entries(client.get(f"/insights/feeds/report/{report.pk}/"))
    assert "Crew booked." in ElementTree.tostring(update, encoding="unicode")


def test_redacted_description_stays_redacted_in_the_feed(client) -> None:
    ServiceRequestFactory(description="Rude words", description_redacted=True)
    response = client.get("/insights/feeds/reports/")
    assert "Rude words" not in response.content.decode()
    assert "removed by moderator" in response.content.decode()


def test_category_and_area_feeds_are_scoped(client) -> None:
    syringe = ServiceFactory(name="Found syringe", service_code="syringe")
    other = ServiceFactory(name="Graffiti")
    area = BoundaryFactory(name="Oakwood", geometry=square(35.0, -79.0, 35.1, -78.9))
    a = ServiceRequestFactory(service=syringe, area=area)
    ServiceRequestFactory(service=other, area=area)
    ServiceRequestFactory(service=syringe)
    assert len(titles(client.get("/insights/feeds/category/syringe/"))) == 2
    area_titles = titles(client.get(f"/insights/feeds/area/{area.pk}/"))
    assert f"Found syringe #{a.pk}" in area_titles and len(area_titles) == 2
    assert client.get("/insights/feeds/category/unknown/").status_code == 404
    assert client.get("/insights/feeds/area/999999/").status_code == 404


def test_report_feed_has_public_updates_only(client) -> None:
    report = ServiceRequestFactory()
    RequestUpdateFactory(request=report, text="Crew booked for Tuesday.")
    RequestUpdateFactory(request=report, text="INTERNAL NOTE", public=False)
    RequestUpdateFactory(
        request=report, kind="state", state_from="new", state_to="fixed", text="Filled."
    )
    response = client.get(f"/insights/feeds/report/{report.pk}/")
    assert titles(response) == ["Status change: Closed: fixed", "Note"]
    assert "INTERNAL NOTE" not in response.content.decode()


def test_hidden_report_has_no_feed(client) -> None:
    report = ServiceRequestFactory(hidden=True)
    assert client.get(f"/insights/feeds/report/{report.pk}/").status_code == 404


def test_feed_query_count_is_constant(client, django_assert_max_num_queries) -> None:
    ServiceRequestFactory.create_batch(20)
    with django_assert_max_num_queries(2):
        client.get("/insights/feeds/reports/")


def test_a_citizens_markup_reaches_a_reader_as_text(client) -> None:
    """Atom's summary is marked as HTML: a reader decodes it once and renders the result.
    A description's tags must come out as the characters typed, not a link or an image."""
    text = 'See <a href="http://evil.example/">photo</a> <img src="http://t.example/p.gif"> & more'
    report = ServiceRequestFactory(description=text, address="")
    RequestUpdateFactory(request=report, text="<b>Crew</b> booked")
    for url in ("/insights/feeds/reports/", f"/insights/feeds/report/{report.pk}/"):
        entry = entries(client.get(url))[0]
        summary = entry.find(f"{ATOM}summary")
        assert summary.get("type") == "html"
        # What a reader renders as HTML: the tags come escaped, so no element is made.
        assert "<" not in summary.text and "&lt;" in summary.text


def test_feeds_are_valid_atom_with_an_author_and_each_entrys_update(client) -> None:
    report = ServiceRequestFactory()
    RequestUpdateFactory(request=report, text="Crew booked for Tuesday.")
    for url in ("/insights/feeds/reports/", f"/insights/feeds/report/{report.pk}/"):
        feed = ElementTree.fromstring(client.get(url).content)
        assert feed.findtext(f"{ATOM}author/{ATOM}name").endswith(" 311")
        for entry in feed.findall(f"{ATOM}entry"):
            assert len(entry.findall(f"{ATOM}updated")) == 1  # RFC 4287 4.1.2


def test_feeds_are_cached_a_minute_and_revalidated_by_etag(client) -> None:
    report = ServiceRequestFactory()
    first = client.get("/insights/feeds/reports/")
    assert "public" in first["Cache-Control"] and "max-age=60" in first["Cache-Control"]
    again = client.get("/insights/feeds/reports/", headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304
    ServiceRequestFactory._meta.model.objects.filter(pk=report.pk).update(hidden=True)
    changed = client.get("/insights/feeds/reports/", headers={"If-None-Match": first["ETag"]})
    assert changed.status_code == 200 and not entries(changed)


def test_a_report_held_back_enters_the_feed_when_it_is_public(client) -> None:
    """A reporter may keep a report private for up to 110 minutes: sent first but public
    last, it comes first in the feed, not below the 50 reports sent while it waited."""
    now = timezone.now()
    held = ServiceRequestFactory(
        requested_datetime=now - timedelta(minutes=110), published_at=now - timedelta(seconds=5)
    )
    for minutes in range(100, 50, -1):
        ServiceRequestFactory(requested_datetime=now - timedelta(minutes=minutes))
    [first, *_] = entries(client.get("/insights/feeds/reports/"))
    assert first.find(f"{ATOM}link").get("href").endswith(f"/reports/{held.pk}/")


def test_a_report_feed_entry_leads_to_its_update_on_the_report_page(client) -> None:
    """Each entry's link names the update (#update-<id>); the page had no such anchor, so a
    reader's click landed at the top of the page instead of at the update."""
    report = ServiceRequestFactory()
    RequestUpdateFactory(request=report, text="Crew sent.")
    response = client.get(f"/insights/feeds/report/{report.pk}/")
    links = [e.find(f"{ATOM}link").get("href") for e in entries(response)]
    assert links
    page = client.get(f"/reports/{report.pk}/").content.decode()
    for link in links:
        path, fragment = link.split("#")
        assert path.endswith(f"/reports/{report.pk}/")
        assert f'id="{fragment}"' in page
