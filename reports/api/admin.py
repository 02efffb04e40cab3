"""Staff manage API keys here. A new key's secret is shown once, in a message."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.forms import ModelForm
from django.http import HttpRequest

from reports.models import ApiKey
from reports.services.api_keys import api_key_issue


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "contact_email", "prefix", "active", "created", "last_used"]
    list_filter = ["active"]
    search_fields = ["name", "contact_email", "prefix"]
    fields = ["name", "contact_email", "active", "prefix", "created", "last_used"]
    readonly_fields = ["prefix", "created", "last_used"]

    def save_model(self, request: HttpRequest, obj: ApiKey, form: ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        raw = api_key_issue(key=obj)
        messages.warning(
            request,
            f"The new API key for {obj.name} is {raw} — copy it now: it is not stored and "
            "will not be shown again.",
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Reports keep a link to the key that filed them: deactivate instead of deleting.
        return False
