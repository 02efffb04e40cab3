"""Fetching a report for a staff member, scoped by what they may do with it.

The querysets `ServiceRequest.objects.visible_to(user)` and `.editable_by(user)` say which
reports a user may read and change; the admin's queue, its report page, the triage pages and
the bulk actions all go through them (or through `can_edit_report`, the same rule for one
report already in hand), and so must any staff page still to come."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from departments.permissions import User, can_edit_department_work
from reports.models import ServiceRequest


def can_edit_report(user: User, report: ServiceRequest) -> bool:
    """`editable_by` for one report: the change permission and the report's department."""
    return user.has_perm("reports.change_servicerequest") and can_edit_department_work(
        user, report.department_id
    )


def report_for_staff(user: User, pk: int | str, *, edit: bool = False) -> ServiceRequest:
    """The report `pk` as `user` may have it: Http404 when it does not exist or they may not
    see it (nothing tells an outsider which numbers exist), PermissionDenied (403) when they
    may read it but `edit` asks to change it."""
    try:
        report = (
            ServiceRequest.objects.visible_to(user)
            .select_related("service", "department", "area", "assigned_to")
            .get(pk=int(pk))
        )
    except (ValueError, ServiceRequest.DoesNotExist) as exc:
        raise Http404("No such report.") from exc
    if edit and not can_edit_report(user, report):
        raise PermissionDenied("Only the report's department can change it.")
    return report
