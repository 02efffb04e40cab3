"""The staff side, split by job:

- queue.py: the report queue (filters, columns, the map),
- triage.py: a report's page and its triage pages,
- actions.py: bulk actions on the queue,
- catalogue.py: categories, their questions, response templates,
- records.py: rows only services write (photos, timeline, subscriptions, tokens),
- outbox.py: the emails recorded, pending and failed, and "retry now" (superusers and
  staff with the outbox's view permission only: recipients are personal data),
- comments.py: citizens' comments and their moderation.

Who may see and change a report is one rule, `ServiceRequest.objects.visible_to(user)` /
`.editable_by(user)` (reports/access.py fetches one report through it): staff see every
department's reports read-only and triage only their own department's; managers also edit
their categories' target times and their response templates; superusers do everything. The
HTML is in templates/admin/reports/, the styles in static/departments/staff.css."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

import reports.api.admin  # noqa: F401  (registers ApiKeyAdmin)
from departments.permissions import is_superuser
from reports.access import can_edit_report
from reports.admin import catalogue, comments, outbox, records  # noqa: F401  (register their admins)
from reports.admin.actions import ServiceRequestActionsAdmin
from reports.admin.queue import ServiceRequestQueueAdmin
from reports.admin.triage import ServiceRequestTriageAdmin
from reports.models import ServiceRequest
from reports.services.triage import reports_delete


@admin.register(ServiceRequest)
class ServiceRequestAdmin(
    ServiceRequestQueueAdmin, ServiceRequestTriageAdmin, ServiceRequestActionsAdmin
):
    def has_add_permission(self, request: HttpRequest) -> bool:
        # Reports come from citizens and apps through the create service (routing,
        # validation, timeline); the admin never creates one behind its back.
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: ServiceRequest | None = None
    ) -> bool:
        allowed = super().has_change_permission(request, obj)
        if obj is None:
            return allowed
        return allowed and can_edit_report(request.user, obj)

    def has_delete_permission(
        self, request: HttpRequest, obj: ServiceRequest | None = None
    ) -> bool:
        return is_superuser(request.user)

    # Deleting (the report page's Delete, the "Delete selected" action) goes through the
    # service: a bare delete left the photos served and the report in the open-data dumps.
    def delete_model(self, request: HttpRequest, obj: ServiceRequest) -> None:
        reports_delete(reports=ServiceRequest.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ServiceRequest]) -> None:
        reports_delete(reports=queryset)
