"""The staff dashboard in the admin: the public figures plus internal ones (hidden reports,
internal states, per-agent workload, overdue by department) and a cross-department view.

Every department may see (not change) the others' figures: "government helps government".
Served under the admin site (admin.site.admin_view: active staff only)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from departments.models import Boundary, Department
from reports.insights import queries, rollups, summaries
from reports.insights.filters import Filters, InsightsFilterForm
from reports.models import ServiceRequest

CROSS_AREAS = 15


def _all_in_scope(filters: Filters) -> Any:
    """Staff figures count every report, hidden ones too."""
    return ServiceRequest.objects.filter(filters.scope())


def states_by_department(filters: Filters, now: datetime) -> dict[str, Any]:
    states = list(ServiceRequest.OPEN_STATES)
    rows = (
        _all_in_scope(filters)
        .open()
        .values("department_id", "state")
        .annotate(n=Count("pk"), overdue=Count("pk", filter=Q(expected_datetime__lt=now)))
        .order_by()
    )
    table: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        table[row["department_id"]][row["state"]] += row["n"]
        table[row["department_id"]]["overdue"] += row["overdue"]
        table[row["department_id"]]["total"] += row["n"]
    names = queries.department_names(table)
    labels = dict(ServiceRequest.State.choices)
    return {
        "columns": [labels[s] for s in states],
        "rows": sorted(
            (
                [names[d], *[counts[s] for s in states], counts["total"], counts["overdue"]]
                for d, counts in table.items()
            ),
            key=lambda row: -row[-2],
        ),
    }


def agent_workload(filters: Filters, now: datetime) -> list[dict[str, Any]]:
    return list(
        _all_in_scope(filters)
        .open()
        .filter(assigned_to__isnull=False)
        .values("assigned_to__username")
        .annotate(n=Count("pk"), overdue=Count("pk", filter=Q(expected_datetime__lt=now)))
        .order_by("-n", "assigned_to__username")[:25]
    )


def cross_department(filters: Filters) -> dict[str, Any]:
    """Reports per area and department in the period, for the category and area filters
    (not the department filter): who else is getting reports at the same places."""
    scope = Filters(
        start=filters.start, end=filters.end, service=filters.service, area=filters.area
    ).scope()
    if rollups.usable():
        rows: Any = summaries.area_department_counts(filters)
    else:
        rows = (
            ServiceRequest.objects.filter(
                scope,
                requested_datetime__gte=filters.start,
                requested_datetime__lt=filters.end,
                area__isnull=False,
            )
            .values("area_id", "department_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
    grid: dict[int, dict[Any, int]] = defaultdict(dict)
    for row in rows:
        grid[row["area_id"]][row["department_id"]] = row["n"]
    top = sorted(grid, key=lambda a: -sum(grid[a].values()))[:CROSS_AREAS]
    departments = sorted(
        {d for a in top for d in grid[a]}, key=lambda d: -sum(grid[a].get(d, 0) for a in top)
    )
    names = queries.department_names(departments)
    areas = dict(Boundary.objects.filter(pk__in=top).values_list("pk", "name"))
    return {
        "departments": [names[d] for d in departments],
        "rows": [
            [areas.get(a, "?"), [grid[a].get(d, 0) for d in departments], sum(grid[a].values())]
            for a in top
        ],
    }


def period_totals(filters: Filters) -> dict[str, int]:
    """Reports received in the period (hidden ones too), how many hidden, how many closed."""
    if rollups.usable():
        return summaries.staff_totals(filters)
    in_period = _all_in_scope(filters).filter(
        requested_datetime__gte=filters.start, requested_datetime__lt=filters.end
    )
    return in_period.aggregate(
        received=Count("pk"),
        hidden=Count("pk", filter=Q(hidden=True)),
        closed=Count("pk", filter=Q(status="closed")),
    )


def staff_dashboard(request: HttpRequest) -> HttpResponse:
    # admin_view lets in any active staff account; these figures are the reports' own (hidden
    # ones, agents' names), so only those who may view reports see them, as in the queue.
    if not request.user.has_perm("reports.view_servicerequest"):
        raise PermissionDenied("Only staff who may view reports see their figures.")
    form = InsightsFilterForm(request.GET or None)
    filters = form.filters()
    now = timezone.now()
    totals = period_totals(filters)
    own = Department.objects.filter(memberships__user__pk=request.user.pk or 0).values_list(
        "slug", flat=True
    )
    context = {
        **admin.site.each_context(request),
        "title": "Insights for staff",
        "form": form,
        "filters": filters,
        "totals": totals,
        "states": states_by_department(filters, now),
        "agents": agent_workload(filters, now),
        "cross": cross_department(filters),
        "by_department": queries.response_times(filters, by="department"),
        "own_departments": list(own),
    }
    return TemplateResponse(request, "insights/staff_dashboard.html", context)
