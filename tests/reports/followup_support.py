"""What the tests of a report's follow-up share (with the `health` and `service` fixtures
of tests/reports/conftest.py): a report filed through the web form, published, followed by
its reporter or closed."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from reports.models import ServiceRequest, Subscription
from reports.services import triage
from reports.services.requests import report_create
from tests.conftest import PRIVATE_VALUES
from tests.factories import CITY_CENTRE

State = ServiceRequest.State
LAT, LNG = CITY_CENTRE
REPORTER = PRIVATE_VALUES[1]


def form_data(service, **overrides) -> dict:
    data = {
        "service": str(service.pk),
        "lat": str(LAT),
        "long": str(LNG),
        "address": "12 Oak Street",
        "description": "Syringe lying next to the swings in the playground.",
        "reporter_name": PRIVATE_VALUES[0],
        "reporter_email": REPORTER,
    }
    data.update(overrides)
    return data


def file_report(client, service, **overrides) -> tuple[ServiceRequest, str]:
    """File a report through the web form; the report and the preview page's address."""
    response = client.post(reverse("reports:new"), form_data(service, **overrides))
    assert response.status_code == 302, response.content.decode()[:2000]
    return ServiceRequest.objects.latest("pk"), response["Location"]


def published(report: ServiceRequest) -> ServiceRequest:
    """As if the preview window had ended."""
    ServiceRequest.objects.filter(pk=report.pk).update(
        published_at=timezone.now() - timedelta(seconds=1)
    )
    report.refresh_from_db()
    return report


def confirm_reporter(report: ServiceRequest) -> None:
    """The reporter clicked the link in the acknowledgement: they follow the report."""
    Subscription.objects.filter(request=report, email=REPORTER).update(confirmed_at=timezone.now())


def closed_report(service, **kwargs) -> ServiceRequest:
    report = report_create(
        service=service,
        description="Syringe lying next to the swings in the playground.",
        lat=LAT,
        long=LNG,
        reporter_email=REPORTER,
        **kwargs,
    )
    confirm_reporter(report)
    return triage.report_close(report=report, author=None, text="Collected safely.")
