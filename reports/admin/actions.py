"""Bulk actions on the queue: acknowledge, start, close, assign, forward. Each runs the same
service as the report page, one report at a time; reports of another department are skipped
and counted (`editable_by`), and a report that may not change is named with the reason."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from reports import admin_forms
from reports.models import ServiceRequest
from reports.querysets import ServiceRequestQuerySet
from reports.services import triage


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class ServiceRequestActionsAdmin(admin.ModelAdmin):
    """The bulk-action half of ServiceRequestAdmin."""

    actions = [
        "acknowledge_selected",
        "start_selected",
        "close_selected",
        "assign_selected",
        "forward_selected",
    ]

    def _split(
        self, request: HttpRequest, queryset: ServiceRequestQuerySet
    ) -> tuple[list[ServiceRequest], int]:
        """The selected reports the user may change, and how many others were selected."""
        mine = list(queryset.editable_by(request.user).select_related("department").order_by("pk"))
        return mine, queryset.count() - len(mine)

    def _report_outcome(
        self, request: HttpRequest, done: int, verb: str, skipped: int, failures: list[str]
    ) -> None:
        if done:
            self.message_user(request, f"{verb} {_plural(done, 'report')}.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"Skipped {_plural(skipped, 'report')} of another department: you can only "
                "change your own department's reports.",
                messages.WARNING,
            )
        if failures:
            self.message_user(
                request,
                f"{_plural(len(failures), 'report')} could not change: " + "; ".join(failures[:10]),
                messages.ERROR,
            )

    def _run_each(
        self, reports: list[ServiceRequest], run: Callable[[ServiceRequest], object]
    ) -> tuple[int, list[str]]:
        done, failures = 0, []
        for report in reports:
            try:
                run(report)
            except ValidationError as exc:
                failures.append(f"#{report.pk}: {' '.join(exc.messages)}")
            else:
                done += 1
        return done, failures

    def _simple_action(
        self,
        request: HttpRequest,
        queryset: ServiceRequestQuerySet,
        service: Callable[..., object],
        verb: str,
    ) -> None:
        reports, skipped = self._split(request, queryset)
        done, failures = self._run_each(
            reports, lambda report: service(report=report, author=request.user)
        )
        self._report_outcome(request, done, verb, skipped, failures)

    def _form_action(
        self,
        request: HttpRequest,
        queryset: ServiceRequestQuerySet,
        *,
        action: str,
        form_class: type[admin_forms.BulkForm],
        title: str,
        verb: str,
    ) -> HttpResponse | None:
        """An action with an intermediate page: show the form, then run it on each report."""
        form = form_class(request.POST if "apply" in request.POST else None, user=request.user)
        reports, skipped = self._split(request, queryset)
        if "apply" in request.POST and form.is_valid():
            done, failures = self._run_each(reports, form.run_one)
            self._report_outcome(request, done, verb, skipped, failures)
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "form": form,
            "action": action,
            "selected": queryset.values_list("pk", flat=True),
            "reports": reports,
            "skipped": skipped,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/reports/servicerequest/bulk_form.html", context)

    @admin.action(description="Acknowledge selected reports", permissions=["change"])
    def acknowledge_selected(self, request: HttpRequest, queryset: ServiceRequestQuerySet) -> None:
        self._simple_action(request, queryset, triage.report_acknowledge, "Acknowledged")

    @admin.action(description="Start work on selected reports", permissions=["change"])
    def start_selected(self, request: HttpRequest, queryset: ServiceRequestQuerySet) -> None:
        self._simple_action(request, queryset, triage.report_start, "Started")

    @admin.action(
        description="Close selected reports (with a response template)…", permissions=["change"]
    )
    def close_selected(
        self, request: HttpRequest, queryset: ServiceRequestQuerySet
    ) -> HttpResponse | None:
        return self._form_action(
            request,
            queryset,
            action="close_selected",
            form_class=admin_forms.BulkCloseForm,
            title="Close reports",
            verb="Closed",
        )

    @admin.action(description="Assign selected reports to a staff member…", permissions=["change"])
    def assign_selected(
        self, request: HttpRequest, queryset: ServiceRequestQuerySet
    ) -> HttpResponse | None:
        return self._form_action(
            request,
            queryset,
            action="assign_selected",
            form_class=admin_forms.BulkAssignForm,
            title="Assign reports",
            verb="Assigned",
        )

    @admin.action(
        description="Forward selected reports to another department…", permissions=["change"]
    )
    def forward_selected(
        self, request: HttpRequest, queryset: ServiceRequestQuerySet
    ) -> HttpResponse | None:
        return self._form_action(
            request,
            queryset,
            action="forward_selected",
            form_class=admin_forms.BulkForwardForm,
            title="Forward reports",
            verb="Forwarded",
        )
