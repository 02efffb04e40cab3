"""Queueing after commit during a broker outage: the change is kept, the work is left for
the beat sweeps, and a broker that hangs is not waited for once per task."""

from __future__ import annotations

import logging

import pytest
from kombu.exceptions import OperationalError as BrokerError

import civic311.queue
from civic311.queue import BROKER_PAUSE_SECONDS, queue_after_commit

pytestmark = pytest.mark.django_db


class HungBroker:
    """A task whose every publish fails after the socket's timeout, as with a broker that
    accepts connections and never answers."""

    def __init__(self) -> None:
        self.publishes: list[tuple[object, ...]] = []
        self.up = False

    def delay(self, *args: object) -> None:
        self.publishes.append(args)
        if not self.up:
            raise BrokerError("Timeout reading from 127.0.0.1:6379")


def test_one_failed_publish_spares_the_rest_of_the_change(
    django_capture_on_commit_callbacks, monkeypatch, caplog
):
    """An admin action mailing 50 reports' followers queued 50 tasks; each waited out the
    broker's timeout, and the request died at the WSGI server's timeout (a 502 for a
    change that was saved)."""
    now = [1000.0]
    monkeypatch.setattr(civic311.queue, "monotonic", lambda: now[0])
    task = HungBroker()
    with (
        caplog.at_level(logging.WARNING, logger="civic311.queue"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        for message_id in range(50):
            queue_after_commit(task, message_id)
    assert task.publishes == [(0,)]
    assert caplog.text.count("left for the sweeper") == 50

    # Later in the pause, other requests do not try either; after it, the broker is tried.
    now[0] += BROKER_PAUSE_SECONDS - 1
    with django_capture_on_commit_callbacks(execute=True):
        queue_after_commit(task, 50)
    assert len(task.publishes) == 1
    now[0] += 2
    task.up = True
    with django_capture_on_commit_callbacks(execute=True):
        queue_after_commit(task, 51)
        queue_after_commit(task, 52)
    assert task.publishes == [(0,), (51,), (52,)]
