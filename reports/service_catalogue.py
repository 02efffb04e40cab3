"""The active services, with their department and questions, as the process keeps them
(departments/catalogue.py says when the copy is read again; migration 0016 makes writes to
the services, their questions and the questions' values change the catalogue's version).

Why: every Open311 submission looked its service up and read its questions, two queries
of ORM work for rows that change a few times a year.
"""

from __future__ import annotations

import copy

from departments import catalogue
from reports.models import Service


def _services() -> dict[str, Service]:
    services = (
        Service.objects.active().select_related("department").prefetch_related("attributes__values")
    )
    return {service.service_code: service for service in services}


def active_service(service_code: str) -> Service | None:
    """The active service with this code, its department and questions read with it (as
    `service.department` and `service.attributes.all()`), or None. The service and its
    department are copies the caller may change; its questions are shared: read them only."""
    kept = catalogue.current("services").get(service_code)
    if kept is None:
        return None
    service = copy.copy(kept)
    if kept.department is not None:
        service.department = copy.copy(kept.department)
    return service


catalogue.register("services", _services)
