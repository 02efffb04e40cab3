"""The list narrowed by nothing but its window of dates, read on PostgreSQL by one statement
written as SQL (listing.plain_source), answers exactly what the ORM's query does: the same
list asked with a filter that keeps every report (status=open,closed) goes the ORM's way."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import ServiceRequestFactory
from tests.reports.test_open311_paging import BASE, ids

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed():
    """60 reports over 100 days, open and closed; every fifth hidden or in its preview
    window, pairs at one instant, one exactly at the window's end."""
    rng = random.Random(12)
    now = timezone.now().replace(microsecond=0)
    made = []
    for n in range(60):
        fields = {"requested_datetime": now - timedelta(hours=rng.uniform(0, 2400))}
        if n % 6 == 1:
            fields["requested_datetime"] = made[-1].requested_datetime
        if n % 5 == 2:
            fields["hidden"] = True
        if n % 5 == 4:
            fields["published_at"] = now + timedelta(hours=2)
        if n % 2:
            fields.update(status="closed", state="fixed", closed_datetime=now)
        made.append(ServiceRequestFactory(**fields))
    return now


@pytest.mark.parametrize("page_size,page", [(100, 1), (7, 1), (7, 2), (7, 5), (3, 9), (50, 2)])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_plain_list_answers_what_the_orm_does(client, mixed, page_size, page, fmt):
    window = {"end_date": (mixed - timedelta(days=3)).isoformat()}
    for extra in ({}, window, {"extensions": "true"}):
        query = {"page_size": page_size, "page": page, **extra}
        plain = client.get(f"{BASE}/requests.{fmt}", query)
        orm = client.get(f"{BASE}/requests.{fmt}", {**query, "status": "open,closed"})
        assert plain.status_code == orm.status_code == 200
        assert plain.content == orm.content
        if fmt == "json" and page == 1 and page_size == 100 and not extra:
            hidden_or_early = 60 - len(ids(plain))
            assert hidden_or_early >= 24  # the hidden, the previews and those before 90 days
