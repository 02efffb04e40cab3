from __future__ import annotations

from collections.abc import Collection
from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from shapely.geometry.base import BaseGeometry

from civic311.geo import parse_area
from departments.addresses import name_address

BOUNDARY_NAME_MAX = 160


class Department(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    email = models.EmailField("contact email", blank=True)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.active or self.pk is None:
            return
        # Reports of a category its department no longer works on would go nowhere.
        names = list(self.services.filter(active=True).values_list("name", flat=True)[:6])
        if names:
            raise ValidationError(
                {
                    "active": f"Its active categories still come to it: {', '.join(names[:5])}"
                    f"{', …' if len(names) > 5 else ''}. Give them another department, or make "
                    "them inactive, first."
                }
            )


class Boundary(models.Model):
    """A named area, stored as GeoJSON and evaluated with shapely."""

    class Kind(models.TextChoices):
        CITY = "city", "City"
        DISTRICT = "district", "District"
        NEIGHBOURHOOD = "neighbourhood", "Neighbourhood"
        SERVICE_AREA = "service_area", "Service area"

    name = models.CharField(max_length=BOUNDARY_NAME_MAX)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    geometry = models.JSONField(help_text="A GeoJSON Polygon or MultiPolygon (WGS84).")
    # The bounding box, kept so that routing can skip areas far from a point cheaply.
    min_lat = models.FloatField(editable=False, default=0)
    min_long = models.FloatField(editable=False, default=0)
    max_lat = models.FloatField(editable=False, default=0)
    max_long = models.FloatField(editable=False, default=0)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name_plural = "boundaries"
        constraints = [
            models.UniqueConstraint(fields=["kind", "name"], name="boundary_unique_kind_name")
        ]
        indexes = [
            models.Index(
                fields=["min_lat", "max_lat", "min_long", "max_long"], name="boundary_bbox"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The box routing and relocation narrow areas by follows the shape, however it was
        # saved (a data migration or the shell need not call clean()).
        self.__dict__.pop("shape", None)
        self.min_long, self.min_lat, self.max_long, self.max_lat = self.shape.bounds
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "geometry" in update_fields:
            kwargs["update_fields"] = {*update_fields, "min_lat", "min_long", "max_lat", "max_long"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        try:
            shape = parse_area(self.geometry)
        except ValidationError as exc:
            raise ValidationError({"geometry": exc.messages}) from exc
        self.min_long, self.min_lat, self.max_long, self.max_lat = shape.bounds
        self._check_address_is_free()

    def _check_address_is_free(self) -> None:
        """A neighbourhood's page is /areas/<slugified name>/ (departments/addresses.py): two
        names that differ only in punctuation or case ("St. John's", "St Johns") would share
        one address, and the second could never be reached, so the second is refused. A name
        without an address of its own (no Latin letter) has its id's, which no other has."""
        slug = name_address(self.name)
        if self.kind != self.Kind.NEIGHBOURHOOD or slug is None:
            return
        others = Boundary.objects.filter(kind=self.kind).exclude(name=self.name)
        if self.pk is not None:
            others = others.exclude(pk=self.pk)
        for other in others.only("name"):
            if name_address(other.name) == slug:
                raise ValidationError(
                    {
                        "name": f"The neighbourhood {other.name} already has the address "
                        f"/areas/{slug}/; choose a name that differs in more than "
                        "punctuation or capitals."
                    }
                )

    @cached_property
    def shape(self) -> BaseGeometry:
        return parse_area(self.geometry)


class AreaSet(models.Model):
    """Every area one point lies in, as one row (`key`: their ids, ascending, by commas).

    Why: areas need not nest. A neighbourhood can cross a district's line, and a service
    area (a greenway) crosses neighbourhoods, so the smallest area a report lies in does
    not say which larger areas hold it. A report keeps its set (ServiceRequest.area_set),
    and a filter by any area reads the reports of the few sets that name it
    (departments/areasets.py). A set is made the first time a point falls in it, and never
    changes: when areas change, reports move to other sets (reports/services/areas.py)."""

    key = models.CharField(max_length=1000, unique=True, editable=False)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.key

    @property
    def area_ids(self) -> list[int]:
        return [int(part) for part in self.key.split(",")]


class RoutingRule(models.Model):
    """Sends reports of a service (or a whole group) in an area to a department.

    The most specific rule wins: a rule for a service beats one for its group, a rule with
    a boundary beats one without, then the lowest priority number."""

    service = models.ForeignKey(
        "reports.Service",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="routing_rules",
    )
    group = models.CharField(
        max_length=100, blank=True, help_text="Applies to every service of this group."
    )
    boundary = models.ForeignKey(
        Boundary, null=True, blank=True, on_delete=models.CASCADE, related_name="routing_rules"
    )
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="routing_rules"
    )
    priority = models.PositiveSmallIntegerField(
        default=100, help_text="Among equally specific rules the lowest number wins."
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["priority", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(service__isnull=False) & models.Q(group=""))
                | (models.Q(service__isnull=True) & ~models.Q(group="")),
                name="routingrule_service_xor_group",
                # Said in words: the default is "Constraint … is violated".
                violation_error_message="Choose a service or a group: one of them, not both.",
            )
        ]

    def __str__(self) -> str:
        target = self.service or f"group {self.group}"
        where = f" in {self.boundary.name}" if self.boundary else ""
        return f"{target}{where} → {self.department}"

    def clean(self) -> None:
        # Neither or both: the constraint says so (full_clean checks it after clean).
        # Groups match exactly: a rule for "Street" (or "streets") when the categories are in
        # "Streets" was saved and never routed a report.
        if self.group and not self.service_id and not group_has_categories(self.group):
            groups = _categories().exclude(group="").order_by("group").values_list("group")
            known = [g for (g,) in groups.distinct()[:20]]
            raise ValidationError(
                {
                    "group": f"No category is in the group “{self.group}” (groups match "
                    "exactly, capitals included). "
                    + (
                        f"The groups: {', '.join(known)}."
                        if known
                        else "No category has a group yet."
                    )
                }
            )


def _categories() -> models.Manager[models.Model]:
    # The categories by the rule's field, as departments does not import reports.
    model = RoutingRule._meta.get_field("service").related_model
    return model._default_manager


def group_has_categories(group: str, *, besides: Collection[int] = ()) -> bool:
    """Whether a category (other than those with the ids `besides`) is in this group, as
    spelled (groups match exactly, capitals included): a rule naming a group none is in
    routes nothing."""
    return _categories().filter(group=group).exclude(pk__in=besides).exists()


class StaffMembership(models.Model):
    class Role(models.TextChoices):
        AGENT = "agent", "Agent"
        MANAGER = "manager", "Manager"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.AGENT)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["department", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "department"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} of {self.department}"


class CatalogueVersion(models.Model):
    """One row: a random number that database triggers replace whenever a catalogue table
    (departments, areas, routing rules, services, questions) is written. Processes keep
    their copy of the catalogue while it stands (departments/catalogue.py)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"catalogue version {self.version}"
