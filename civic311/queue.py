"""Queueing background work so that it never runs before, or fails, the write it follows."""

from __future__ import annotations

import logging
from time import monotonic
from typing import Protocol

from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

from civic311.celery import app as celery_app

logger = logging.getLogger(__name__)

# After a publish fails, this process leaves the broker alone for this long. Why: a broker
# that hangs rather than refuses costs each publish its socket timeout (about 5 s), and one
# change may queue dozens of tasks (an admin action closing 50 reports mails each one's
# followers): the request outlived the WSGI server's timeout and staff got a 502 for a change
# that was saved. What is not queued meanwhile is picked up by the beat sweeps.
BROKER_PAUSE_SECONDS = 30.0


class _BrokerState:
    down_until = 0.0  # monotonic() before which nothing is published


_broker = _BrokerState()


def broker_pause_reset() -> None:
    """Forget a broker failure (tests that end an outage they simulated)."""
    _broker.down_until = 0.0


class Task(Protocol):
    """What a Celery task offers that `queue_after_commit` uses."""

    def delay(self, *args: object) -> object: ...


def queue_after_commit(task: Task | str, *args: object) -> None:
    """Queue `task.delay(*args)` once the current transaction commits.

    `task` may be given by its registered name ("reports.tasks.outbox_deliver"), so that a
    lower layer can queue a task without importing the module that defines it.

    A broker outage must not fail a citizen's submission: the report is already saved, so
    the failure is logged and the periodic sweeper picks the work up later. Within
    BROKER_PAUSE_SECONDS of a failure the broker is not tried at all."""

    def send() -> None:
        if monotonic() < _broker.down_until:
            logger.warning("Broker unreachable just now; %s%r left for the sweeper", task, args)
            return
        try:
            found = celery_app.tasks[task] if isinstance(task, str) else task
            found.delay(*args)
        except BrokerError:
            _broker.down_until = monotonic() + BROKER_PAUSE_SECONDS
            logger.warning("Broker unreachable; %s%r left for the sweeper", task, args)

    transaction.on_commit(send)
