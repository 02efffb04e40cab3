"""Abuse of the public writes is held back: per-client limits on the report form, the
follow form and Open311 POST (429 with Retry-After), a honeypot on citizen forms, and the
API key accepted in a header."""

from __future__ import annotations

import re

import pytest
from captcha.models import CaptchaStore
from django.urls import reverse

from reports.insights.models import AreaAlert
from reports.models import OutboxMessage, ServiceRequest, Subscription
from tests.factories import (
    CITY_CENTRE,
    BoundaryFactory,
    ServiceFactory,
    ServiceRequestFactory,
    api_key_create,
)
from tests.reports.open311_support import errors_of, json_of, tree_service_create

pytestmark = pytest.mark.django_db

LAT, LNG = CITY_CENTRE
NEW_URL = reverse("reports:new")
API_URL = "/open311/v2/requests"


def report_data(service, **extra: str) -> dict[str, str]:
    return {
        "lat": str(LAT),
        "long": str(LNG),
        "service": str(service.pk),
        "description": "Deep pothole in the right lane.",
        **extra,
    }


def api_data(raw_key: str | None, **extra: str) -> dict[str, str]:
    data = {
        "service_code": "tree-down",
        "lat": str(LAT),
        "long": str(LNG),
        "description": "A tree fell across the greenway.",
        "attribute[kind]": "tree",
        **extra,
    }
    if raw_key is not None:
        data["api_key"] = raw_key
    return data


# The report form


def test_report_form_refuses_past_the_limit_with_429_and_retry_after(client, settings):
    settings.RATELIMIT_REPORT_FORM = "3/hour"
    service = ServiceFactory()

    answers = [client.post(NEW_URL, report_data(service)) for _ in range(4)]

    assert [a.status_code for a in answers] == [302, 302, 302, 429]
    assert ServiceRequest.objects.count() == 3
    limited = answers[-1]
    assert 1 <= int(limited["Retry-After"]) <= 3600
    assert "Too many submissions" in limited.content.decode()
    assert "try again in" in limited.content.decode()
    # Reading the form is not limited.
    assert client.get(NEW_URL).status_code == 200


def test_report_form_limit_counts_refused_posts_and_is_per_address(client, settings):
    settings.RATELIMIT_REPORT_FORM = "2/hour"
    service = ServiceFactory()
    for _ in range(2):
        assert client.post(NEW_URL, {"service": str(service.pk)}).status_code == 400

    assert client.post(NEW_URL, report_data(service)).status_code == 429
    other = client.post(NEW_URL, report_data(service), REMOTE_ADDR="198.51.100.7")
    assert other.status_code == 302
    assert ServiceRequest.objects.count() == 1


def test_report_form_limit_counts_other_writing_methods_too(client, settings):
    settings.RATELIMIT_REPORT_FORM = "1/hour"
    client.put(NEW_URL)
    assert client.post(NEW_URL, report_data(ServiceFactory())).status_code == 429


def test_forwarded_for_is_ignored_unless_a_proxy_is_trusted(client, settings):
    settings.RATELIMIT_REPORT_FORM = "1/hour"
    service = ServiceFactory()
    assert client.post(NEW_URL, report_data(service), HTTP_X_FORWARDED_FOR="203.0.113.1")
    # Another made-up X-Forwarded-For does not buy a new allowance.
    again = client.post(NEW_URL, report_data(service), HTTP_X_FORWARDED_FOR="203.0.113.2")
    assert again.status_code == 429

    settings.TRUSTED_PROXY_COUNT = 1
    # Behind one proxy the last entry is the client; what the client wrote before it is not.
    first = client.post(NEW_URL, report_data(service), HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.9")
    spoofed = client.post(
        NEW_URL, report_data(service), HTTP_X_FORWARDED_FOR="1.1.1.2, 203.0.113.9"
    )
    assert (first.status_code, spoofed.status_code) == (302, 429)


def test_report_form_honeypot_refuses_quietly_and_stores_nothing(client):
    service = ServiceFactory()

    response = client.post(NEW_URL, report_data(service, website="http://spam.example"))

    assert response.status_code == 400
    assert not ServiceRequest.objects.exists()
    html = response.content.decode()
    assert "could not be accepted" in html
    assert "honeypot" not in html.lower()


def test_report_form_renders_the_honeypot_hidden_by_a_class(client):
    ServiceFactory()
    html = client.get(NEW_URL).content.decode()

    assert '<div class="hp-field">' in html
    assert 'name="website"' in html and 'tabindex="-1"' in html
    assert "Leave this field empty" in html
    assert 'style="' not in html


# The follow form


def test_follow_form_refuses_past_the_limit(client, settings):
    settings.RATELIMIT_FOLLOW = "2/hour"
    report = ServiceRequestFactory()
    url = report.get_absolute_url()

    answers = [client.post(url, {"email": f"person{n}@example.net"}) for n in range(3)]

    assert [a.status_code for a in answers] == [302, 302, 429]
    assert Subscription.objects.count() == 2
    assert answers[-1].has_header("Retry-After")
    assert client.get(url).status_code == 200


def test_this_is_my_problem_too_shares_the_follow_forms_limit(client, settings):
    """Each "this is my problem too" with a new address stores a follow and emails that
    address a link: without the limit, one client could mail any number of addresses."""
    settings.RATELIMIT_FOLLOW = "3/hour"
    report = ServiceRequestFactory()
    support = reverse("reports:support", args=[report.pk])
    client.post(report.get_absolute_url(), {"email": "follower@example.net"})
    page = [client.post(support, {"support-email": f"page{n}@example.net"}) for n in range(2)]
    script = client.post(
        support, {"support-email": "script@example.net"}, HTTP_ACCEPT="application/json"
    )

    assert [a.status_code for a in page] == [302, 302]
    assert script.status_code == 429 and script.has_header("Retry-After")
    assert Subscription.objects.count() == 3
    assert not Subscription.objects.filter(email="script@example.net").exists()
    assert not OutboxMessage.objects.filter(to="script@example.net").exists()


def test_follow_form_honeypot_stores_nothing(client):
    report = ServiceRequestFactory()

    response = client.post(report.get_absolute_url(), {"email": "bot@example.net", "website": "x"})

    assert response.status_code == 400
    assert not Subscription.objects.exists()
    assert "could not be accepted" in response.content.decode()


def test_follow_limit_on_a_hidden_report_is_still_a_404_first(client):
    hidden = ServiceRequestFactory(hidden=True)
    assert client.post(hidden.get_absolute_url(), {"email": "a@example.net"}).status_code == 404


# Open311 POST


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_post_is_throttled_per_address_as_an_error_list(client, settings, fmt):
    settings.RATELIMIT_OPEN311_POST_ADDRESS = "2/hour"
    tree_service_create()
    keys = [api_key_create(f"App {n}")[1] for n in range(3)]

    answers = [client.post(f"{API_URL}.{fmt}", api_data(key)) for key in keys]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert ServiceRequest.objects.count() == 2
    limited = answers[-1]
    assert 1 <= int(limited["Retry-After"]) <= 3600
    errors = errors_of(limited, fmt)
    assert [e["code"] for e in errors] == [429]
    assert "Too many requests" in errors[0]["description"]


def test_open311_post_is_throttled_per_key_whatever_the_address(client, settings):
    settings.RATELIMIT_OPEN311_POST_KEY = "2/hour"
    tree_service_create()
    _, key = api_key_create()
    _, other_key = api_key_create("Other app")

    answers = [
        client.post(f"{API_URL}.json", api_data(key), REMOTE_ADDR=f"198.51.100.{n}")
        for n in range(3)
    ]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert client.post(f"{API_URL}.json", api_data(other_key)).status_code == 200


def test_open311_reads_are_not_throttled_by_the_post_limits(client, settings):
    settings.RATELIMIT_OPEN311_POST_ADDRESS = "1/hour"
    for _ in range(3):
        assert client.get(f"{API_URL}.json").status_code == 200


def test_open311_post_takes_the_api_key_in_a_header(client):
    tree_service_create()
    _, key = api_key_create()

    response = client.post(f"{API_URL}.json", api_data(None), HTTP_X_API_KEY=key)

    assert response.status_code == 200, json_of(response)
    assert ServiceRequest.objects.get().api_key.name == "Greenway app"
    wrong = client.post(f"{API_URL}.json", api_data(None), HTTP_X_API_KEY="not-a-key")
    assert wrong.status_code == 403
    assert errors_of(wrong)[0]["description"] == "api_key is not valid."


# The optional CAPTCHA


def test_captcha_is_off_by_default(client):
    ServiceFactory()
    report = ServiceRequestFactory()
    for url in (NEW_URL, report.get_absolute_url()):
        assert 'name="captcha_1"' not in client.get(url).content.decode()


def captcha_on(html: str) -> CaptchaStore:
    """The CAPTCHA the page shows (its key is the hidden captcha_0 field)."""
    key = re.search(r'name="captcha_0" value="([0-9a-f]+)"', html)
    assert key, "no CAPTCHA on the page"
    return CaptchaStore.objects.get(hashkey=key.group(1))


def test_captcha_when_enabled_guards_the_report_form(client, settings):
    settings.CAPTCHA_ENABLED = True
    service = ServiceFactory()
    html = client.get(NEW_URL).content.decode()
    assert "Type the characters you see" in html
    store = captcha_on(html)

    wrong = client.post(NEW_URL, report_data(service, captcha_0=store.hashkey, captcha_1="no"))
    assert wrong.status_code == 400
    assert "did not match" in wrong.content.decode()
    assert not ServiceRequest.objects.exists()
    # One try per picture: the right answer to the spent one is refused too.
    spent = client.post(
        NEW_URL, report_data(service, captcha_0=store.hashkey, captcha_1=store.response)
    )
    assert spent.status_code == 400

    store = captcha_on(spent.content.decode())
    right = client.post(
        NEW_URL, report_data(service, captcha_0=store.hashkey, captcha_1=store.response)
    )
    assert right.status_code == 302
    assert ServiceRequest.objects.count() == 1


def test_captcha_when_enabled_guards_the_follow_form(client, settings):
    settings.CAPTCHA_ENABLED = True
    report = ServiceRequestFactory()
    url = report.get_absolute_url()
    refused = client.post(url, {"email": "a@example.net"})
    assert refused.status_code == 400
    assert not Subscription.objects.exists()

    store = captcha_on(refused.content.decode())
    data = {"email": "a@example.net", "captcha_0": store.hashkey, "captcha_1": store.response}
    assert client.post(url, data).status_code == 302
    assert Subscription.objects.count() == 1


def test_captcha_image_is_served_here_under_the_policy(client, settings):
    settings.CAPTCHA_ENABLED = True
    store = captcha_on(client.get(NEW_URL).content.decode())
    image = client.get(f"/captcha/image/{store.hashkey}/")
    assert image.status_code == 200 and image["Content-Type"] == "image/png"


# The area-alert form (insights): the same limiter and honeypot


def alert_data(area, **extra: str) -> dict[str, object]:
    return {
        "email": "neighbour@example.org",
        "where": "area",
        "area": area.pk,
        "radius_m": 500,
        "frequency": "daily",
        **extra,
    }


def test_alert_form_refuses_past_the_limit(client, settings):
    settings.RATELIMIT_ALERT_FORM = "2/hour"
    area = BoundaryFactory(name="Oakwood")
    url = reverse("insights:alert-new")

    answers = [client.post(url, alert_data(area, email=f"n{n}@example.org")) for n in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert AreaAlert.objects.count() == 2
    assert answers[-1].has_header("Retry-After")


def test_alert_form_honeypot_stores_nothing(client):
    area = BoundaryFactory(name="Oakwood")

    response = client.post(reverse("insights:alert-new"), alert_data(area, website="x"))

    assert "could not be accepted" in response.content.decode()
    assert not AreaAlert.objects.exists()
    assert not OutboxMessage.objects.exists()
