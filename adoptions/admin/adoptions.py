"""Adoptions: who looks after what, overdue adopters, ending an adoption with a reason, the
CSV export, and the coverage page."""

from __future__ import annotations

import csv
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from adoptions.coverage import coverage_by_area, coverage_by_type
from adoptions.models import Adoption
from adoptions.people import display_name
from adoptions.services.adoptions import adoption_end, adoptions_nickname_remove
from civic311.spreadsheets import Echo, inert
from departments.permissions import is_superuser
from reports.limits import MAX_REASON


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("active", "Active"),
            ("overdue", "Active, care overdue"),
            ("ended", "Ended"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Adoption]) -> QuerySet[Adoption]:
        today = timezone.localdate()
        if self.value() == "active":
            return queryset.filter(ended__isnull=True)
        if self.value() == "overdue":
            return queryset.filter(ended__isnull=True, due_on__lt=today)
        if self.value() == "ended":
            return queryset.filter(ended__isnull=False)
        return queryset


class EndForm(forms.Form):
    note = forms.CharField(
        label="Reason (the volunteer is told)",
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


EXPORT_COLUMNS = [
    "adoption_id",
    "asset_type",
    "asset_external_id",
    "asset_name",
    "volunteer",
    "nickname",
    "started",
    "last_cared_on",
    "due_on",
    "ended",
    "end_reason",
    "end_note",
]


@admin.register(Adoption)
class AdoptionAdmin(admin.ModelAdmin):
    list_display = [
        "asset",
        "volunteer_name",
        "started",
        "last_cared_on",
        "due_on",
        "ended",
        "end_reason",
    ]
    list_filter = [StateFilter, "end_reason", "asset__asset_type", "asset__flagged_for_staff"]
    search_fields = ["asset__name", "asset__external_id", "nickname"]
    list_select_related = ["asset__asset_type", "volunteer__profile"]
    date_hierarchy = "started"
    actions = ["export_csv", "remove_nicknames"]
    change_form_template = "admin/adoptions/adoption/change_form.html"
    change_list_template = "admin/adoptions/adoption/change_list.html"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        hidden = self.get_exclude(request, obj)
        return [f.name for f in Adoption._meta.fields if f.name not in hidden] + ["volunteer_name"]

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The token stops a volunteer's reminders from a link: the volunteer's alone.
        return ["volunteer", "reminder_token"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # volunteers adopt on the public pages

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # history: end, don't delete

    @admin.display(description="volunteer")
    def volunteer_name(self, obj: Adoption) -> str:
        """The display name; staff who may see volunteers' addresses get them in the export."""
        return display_name(obj.volunteer)

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "coverage/",
                self.admin_site.admin_view(self.coverage_view),
                name="adoptions_adoption_coverage",
            ),
            path(
                # An int: a mistyped id is a 404, not a failed lookup (500).
                "<int:object_id>/end/",
                self.admin_site.admin_view(self.end_view),
                name="adoptions_adoption_end",
            ),
        ]
        return extra + super().get_urls()

    def coverage_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        now = timezone.localtime()
        today = now.date()
        month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Adoption coverage",
            "by_type": coverage_by_type(today=today, month_start=month_start),
            "by_area": coverage_by_area(today=today, month_start=month_start),
            "month_start": month_start,
            "overdue_url": reverse("admin:adoptions_adoption_changelist") + "?state=overdue",
        }
        return TemplateResponse(request, "admin/adoptions/adoption/coverage.html", context)

    def end_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        adoption = get_object_or_404(Adoption.objects.select_related("asset"), pk=object_id)
        if not self.has_change_permission(request, adoption):
            raise PermissionDenied
        form = EndForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                adoption_end(
                    adoption=adoption,
                    reason=Adoption.EndReason.STAFF,
                    by=request.user,
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                # "already ended" (released or lapsed since the page opened) is the form's.
                for key, errors in exc.message_dict.items():
                    form.add_error(key if key in form.fields else None, errors)
            else:
                self.message_user(request, f"{adoption} ended.", messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:adoptions_adoption_change", args=[adoption.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": adoption,
            "title": f"End the adoption of {adoption.asset.name}",
            "form": form,
        }
        return TemplateResponse(request, "admin/adoptions/adoption/end_form.html", context)

    @admin.action(
        description="Remove the nicknames of the selected adoptions", permissions=["change"]
    )
    def remove_nicknames(self, request: HttpRequest, queryset: QuerySet[Adoption]) -> None:
        removed = adoptions_nickname_remove(
            adoption_ids=list(queryset.values_list("pk", flat=True))
        )
        self.message_user(request, f"{removed} nickname(s) removed.", messages.SUCCESS)

    @admin.action(description="Export the selected adoptions as CSV")
    def export_csv(
        self, request: HttpRequest, queryset: QuerySet[Adoption]
    ) -> StreamingHttpResponse:
        """Volunteers by display name; their email addresses only for superusers, who may
        see them anyway (the staff group may not)."""
        with_email = is_superuser(request.user)
        columns = EXPORT_COLUMNS + (["volunteer_email"] if with_email else [])
        writer = csv.writer(Echo())
        rows = (
            queryset.select_related("asset__asset_type", "volunteer__profile")
            .order_by("pk")
            .iterator(chunk_size=500)
        )

        def lines() -> Any:
            yield writer.writerow(columns)
            for adoption in rows:
                values = [
                    adoption.pk,
                    adoption.asset.asset_type.slug,
                    adoption.asset.external_id,
                    adoption.asset.name,
                    display_name(adoption.volunteer),
                    adoption.nickname,
                    adoption.started.isoformat(),
                    adoption.last_cared_on or "",
                    adoption.due_on,
                    adoption.ended.isoformat() if adoption.ended else "",
                    adoption.end_reason,
                    adoption.end_note,
                ]
                if with_email:
                    values.append(adoption.volunteer.email if adoption.volunteer else "")
                yield writer.writerow([inert(value) for value in values])

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="adoptions.csv"'
        return response
