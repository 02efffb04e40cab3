"""Queueing background work so that it never runs before, or fails, the write it follows."""

from __future__ import annotations

import logging
from typing import Protocol

from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

from civic311.celery import app as celery_app

logger = logging.getLogger(__name__)


class Task(Protocol):
    """What a Celery task offers that `queue_after_commit` uses."""

    def delay(self, *args: object) -> object: ...


def queue_after_commit(task: Task | str, *args: object) -> None:
    """Queue `task.delay(*args)` once the current transaction commits.

    `task` may be given by its registered name ("reports.tasks.outbox_deliver"), so that a
    lower layer can queue a task without importing the module that defines it.

    A broker outage must not fail a citizen's submission: the report is already saved, so
    the failure is logged and the periodic sweeper picks the work up later."""

    def send() -> None:
        try:
            found = celery_app.tasks[task] if isinstance(task, str) else task
            found.delay(*args)
        except BrokerError:
            logger.warning("Broker unreachable; %s%r left for the sweeper", task, args)

    transaction.on_commit(send)
