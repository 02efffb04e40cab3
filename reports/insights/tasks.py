"""Celery entry points of the insights app."""

from __future__ import annotations

from celery import shared_task

from reports.insights import alerts, exports


@shared_task(autoretry_for=(OSError,), retry_backoff=60, max_retries=3)
def open_data_dump() -> list[str]:
    """The nightly full dump: CSV and GeoJSON of every public report, each swapped in whole."""
    written = (exports.dump_write(fmt) for fmt in ("csv", "geojson"))
    return [str(path) for path in written if path is not None]


@shared_task
def alerts_immediate() -> int:
    """Every few minutes: new reports to alerts that want them as they arrive."""
    return alerts.alerts_send_immediate()


@shared_task
def alerts_daily() -> int:
    """Each morning: the daily digests."""
    return alerts.alerts_send_daily()
