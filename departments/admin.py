"""Departments admin: departments, staff memberships, boundaries (drawn on a map or uploaded
as GeoJSON) and routing rules. Staff get view rights through the "Department staff" group;
only superusers change these tables."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString

from civic311.admin_inlines import LabelledTabularInline
from civic311.geo import parse_area, validate_area_in_city
from civic311.maps import DRAW_MEDIA, MAP_MEDIA, map_config
from departments.models import Boundary, Department, RoutingRule, StaffMembership
from departments.services import (
    MISSING_GROUP,
    areas_changed_on_commit,
    geojson_single_area,
    staff_access_sync,
)

BOUNDARY_MAP_LIMIT = 300


class GeoJSONMapWidget(forms.Textarea):
    """The GeoJSON textarea plus a Leaflet map to draw or edit the area (leaflet.draw).

    Drawn with render_to_string because the default form renderer does not search the
    project's template folder."""

    template = "admin/departments/boundary/geojson_map_widget.html"
    media = DRAW_MEDIA

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"rows": 4, "cols": 80, **(attrs or {})})

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        textarea = super().render(name, value, attrs, renderer)
        input_id = (attrs or {}).get("id", f"id_{name}")
        return render_to_string(
            self.template, {"input_id": input_id, "config": map_config(), "textarea": textarea}
        )


class BoundaryAdminForm(forms.ModelForm):
    geojson_file = forms.FileField(
        required=False,
        label="…or upload a GeoJSON file",
        help_text="One Polygon or MultiPolygon (a geometry, a Feature or a one-feature "
        "FeatureCollection), longitude/latitude in WGS84. Replaces the drawing.",
    )

    class Meta:
        model = Boundary
        fields = ["name", "kind", "geometry", "geojson_file"]
        widgets = {"geometry": GeoJSONMapWidget}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "geometry" in self.fields:  # absent on the read-only view for staff
            self.fields["geometry"].required = False

    def clean_geometry(self) -> Any:
        geometry = self.cleaned_data.get("geometry")
        try:
            area = parse_area(geometry) if geometry else None
        except ValidationError:
            return geometry  # the model says what is wrong with it
        if area is not None:
            validate_area_in_city(area)
        return geometry

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        upload = cleaned.get("geojson_file")
        if upload:
            if upload.size > 5 * 1024 * 1024:
                self.add_error("geojson_file", "The file is larger than 5 MB.")
                return cleaned
            try:
                cleaned["geometry"] = geojson_single_area(upload.read())
            except ValidationError as exc:
                self.add_error("geojson_file", exc)
                return cleaned
            self.errors.pop("geometry", None)
        elif not cleaned.get("geometry") and "geometry" not in self.errors:
            self.add_error("geometry", "Draw the area on the map or upload a GeoJSON file.")
        return cleaned


def _sync(request: HttpRequest, user_ids: set[int]) -> None:
    """staff_access_sync, and the admin told when the staff group is missing."""
    if not staff_access_sync(user_ids):
        messages.error(request, MISSING_GROUP)


class StaffMembershipInline(LabelledTabularInline):
    model = StaffMembership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "active", "member_count"]
    list_filter = ["active"]
    search_fields = ["name", "slug", "email"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [StaffMembershipInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Department]:
        return super().get_queryset(request).annotate(members=Count("memberships"))

    def save_model(self, request: HttpRequest, obj: Department, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if obj.active and not obj.email:
            # Every message to a department goes to this address: without one, its new
            # reports, forwards and citizens' comments arrive with no email at all.
            messages.warning(
                request,
                f"{obj} has no contact email: its new reports, forwarded reports and "
                "citizens' comments send no email (its staff see them in the queue).",
            )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """The staff added or removed here get or lose their admin access."""
        department = form.instance
        before = set(department.memberships.values_list("user_id", flat=True))
        super().save_related(request, form, formsets, change)
        after = set(department.memberships.values_list("user_id", flat=True))
        _sync(request, before | after)

    # Deleting a department deletes its memberships: their staff lose the access with them.
    def delete_model(self, request: HttpRequest, obj: Department) -> None:
        users = set(obj.memberships.values_list("user_id", flat=True))
        super().delete_model(request, obj)
        _sync(request, users)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Department]) -> None:
        users = set(
            StaffMembership.objects.filter(department__in=queryset).values_list(
                "user_id", flat=True
            )
        )
        super().delete_queryset(request, queryset)
        _sync(request, users)

    @admin.display(description="staff", ordering="members")
    def member_count(self, obj: Department) -> int:
        return obj.members  # type: ignore[attr-defined]


@admin.register(Boundary)
class BoundaryAdmin(admin.ModelAdmin):
    form = BoundaryAdminForm
    list_display = ["name", "kind", "updated"]
    list_filter = ["kind"]
    search_fields = ["name"]
    change_list_template = "admin/departments/boundary/change_list.html"

    # The reports around an area drawn, redrawn or deleted are located again (services).
    def save_model(self, request: HttpRequest, obj: Boundary, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        areas_changed_on_commit()

    def delete_model(self, request: HttpRequest, obj: Boundary) -> None:
        super().delete_model(request, obj)
        areas_changed_on_commit()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Boundary]) -> None:
        super().delete_queryset(request, queryset)
        areas_changed_on_commit()

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            boundaries = context["cl"].queryset[:BOUNDARY_MAP_LIMIT]
            context["boundary_map"] = {
                "config": map_config(),
                "geojson": {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "geometry": b.geometry,
                            "properties": {
                                "name": str(b),
                                "url": reverse("admin:departments_boundary_change", args=[b.pk]),
                            },
                        }
                        for b in boundaries
                    ],
                },
            }
            context["media"] = context["media"] + MAP_MEDIA
        return response


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "service", "group", "boundary", "department", "priority", "active"]
    list_filter = ["active", "department", "boundary__kind"]
    search_fields = ["service__name", "group", "boundary__name", "department__name"]
    list_select_related = ["service", "boundary", "department"]
    autocomplete_fields = ["boundary"]


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "department", "role", "created"]
    list_filter = ["role", "department"]
    search_fields = ["user__username", "user__email", "department__name"]
    list_select_related = ["user", "department"]
    autocomplete_fields = ["user"]

    # The member gets (or, with the last membership gone, loses) admin access.
    def save_model(
        self, request: HttpRequest, obj: StaffMembership, form: Any, change: bool
    ) -> None:
        before = form.initial.get("user") if change else None
        super().save_model(request, obj, form, change)
        _sync(request, {obj.user_id} | ({before} if before else set()))

    def delete_model(self, request: HttpRequest, obj: StaffMembership) -> None:
        super().delete_model(request, obj)
        _sync(request, {obj.user_id})

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[StaffMembership]) -> None:
        users = set(queryset.values_list("user_id", flat=True))
        super().delete_queryset(request, queryset)
        _sync(request, users)
