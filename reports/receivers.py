"""Signal receivers of the reports app: each only calls a service (connected in apps.py).

Areas are written by the admin, import_boundaries, data migrations and the shell alike;
the model's signals are where all of them meet (queryset updates excepted: nothing here
updates boundaries so)."""

from __future__ import annotations

from typing import Any

from reports.services.areas import areas_changed


def boundary_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    areas_changed(instance.pk)


def boundary_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    areas_changed(instance.pk)
