"""Signal receivers of the reports app: each only calls a service (connected in apps.py).

Areas are written by the admin, import_boundaries, data migrations and the shell alike;
the model's signals are where all of them meet (queryset updates excepted: nothing here
updates boundaries so)."""

from __future__ import annotations

from typing import Any

from reports.services.areas import areas_changed


def boundary_saving(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Keep the shape as it was, for boundary_saved to compare (a rename moves nothing)."""
    if instance.pk is not None:
        before = sender.objects.filter(pk=instance.pk).values_list("geometry", flat=True)
        instance._geometry_before = before.first()


def boundary_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if created or getattr(instance, "_geometry_before", None) != instance.geometry:
        areas_changed(instance.pk)


def boundary_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    areas_changed(instance.pk)
