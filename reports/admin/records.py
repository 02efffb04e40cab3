"""Records written only by services: photos, timeline entries, subscriptions (citizens'
addresses: superusers only) and request tokens. Staff look; nobody edits them by hand."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from reports.models import Photo, RequestToken, RequestUpdate, Subscription
from reports.services.photos import photos_delete


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by services: staff look, nobody edits by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Photo)
class PhotoAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "preview", "request", "state", "hidden", "created"]
    list_filter = ["state", "hidden"]
    search_fields = ["request__id"]
    list_select_related = ["request__service"]
    exclude = ["original"]  # may carry EXIF/GPS; staff see the processed versions

    @admin.display(description="preview")
    def preview(self, obj: Photo) -> SafeString | str:
        if obj.state != Photo.State.PROCESSED:
            return obj.get_state_display()
        return render_to_string("admin/reports/cell_thumbnail.html", {"photo": obj})

    # Superusers may delete a photo: through the service, which deletes its files too.
    def delete_model(self, request: HttpRequest, obj: Photo) -> None:
        photos_delete(photos=Photo.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Photo]) -> None:
        photos_delete(photos=queryset)


@admin.register(RequestUpdate)
class RequestUpdateAdmin(ReadOnlyAdmin):
    list_display = ["created", "request", "kind", "public", "author", "short_text"]
    list_filter = ["kind", "public"]
    search_fields = ["text", "request__id"]
    list_select_related = ["request__service", "author"]
    date_hierarchy = "created"

    @admin.display(description="text")
    def short_text(self, obj: RequestUpdate) -> str:
        return obj.text if len(obj.text) <= 80 else f"{obj.text[:77]}…"


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    # Holds citizens' email addresses: superusers only (the staff group has no permission).
    list_display = ["request", "email", "active", "confirmed_at", "created"]
    list_filter = ["active", ("confirmed_at", admin.EmptyFieldListFilter)]
    search_fields = ["email", "request__id"]
    list_select_related = ["request__service"]
    readonly_fields = ["request", "token", "created", "confirmed_at", "confirm_sent_at"]


@admin.register(RequestToken)
class RequestTokenAdmin(ReadOnlyAdmin):
    list_display = ["token", "request", "created"]
    search_fields = ["token", "request__id"]
    list_select_related = ["request__service"]
