"""Making the Celery broker unreachable for this process, as when Redis is down."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from kombu import pools

from civic311.celery import app as celery_app
from civic311.queue import broker_pause_reset

# Nothing listens on the discard port: connecting is refused at once.
DEAD_BROKER = "redis://127.0.0.1:9/0"


def reset_connections() -> None:
    """Drop the connection and producer pools Celery and kombu keep (kombu's globally, by
    URL), so that the next publish connects to the URL now configured."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    pools.reset()


@contextmanager
def broker_unreachable() -> Iterator[None]:
    """Inside: every publish from this process fails as it does with Redis stopped (tasks
    are not run in-process either). After: the configured broker again."""
    conf = celery_app.conf
    saved = (conf.broker_url, conf.broker_write_url, conf.task_always_eager)
    conf.broker_url, conf.broker_write_url, conf.task_always_eager = DEAD_BROKER, DEAD_BROKER, False
    reset_connections()
    try:
        yield
    finally:
        conf.broker_url, conf.broker_write_url, conf.task_always_eager = saved
        reset_connections()
        broker_pause_reset()
