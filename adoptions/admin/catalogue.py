"""Asset types, assets (and the file import), care visits."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from adoptions.importer import FORMATS, FileRefused, detect_format, read_assets
from adoptions.models import Asset, AssetType, CareLog
from adoptions.services.adoptions import adoptions_reschedule
from adoptions.services.assets import asset_active_set, assets_import
from adoptions.services.care import care_logs_delete, care_note_hide, care_photo_hide

UPLOAD_MAX_BYTES = 20 * 1024 * 1024


@admin.register(AssetType)
class AssetTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "cadence_months", "service", "active"]
    list_select_related = ["service"]
    prepopulated_fields = {"slug": ["name"]}

    def save_model(self, request: HttpRequest, obj: AssetType, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "cadence_months" in form.changed_data:
            moved = adoptions_reschedule(asset_type=obj)
            self.message_user(request, f"Due dates of {moved} current adoption(s) moved.")


class ImportForm(forms.Form):
    asset_type = forms.ModelChoiceField(queryset=AssetType.objects.all(), label="Asset type")
    file = forms.FileField(help_text="CSV, GeoJSON (points) or a GTFS stops.txt.")
    format = forms.ChoiceField(
        choices=[("", "From the file name")] + [(f, f.upper()) for f in FORMATS], required=False
    )
    keep_missing = forms.BooleanField(
        required=False, label="Keep assets missing from this file (a partial file)"
    )
    dry_run = forms.BooleanField(required=False, initial=True, label="Dry run (save nothing)")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > UPLOAD_MAX_BYTES:
            raise forms.ValidationError("The file is larger than 20 MB; use import_assets.")
        return upload


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ["name", "external_id", "asset_type", "address", "active", "flagged_for_staff"]
    list_filter = ["active", "flagged_for_staff", "asset_type"]
    search_fields = ["name", "external_id", "address"]
    list_select_related = ["asset_type"]
    readonly_fields = ["deactivated_at", "created", "updated"]
    change_list_template = "admin/adoptions/asset/change_list.html"

    def save_model(self, request: HttpRequest, obj: Asset, form: Any, change: bool) -> None:
        """The "active" box goes through the same service as an import's deactivation: an
        adopted asset taken out of service is flagged for staff, and one put back loses its
        flag and deactivation date."""
        if "active" not in form.changed_data:
            super().save_model(request, obj, form, change)
            return
        wanted = obj.active
        obj.active = not wanted  # as it was (a new asset: as created); the service switches it
        super().save_model(request, obj, form, change)
        asset_active_set(asset=obj, active=wanted)
        obj.refresh_from_db()
        if not wanted and obj.flagged_for_staff:
            self.message_user(
                request,
                f"{obj} is adopted: it keeps its adoption and is flagged for staff "
                "(end the adoption with a reason to tell the volunteer).",
                messages.WARNING,
            )

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="adoptions_asset_import",
            )
        ]
        return extra + super().get_urls()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a file: the same importer as `import_assets`, dry run by default."""
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        summary = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            content = data["file"].read()
            fmt = data["format"] or detect_format(data["file"].name, content)
            try:
                parsed = read_assets(content, fmt=fmt)
            except FileRefused as exc:
                form.add_error("file", f"Refused, nothing imported: {exc}")
            else:
                summary = assets_import(
                    asset_type=data["asset_type"],
                    parsed=parsed,
                    dry_run=data["dry_run"],
                    deactivate_missing=not data["keep_missing"],
                )
                level = messages.WARNING if summary.errors else messages.SUCCESS
                self.message_user(request, summary.lines()[0], level)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import assets from a file",
            "form": form,
            "summary": summary,
        }
        return TemplateResponse(request, "admin/adoptions/asset/import.html", context)


@admin.register(CareLog)
class CareLogAdmin(admin.ModelAdmin):
    list_display = ["date", "adoption", "photo_state", "photo_hidden", "note_hidden", "created"]
    list_filter = ["photo_state", "photo_hidden", "note_hidden"]
    list_select_related = ["adoption__asset"]
    search_fields = ["adoption__asset__name", "adoption__asset__external_id", "note"]
    date_hierarchy = "date"
    exclude = ["original", "volunteer"]  # the original may carry EXIF/GPS
    actions = ["hide_photos", "show_photos", "hide_notes", "show_notes"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # visits are the volunteers'; staff only hide photos (actions)

    def delete_model(self, request: HttpRequest, obj: CareLog) -> None:
        """Through the service: the adoption's due date is worked out from the visits left."""
        care_logs_delete(log_ids=[obj.pk])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CareLog]) -> None:
        """The "Delete selected" action, likewise."""
        care_logs_delete(log_ids=list(queryset.values_list("pk", flat=True)))

    @admin.action(description="Hide the photos of the selected visits", permissions=["hide"])
    def hide_photos(self, request: HttpRequest, queryset: QuerySet[CareLog]) -> None:
        for log in queryset:
            care_photo_hide(log=log, hidden=True)
        self.message_user(request, f"{queryset.count()} photos hidden.")

    @admin.action(description="Show the photos of the selected visits again", permissions=["hide"])
    def show_photos(self, request: HttpRequest, queryset: QuerySet[CareLog]) -> None:
        for log in queryset:
            care_photo_hide(log=log, hidden=False)
        self.message_user(request, f"{queryset.count()} photos shown.")

    @admin.action(description="Hide the notes of the selected visits", permissions=["hide"])
    def hide_notes(self, request: HttpRequest, queryset: QuerySet[CareLog]) -> None:
        for log in queryset:
            care_note_hide(log=log, hidden=True)
        self.message_user(request, f"{queryset.count()} notes hidden.")

    @admin.action(description="Show the notes of the selected visits again", permissions=["hide"])
    def show_notes(self, request: HttpRequest, queryset: QuerySet[CareLog]) -> None:
        for log in queryset:
            care_note_hide(log=log, hidden=False)
        self.message_user(request, f"{queryset.count()} notes shown.")

    def has_hide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("adoptions.change_carelog")
