"""Queueing background work so that it never runs before, or fails, the write it follows."""

from __future__ import annotations

import logging
from typing import Protocol

from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger(__name__)


class Task(Protocol):
    """What a Celery task offers that `queue_after_commit` uses."""

    def delay(self, *args: object) -> object: ...


def queue_after_commit(task: Task, *args: object) -> None:
    """Queue `task.delay(*args)` once the current transaction commits.

    A broker outage must not fail a citizen's submission: the report is already saved, so
    the failure is logged and the periodic sweeper picks the work up later."""

    def send() -> None:
        try:
            task.delay(*args)
        except BrokerError:
            logger.warning("Broker unreachable; %s%r left for the sweeper", task, args)

    transaction.on_commit(send)
