"""Citizens' comments: published at once, moderated here. Staff who may triage a report
may hide its comments (with a reason) or show them again; every staff member who sees
reports sees the comments. The author's email is shown to staff only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from reports.access import can_edit_report
from reports.models import Comment, ServiceRequest
from reports.services.comments import comment_moderate

# Marks a request whose moderation wrote nothing (see CommentAdmin.save_model).
UNSAVED = "comment_moderation_unsaved"


class CommentModerationForm(forms.ModelForm):
    class Meta:
        model = Comment
        fields = ["hidden", "hidden_reason"]
        labels = {"hidden": "Hidden from the public", "hidden_reason": "Why (kept for the record)"}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("hidden") and not (data.get("hidden_reason") or "").strip():
            self.add_error("hidden_reason", "Say why, for the record.")
        return data


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    form = CommentModerationForm
    list_display = ["__str__", "request", "public_author", "short_text", "hidden", "created"]
    list_filter = ["hidden", "from_reporter"]
    search_fields = ["text", "request__id"]
    list_select_related = ["request__service"]
    date_hierarchy = "created"
    readonly_fields = ["request", "text", "author_name", "author_email", "from_reporter", "created"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The author's email is contact data: for the report's department only.
        shown = [f for f in self.readonly_fields if f != "author_email"]
        if obj is not None and can_edit_report(request.user, obj.request):
            shown.append("author_email")
        return [*shown, "hidden", "hidden_reason"]

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        # As the queue's reporter fields: ?author_email__startswith=… would let any
        # department's staff test guesses of a commenter's (or a reporter's, on "it is not
        # fixed") address, which only the report's department sees.
        if lookup.split("__", 1)[0] in ("author_email", "author_name"):
            return False
        return super().lookup_allowed(lookup, value, request)

    @admin.display(description="text")
    def short_text(self, obj: Comment) -> str:
        return obj.text if len(obj.text) <= 80 else f"{obj.text[:77]}…"

    @admin.display(description="by")
    def public_author(self, obj: Comment) -> str:
        return obj.public_author

    def get_queryset(self, request: HttpRequest) -> QuerySet[Comment]:
        visible = ServiceRequest.objects.visible_to(request.user)
        return super().get_queryset(request).filter(request__in=visible.values("pk"))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("reports.view_servicerequest")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return request.user.has_perm("reports.change_servicerequest")
        return can_edit_report(request.user, obj.request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # comments come from citizens, through comment_add

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # hide instead: the record stays

    def save_model(self, request: HttpRequest, obj: Comment, form: Any, change: bool) -> None:
        """Through the moderation service (timeline entry, photo files), not a bare save. When
        the service writes nothing (nothing changed, or it refused), the page says so and
        neither Django's "changed successfully" nor its history entry follows."""
        stored = Comment.objects.get(pk=obj.pk)
        try:
            comment_moderate(
                comment=stored,
                author=request.user,
                hidden=obj.hidden,
                reason=obj.hidden_reason,
            )
        except ValidationError as exc:
            setattr(request, UNSAVED, True)
            self.message_user(request, " ".join(exc.messages), level=messages.ERROR)

    def log_change(self, request: HttpRequest, obj: Comment, message: Any) -> Any:
        if getattr(request, UNSAVED, False):
            return None
        return super().log_change(request, obj, message)

    def response_change(self, request: HttpRequest, obj: Comment) -> HttpResponse:
        if getattr(request, UNSAVED, False):
            return HttpResponseRedirect(request.path)  # the page again, with the message
        return super().response_change(request, obj)
