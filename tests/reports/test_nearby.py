"""Already reported nearby, and "this is my problem too"."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from reports.models import OutboxMessage, ServiceRequest, Subscription, Supporter
from tests.conftest import assert_errors_described, assert_no_private_data
from tests.factories import CITY_CENTRE, ServiceFactory, ServiceRequestFactory

pytestmark = pytest.mark.django_db

LAT, LNG = CITY_CENTRE
NEARBY_URL = reverse("reports:nearby")
# About 11 m per 0.0001 degree of latitude.
METRES_PER_STEP = 11.132


def around(service, metres_north: float, **kwargs) -> ServiceRequest:
    return ServiceRequestFactory(
        service=service, lat=LAT + metres_north / METRES_PER_STEP * 0.0001, long=LNG, **kwargs
    )


def test_nearby_lists_open_reports_of_the_category_within_the_distance_and_days(client, settings):
    settings.NEARBY_METRES, settings.NEARBY_DAYS = 50, 30
    pothole, graffiti = ServiceFactory(name="Pothole"), ServiceFactory(name="Graffiti")
    near = around(pothole, 20, description="Deep hole by the drain")
    nearer = around(pothole, 5)
    around(pothole, 80)  # too far
    around(graffiti, 10)  # another category
    around(pothole, 10, state="fixed", status="closed", closed_datetime=timezone.now())
    around(pothole, 10, hidden=True)
    around(pothole, 10, requested_datetime=timezone.now() - timedelta(days=40))
    answer = client.get(NEARBY_URL, {"service": pothole.pk, "lat": LAT, "long": LNG}).json()
    assert [r["id"] for r in answer["reports"]] == [nearer.pk, near.pk]
    first = answer["reports"][1]
    assert first["description"] == "Deep hole by the drain" and 15 <= first["metres"] <= 25
    assert first["support_url"] == reverse("reports:support", args=[near.pk])
    assert first["thumbnail"] is None and first["supporters"] == 0
    assert (answer["metres"], answer["days"]) == (50, 30)
    assert_no_private_data(str(answer))


def test_nearby_refuses_bad_input_plainly(client):
    assert client.get(NEARBY_URL, {"service": "x", "lat": LAT, "long": LNG}).status_code == 400
    assert client.get(NEARBY_URL, {"lat": LAT}).status_code == 400
    outside = client.get(NEARBY_URL, {"service": 1, "lat": 10, "long": 10}).json()
    assert outside["reports"] == []


def support(client, report, email="neighbour@example.net", **headers):
    url = reverse("reports:support", args=[report.pk])
    return client.post(url, {"support-email": email}, **headers)


def confirm_link(email: str, kind: str) -> str:
    """The path of the confirmation link in the last email of `kind` to `email`."""
    message = OutboxMessage.objects.filter(to=email, kind=kind).latest("pk")
    [path] = re.findall(r"https?://[^/\s]+(/reports/follow/\S+/confirm/)", message.body)
    return path


def test_me_too_counts_each_person_once_when_they_confirm(client):
    report = ServiceRequestFactory(reporter_email="private.person@example.net")
    response = support(client, report, HTTP_ACCEPT="application/json")
    # Nothing shows before the address's owner clicks: not whose it is, nor a count.
    assert response.status_code == 200 and response.json()["supporters"] == 0
    assert "confirm with the link we emailed you" in response.json()["message"]
    assert Subscription.objects.filter(request=report, email="neighbour@example.net").exists()
    link = confirm_link("neighbour@example.net", "follower_confirm")
    assert "add your voice" in OutboxMessage.objects.get(to="neighbour@example.net").body
    assert "Is this your problem too?" in client.get(link).content.decode()  # GET counts nothing
    report.refresh_from_db()
    assert report.supporters == 0
    assert "Your voice is added" in client.post(link).content.decode()
    report.refresh_from_db()
    assert report.supporters == 1
    client.post(link)  # twice: once
    again = support(client, report, "NEIGHBOUR@example.net ", HTTP_ACCEPT="application/json")
    assert again.json()["supporters"] == 1
    report.refresh_from_db()
    assert report.supporters == 1 and Supporter.objects.count() == 1
    # The reporter's address answers alike and is never counted: the report counts them.
    reporter = support(client, report, "private.person@example.net", HTTP_ACCEPT="application/json")
    assert reporter.json() == again.json()
    client.post(confirm_link("private.person@example.net", "follower_confirm"))
    report.refresh_from_db()
    assert report.supporters == 1
    page = client.get(report.get_absolute_url()).content.decode()
    assert "+1 person has this problem too" in page
    assert "neighbour@example.net" not in page


def test_a_follower_who_says_me_too_confirms_it_by_its_own_link(client):
    report = ServiceRequestFactory()
    client.post(report.get_absolute_url(), {"email": "follower@example.net"})
    client.post(confirm_link("follower@example.net", "follower_confirm"))
    assert support(client, report, "follower@example.net").status_code == 302
    report.refresh_from_db()
    assert report.supporters == 0
    link = confirm_link("follower@example.net", "supporter_confirm")
    body = OutboxMessage.objects.get(kind="supporter_confirm").body
    assert "Confirm to add your voice (the link" in body  # it has the updates already
    assert "Yes, add my voice" in client.get(link).content.decode()
    client.post(link)
    report.refresh_from_db()
    assert report.supporters == 1


def test_me_too_without_javascript_redirects_with_thanks(client):
    report = ServiceRequestFactory()
    response = support(client, report)
    assert response.status_code == 302 and response.url.endswith("#support")
    page = client.get(response.url).content.decode()
    assert "your voice counts once you do" in page


def test_me_too_refuses_a_bad_email_a_closed_or_hidden_report(client):
    report = ServiceRequestFactory()
    bad = support(client, report, "not-an-email")
    assert bad.status_code == 400 and "valid email" in bad.content.decode()
    # Its errors are summed up in its own form (the focus goes there); the follow form
    # below, not sent, is not marked wrong.
    html = bad.content.decode()
    assert f'action="{reverse("reports:support", args=[report.pk])}#support"' in html
    assert 'aria-invalid="true"' in html.split('id="follow"')[0]
    assert "aria-invalid" not in html.split('id="follow"')[1]
    assert html.count('class="error-summary" role="alert" tabindex="-1"') == 1
    assert_errors_described(html)
    as_json = support(client, report, "nope", HTTP_ACCEPT="application/json")
    assert as_json.status_code == 400 and "email" in as_json.json()["errors"]
    closed = ServiceRequestFactory(state="fixed", status="closed", closed_datetime=timezone.now())
    refused = support(client, closed)
    assert refused.status_code == 400 and "make a new report" in refused.content.decode()
    assert support(client, ServiceRequestFactory(hidden=True)).status_code == 404
    assert Supporter.objects.count() == 0 and Subscription.objects.count() == 0
    assert client.get(reverse("reports:support", args=[report.pk])).status_code == 405


def test_staff_see_the_count_in_the_queue_and_the_api_publishes_it(client, superuser):
    report = ServiceRequestFactory(supporters=4)
    client.force_login(superuser)
    queue = client.get(reverse("admin:reports_servicerequest_changelist")).content.decode()
    assert "+4" in queue
    client.logout()
    answer = client.get(f"/open311/v2/requests/{report.pk}.json", {"extensions": "true"})
    assert answer.json()[0]["supporters"] == 4


def test_nearby_shares_the_address_lookups_rate_limit(client, settings):
    settings.RATELIMIT_PLACES = "2/hour"
    service = ServiceFactory()
    params = {"service": service.pk, "lat": LAT, "long": LNG}
    assert [client.get(NEARBY_URL, params).status_code for _ in range(3)] == [200, 200, 429]
