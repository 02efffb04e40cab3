"""The dashboard and the hotspot map: content, filters, CSV, constant query counts."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from departments.areasets import area_set_for
from departments.models import Boundary, Department
from reports.models import Service
from tests.conftest import assert_errors_described, assert_no_private_data
from tests.factories import (
    BoundaryFactory,
    DepartmentFactory,
    ServiceFactory,
    ServiceRequestFactory,
    square,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def city():
    roads = DepartmentFactory(name="Roads", slug="roads")
    health = DepartmentFactory(name="Health", slug="health")
    pothole = ServiceFactory(name="Pothole", service_code="pothole", department=roads)
    syringe = ServiceFactory(name="Found syringe", service_code="syringe", department=health)
    north = BoundaryFactory(name="Northside", geometry=square(35.78, -78.66, 35.80, -78.62))
    south = BoundaryFactory(name="Southside", geometry=square(35.74, -78.66, 35.76, -78.62))
    return {"pothole": pothole, "syringe": syringe, "north": north, "south": south}


def make_reports(city, n: int) -> None:
    now = timezone.now()
    for i in range(n):
        requested = now - timedelta(days=i % 40, hours=3)
        closed = i % 3 == 0
        ServiceRequestFactory(
            service=city["syringe"] if i % 2 else city["pothole"],
            area=city["north"] if i % 4 else city["south"],
            lat=35.79 if i % 4 else 35.75,
            long=-78.64,
            requested_datetime=requested,
            status="closed" if closed else "open",
            state="fixed" if closed else "new",
            closed_datetime=requested + timedelta(hours=5 + i) if closed else None,
            expected_datetime=requested + timedelta(hours=24),
        )
    ServiceRequestFactory(
        service=city["pothole"], hidden=True, description="HIDDEN-REPORT-TEXT", area=city["north"]
    )


def test_dashboard_shows_every_figure_with_tables_and_csv_links(client, city) -> None:
    make_reports(city, 12)
    response = client.get("/insights/")
    assert response.status_code == 200
    text = response.content.decode()
    for heading in (
        "New reports per week by category",
        "Top categories this month",
        "Open backlog by department",
        "New and closed reports per week",
        "Response time by department",
        "Response time by category",
    ):
        assert heading in text
    assert text.count("Show the numbers as a table") == 2
    for slug in ("weekly-by-category", "top-categories", "backlog", "new-vs-closed"):
        assert f"/insights/{slug}.csv" in text
    assert '<svg class="chart__svg"' in text
    assert "small sample" in text  # fewer than 10 closed per department
    assert "HIDDEN-REPORT-TEXT" not in text
    assert_no_private_data(text)
    assert "<script" not in text.split("</footer>")[0].split("<main")[1]  # no inline script
    assert 'style="' not in text


def test_dashboard_filters_make_a_permalink(client, city) -> None:
    make_reports(city, 8)
    response = client.get(f"/insights/?period=90&service=syringe&area={city['north'].pk}")
    assert response.status_code == 200
    filters = response.context["filters"]
    assert filters.service == city["syringe"] and filters.area == city["north"]
    assert (
        f"?period=90&amp;service=syringe&amp;area={city['north'].pk}" in response.content.decode()
    )
    weekly = response.context["weekly"]
    assert [name for name, _ in weekly.series] == ["Found syringe"]


def test_dashboard_bad_filters_show_an_error_not_a_500(client, city) -> None:
    response = client.get("/insights/?start=2026-05-01&end=2026-01-01&service=nope&area=abc")
    assert response.status_code == 400  # the figures fall back to the defaults
    text = response.content.decode()
    assert "must be on or before" in text
    assert "Select a valid choice" in text
    assert_errors_described(text)
    assert 'class="error-summary" role="alert" tabindex="-1"' in text  # it takes the focus


def test_a_from_date_after_today_alone_is_refused_not_a_backwards_period(client, city) -> None:
    """ "To" defaults to today: "From" next year alone made the page show "1 Jun 2027 to
    6 Dec 2026" and its figures, and the CSV an empty table, as if nothing was wrong."""
    start = (timezone.localdate() + timedelta(days=30)).isoformat()
    response = client.get(f"/insights/?start={start}")
    assert response.status_code == 400
    assert "must be on or before today" in response.content.decode()
    assert response.context["filters"].start < response.context["filters"].end
    csv_response = client.get(f"/insights/new-vs-closed.csv?start={start}")
    assert csv_response.status_code == 400
    assert client.get(f"/insights/map/?start={start}").status_code == 400
    today = timezone.localdate().isoformat()
    assert client.get(f"/insights/?start={today}").status_code == 200


def test_hotspot_map_bad_filters_are_described_to_a_screen_reader(client, city) -> None:
    """The map's filter fields named their error (aria-describedby="id_start_error"), but the
    error had no such id: a screen reader read the field without the reason."""
    response = client.get("/insights/map/?start=2026-13-01&service=nope")
    assert response.status_code == 400
    assert_errors_described(response.content.decode())


def test_figure_csv_matches_the_table(client, city) -> None:
    make_reports(city, 6)
    response = client.get("/insights/backlog.csv?department=health")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="backlog.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["Department", "Open reports", "Past target"]
    assert [row[0] for row in rows[1:]] == ["Health"]
    assert client.get("/insights/nothing.csv").status_code == 404


@pytest.mark.parametrize("url", ["/insights/", "/insights/map/", "/insights/map/reports/"])
def test_query_count_does_not_grow_with_reports(
    client, city, url, django_assert_num_queries
) -> None:
    make_reports(city, 4)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    make_reports(city, 30)
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_hotspot_map_counts_cells_and_neighbourhoods(client, city) -> None:
    make_reports(city, 8)
    response = client.get("/insights/map/?service=pothole")
    assert response.status_code == 200
    areas = response.context["top_areas"]
    # Potholes are the even reports: i = 0, 4 in Southside, 2, 6 in Northside.
    assert [(a["area"].boundary.name, a["area"].count) for a in areas] == [
        ("Northside", 2),
        ("Southside", 2),
    ]
    assert sum(c.count for c in response.context["top_cells"]) == 4
    data = json.loads(
        response.content.decode()
        .split('id="hotspot-map-data" type="application/json">')[1]
        .split("</script>")[0]
    )
    assert {a["name"] for a in data["areas"]} == {"Northside", "Southside"}
    assert all(len(cell) == 6 for cell in data["cells"])
    assert "HIDDEN-REPORT-TEXT" not in response.content.decode()
    # base.html names the reports list "list_url"; the table links to the area's list.
    north = f'/insights/map/reports/?service=pothole&amp;area={city["north"].pk}">Northside<'
    assert north in response.content.decode()


def test_hotspot_area_and_cell_list_their_reports(client, city) -> None:
    make_reports(city, 8)
    response = client.get(f"/insights/map/reports/?service=syringe&area={city['north'].pk}")
    assert response.status_code == 200
    assert response.context["total"] == 4
    assert all(r.service == city["syringe"] for r in response.context["reports"])
    cell = client.get("/insights/map/?cell=coarse").context["top_cells"][0]
    listed = client.get(f"/insights/map/reports/?cell_bounds={cell.key}")
    assert listed.context["total"] == cell.count
    text = listed.content.decode()
    assert "HIDDEN-REPORT-TEXT" not in text
    assert_no_private_data(text)


def test_a_report_on_a_grid_line_is_listed_in_the_cell_that_counts_it(client, city) -> None:
    # 35.785 / 0.0025 is just under 14314 in floating point: the grid's floor() puts the
    # report in the cell south of the line, which a list by rounded bounds missed.
    ServiceRequestFactory(service=city["syringe"], lat=35.785, long=-78.6425)
    cells = client.get("/insights/map/?cell=fine").context["top_cells"]
    (cell,) = [c for c in cells if c.count]
    listed = client.get(f"/insights/map/reports/?cell_bounds={cell.key}")
    assert listed.context["total"] == cell.count == 1


@pytest.mark.parametrize(
    "bounds", ["1,2,3", "a,b,c,d", "10,10,5,5", "0,0,45,45", "35.7,-78.6,35.7013,-78.5987"]
)
def test_hotspot_bad_cell_is_a_404(client, bounds) -> None:
    assert client.get(f"/insights/map/reports/?cell_bounds={bounds}").status_code == 404


def test_figure_csv_keeps_a_formula_from_running(client, city) -> None:
    """A name that starts a formula reaches a spreadsheet as text (CSV injection)."""
    make_reports(city, 2)
    Department.objects.filter(slug="health").update(name='=HYPERLINK("http://x.example")')
    response = client.get("/insights/backlog.csv?department=health")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row[0] for row in rows[1:]] == ['\'=HYPERLINK("http://x.example")']


def test_figure_csv_header_keeps_a_category_formula_from_running(client, city) -> None:
    """The weekly figure's columns are category names: a header cell is a cell too."""
    make_reports(city, 2)
    Service.objects.update(name='=HYPERLINK("http://x.example")')
    response = client.get("/insights/weekly-by-category.csv")
    header = next(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert header[1:] and all(cell.startswith("'=HYPERLINK") for cell in header[1:])


def _neighbourhood_row(html: str, name: str) -> tuple[str, int]:
    """The ranked list's link and count for neighbourhood `name`."""
    found = re.search(rf'<a href="([^"]+)">{name}</a></th><td>(\d+)</td>', html)
    assert found, name
    return found.group(1).replace("&amp;", "&"), int(found.group(2))


def _map_areas(html: str) -> list[dict]:
    data = html.split('id="hotspot-map-data" type="application/json">')[1].split("</script>")[0]
    return json.loads(data)["areas"]


def test_hotspot_neighbourhood_row_under_an_area_filter_lists_what_it_counts(client, city):
    """Filtered to a district, a neighbourhood's row (and shape) counts its reports in the
    district; its link listed the whole neighbourhood, the district dropped (the demo's
    Downtown: 7 in the row, 42 in the list)."""
    district = BoundaryFactory(
        name="North district",
        kind=Boundary.Kind.DISTRICT,
        geometry=square(35.79, -78.70, 35.82, -78.60),
    )
    north = city["north"]
    for lat, areas in ((35.795, [north.pk, district.pk]), (35.785, [north.pk])):
        ServiceRequestFactory(
            service=city["pothole"], area=north, lat=lat, long=-78.64,
            area_set_id=area_set_for(areas),
        )  # fmt: skip
    html = client.get(f"/insights/map/?area={district.pk}").content.decode()
    url, count = _neighbourhood_row(html, "Northside")
    assert count == 1
    listed = client.get(url)
    assert listed.status_code == 200
    assert listed.context["total"] == 1
    assert "Northside" in listed.context["place"] and "North district" in listed.context["place"]
    # The map's shape of the neighbourhood opens the same list.
    assert [a["url"] for a in _map_areas(html) if a["id"] == north.pk] == [url]
    # Filtered to the neighbourhood itself, its row lists it as it is.
    html = client.get(f"/insights/map/?area={north.pk}").content.decode()
    url, count = _neighbourhood_row(html, "Northside")
    assert "neighbourhood=" not in url
    assert client.get(url).context["place"] == "Northside"
    # Without an area filter the row lists the neighbourhood itself.
    url, count = _neighbourhood_row(client.get("/insights/map/").content.decode(), "Northside")
    assert count == 2
    assert client.get(url).context["total"] == 2


def test_hotspot_list_of_an_unknown_neighbourhood_is_a_404(client, city) -> None:
    assert client.get("/insights/map/reports/?neighbourhood=999999").status_code == 404
    assert client.get("/insights/map/reports/?neighbourhood=x").status_code == 404
    # "²" passes isdigit() and int() refuses it (a 500); "٣" int() reads as 3.
    for odd in ("%C2%B2", "%D9%A3", "99999999999999999999"):
        assert client.get(f"/insights/map/reports/?neighbourhood={odd}").status_code == 404


@pytest.mark.parametrize("path", ["/insights/", "/insights/map/"])
def test_period_select_shows_the_period_of_a_permalink_without_one(client, city, path) -> None:
    """A permalink leaves out the default period (12 months): with another filter in it,
    the select showed "Last 30 days" over 12 months of figures, and pressing Show after
    changing the category made them 30 days."""
    response = client.get(f"{path}?service=syringe")
    assert response.status_code == 200
    select = re.search(
        r'<select name="period"[^>]*>(.*?)</select>', response.content.decode(), re.S
    )
    assert select is not None
    assert re.findall(r'<option value="(\d+)" selected>', select.group(1)) == ["365"]


def test_hotspot_list_offers_an_alert_for_the_neighbourhood_it_lists(client, city) -> None:
    """Alerts are for neighbourhoods (or circles): a district's list linked to the alert form
    with ?area=<district>, which opened with no neighbourhood chosen."""
    district = BoundaryFactory(
        name="North district",
        kind=Boundary.Kind.DISTRICT,
        geometry=square(35.79, -78.7, 35.82, -78.6),
    )
    north = city["north"]
    html = client.get(f"/insights/map/reports/?area={district.pk}").content.decode()
    assert "/insights/alerts/new/" not in html
    assert f"/insights/feeds/area/{district.pk}/" in html
    html = client.get(
        f"/insights/map/reports/?area={district.pk}&neighbourhood={north.pk}&service=syringe"
    ).content.decode()
    link = f'/insights/alerts/new/?area={north.pk}&amp;service={city["syringe"].pk}"'
    assert link in html
    form = client.get(f"/insights/alerts/new/?area={north.pk}").content.decode()
    assert f'<option value="{north.pk}" selected>' in form
    html = client.get(f"/insights/?area={district.pk}").content.decode()
    assert f"/insights/alerts/new/?area={district.pk}" not in html
    html = client.get(f"/insights/?area={north.pk}").content.decode()
    assert f"/insights/alerts/new/?area={north.pk}" in html
