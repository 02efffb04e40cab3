"""Two staff members closing two reports as duplicates of each other at the same moment: the
second waits for the first and is refused, on PostgreSQL, with two real transactions."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction

from reports.models import ServiceRequest
from reports.services.triage import report_close_as_duplicate
from tests.factories import ServiceRequestFactory, UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL (two real transactions)"
    ),
]


def test_two_reports_closed_as_duplicates_of_each_other_at_once_leave_one_open():
    """Each service locked only its own report, so each saw the other still open: both were
    closed, A naming B and B naming A, and no open report was left for the problem."""
    first, second = ServiceRequestFactory(), ServiceRequestFactory()
    agent = UserFactory(username="agent")
    closed, outcome = threading.Event(), {}

    def close_first() -> None:
        try:
            with transaction.atomic():
                report = ServiceRequest.objects.get(pk=first.pk)
                master = ServiceRequest.objects.get(pk=second.pk)
                report_close_as_duplicate(report=report, author=agent, master=master)
                closed.set()
                time.sleep(0.5)  # hold the uncommitted change while the other one tries
        finally:
            connections.close_all()

    def close_second() -> None:
        report = ServiceRequest.objects.get(pk=second.pk)
        master = ServiceRequest.objects.get(pk=first.pk)  # read before the first commits
        closed.wait(5)
        try:
            report_close_as_duplicate(report=report, author=agent, master=master)
            outcome["second"] = "closed"
        except ValidationError as exc:
            outcome["second"] = " ".join(exc.messages)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=close_first), threading.Thread(target=close_second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert "is itself a duplicate of this report" in outcome["second"]
    rows = dict(ServiceRequest.objects.values_list("pk", "duplicate_of_id"))
    assert rows == {first.pk: second.pk, second.pk: None}
    assert ServiceRequest.objects.get(pk=second.pk).is_open
