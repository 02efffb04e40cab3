"""The report queue: the list staff work from, its filters, its columns and its map."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.db.models import Exists, Model, OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import get_language

from civic311.maps import MAP_MEDIA, map_config, marker_url_pattern
from departments.areasets import area_sets_in
from departments.models import Boundary, Department
from departments.permissions import department_ids
from reports.admin.paging import EstimatedCountPaginator, QueueChangeList
from reports.ids import parse_id
from reports.models import ApiKey, Photo, Service, ServiceRequest
from reports.querysets import ServiceRequestQuerySet

QUEUE_MAP_LIMIT = 500
# The dot colours of admin_map.js (STATE_COLOURS), one entry per colour: the three closed
# states other than "fixed" share the grey.
MAP_LEGEND = [
    ("new", "New"),
    ("acknowledged", "Acknowledged"),
    ("in_progress", "In progress"),
    ("fixed", "Closed: fixed"),
    ("duplicate", "Closed: duplicate, not actionable or referred elsewhere"),
]
# Never filterable from the URL (see ServiceRequestQueueAdmin.lookup_allowed).
PRIVATE_FIELDS = ("reporter_name", "reporter_email", "reporter_phone", "device_id", "account_id")


STATE_LABELS = {value: str(label) for value, label in ServiceRequest.State.choices}
# A report read without the queue's annotations (thumbnail_photo).
NOT_READ = object()
# The queue's summary column shows this much of a report's text.
SUMMARY_CHARS = 80


def map_marker(pk: int, lat: float, long: float, state: str, service: str) -> dict[str, object]:
    """One report on a staff map (admin_map.js draws it; a click opens `url`)."""
    return map_markers([(pk, lat, long, state, service)])[0]


def map_markers(rows: list[tuple[int, float, float, str, str]]) -> list[dict[str, object]]:
    """Reports on a staff map, from (pk, lat, long, state, service name) rows."""
    url = marker_url_pattern("admin:reports_servicerequest_change")
    return [
        {
            "id": pk,
            "lat": lat,
            "long": long,
            "state": state,
            "state_label": STATE_LABELS.get(state, state),
            "service": service,
            "url": url.format(pk),
        }
        for pk, lat, long, state, service in rows
    ]


def queue_map_rows(cl: ChangeList) -> list[tuple[int, float, float, str, str]]:
    """The located reports of the whole filtered queue (not only this page), up to one more
    than the map shows. When the page holds the whole queue, they are the page's rows."""
    if not cl.multi_page or (cl.show_all and cl.can_show_all):
        return [
            (report.pk, report.lat, report.long, report.state, report.service.name)
            for report in cl.result_list
            if report.lat is not None
        ][: QUEUE_MAP_LIMIT + 1]
    located = cl.queryset.with_location()
    return list(
        located.values_list("pk", "lat", "long", "state", "service__name")[: QUEUE_MAP_LIMIT + 1]
    )


# The fields the queue's columns and its map read: the rest is not loaded for the page. Of
# the department, the area and the assignee only the keys: their names are read by
# rows_queryset's subqueries.
ROW_FIELDS = (
    "service__name",
    "department",
    "area",
    "assigned_to",
    "description",
    "address",
    "lat",
    "long",
    "state",
    "status",
    "hidden",
    "reopened_by_reporter_at",
    "supporters",
    "requested_datetime",
    "expected_datetime",
)


@lru_cache(maxsize=256)
def area_label(name: str, kind: str, language: str | None) -> str:
    """An area as it reads (its name and kind): the kind's label was looked up in the
    field's choices each time, for every row of the queue."""
    return str(Boundary(name=name, kind=kind))


def name_of(model: type[Model], key: str, field: str) -> Subquery:
    """A report's related row's `field`, by the report's foreign key `key`, as a subquery."""
    return Subquery(model._default_manager.filter(pk=OuterRef(key)).order_by().values(field)[:1])


# --- Filters ----------------------------------------------------------------------------------


class DefaultedListFilter(admin.SimpleListFilter):
    """A filter with a default choice of its own instead of the admin's "All"."""

    default = "all"
    parameter_name: str = ""

    def value(self) -> str:
        return super().value() or self.default

    def choices(self, changelist: ChangeList) -> Iterator[Any]:
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class DepartmentQueueFilter(DefaultedListFilter):
    """The queue opens on "my department" for staff with a membership."""

    title = "department"
    parameter_name = "department"

    def __init__(self, request: HttpRequest, params: dict[str, Any], model: Any, model_admin: Any):
        self.default = "mine" if department_ids(request.user) else "all"
        super().__init__(request, params, model, model_admin)

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        choices = [("all", "All departments")]
        if department_ids(request.user):
            choices.insert(0, ("mine", "Mine"))
        return choices + [
            (str(pk), name) for pk, name in Department.objects.values_list("pk", "name")
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == "mine":
            return cast(ServiceRequestQuerySet, queryset).of_departments(
                department_ids(request.user)
            )
        department_id = parse_id(value)
        if department_id is not None:
            return cast(ServiceRequestQuerySet, queryset).of_departments([department_id])
        return queryset


class StatusQueueFilter(DefaultedListFilter):
    """Open reports first: the queue shows closed ones only on request (this filter, a
    workflow state, a search by report number, or ticking them for a bulk action)."""

    title = "status"
    parameter_name = "status__exact"

    def __init__(self, request: HttpRequest, params: dict[str, Any], model: Any, model_admin: Any):
        number = parse_id(request.GET.get("q", "").strip().lstrip("#"))
        # Reports ticked one by one for a bulk action are meant as ticked, closed or not.
        picked = "_selected_action" in request.POST and request.POST.get("select_across") != "1"
        asked_for_one = "state__exact" in params or number is not None or picked
        self.default = "all" if asked_for_one else "open"
        super().__init__(request, params, model, model_admin)

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("open", "Open"), ("closed", "Closed"), ("all", "Open and closed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value in ("open", "closed"):
            return queryset.filter(status=value)
        return queryset


class OverdueFilter(admin.SimpleListFilter):
    title = "target time"
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        overdue = ServiceRequest.objects.overdue().values("pk")
        if self.value() == "yes":
            return queryset.filter(pk__in=overdue)
        if self.value() == "no":
            return queryset.exclude(pk__in=overdue)
        return queryset


class HasPhotoFilter(admin.SimpleListFilter):
    title = "photo"
    parameter_name = "photo"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "With photo"), ("no", "Without photo")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        has_photo = Exists(Photo.objects.filter(request=OuterRef("pk")))
        if self.value() == "yes":
            return queryset.filter(has_photo)
        if self.value() == "no":
            return queryset.exclude(has_photo)
        return queryset


class ReporterAnswerFilter(admin.SimpleListFilter):
    """The reporter's answer to "Is it fixed?": reports they reopened come back to the queue
    marked, and this finds them."""

    title = "reporter's answer"
    parameter_name = "reporter"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("reopened", "Reopened by reporter"), ("fixed", "Confirmed fixed by reporter")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "reopened":
            return queryset.filter(reopened_by_reporter_at__isnull=False)
        if self.value() == "fixed":
            return queryset.filter(fixed_confirmed_at__isnull=False)
        return queryset


class HiddenFilter(admin.SimpleListFilter):
    title = "moderation"
    parameter_name = "hidden"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Hidden from the public"), ("no", "Public")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(hidden=self.value() == "yes")
        return queryset


class ChoiceListFilter(admin.SimpleListFilter):
    """A filter on a foreign key whose choices are the rows of the small table it points
    at (Django's RelatedOnlyFieldListFilter would find them with a DISTINCT over the whole
    report table)."""

    field = ""

    def choices_from(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return self.choices_from()

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        pk = parse_id(value)  # "²" passes isdigit() and int() refuses it
        return queryset.filter(**{self.field: pk}) if pk is not None else queryset.none()


class AreaFilter(ChoiceListFilter):
    """Every report whose point lies in the area (a district's include those of the
    neighbourhoods that cross its line), not only those shown in it."""

    title = "area"
    parameter_name = field = "area__id__exact"

    def choices_from(self) -> list[tuple[str, str]]:
        return [(str(pk), name) for pk, name in Boundary.objects.values_list("pk", "name")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        pk = parse_id(value)
        return queryset.filter(area_set_id__in=area_sets_in(pk)) if pk else queryset.none()


class ServiceFilter(ChoiceListFilter):
    """Django's filter on the field would read every column of the categories for a name."""

    title = "service"
    parameter_name = field = "service__id__exact"

    def choices_from(self) -> list[tuple[str, str]]:
        return [(str(pk), name) for pk, name in Service.objects.values_list("pk", "name")]


class ApiKeyFilter(ChoiceListFilter):
    title = "API key"
    parameter_name = field = "api_key__id__exact"

    def choices_from(self) -> list[tuple[str, str]]:
        return [(str(pk), name) for pk, name in ApiKey.objects.values_list("pk", "name")]


# --- The queue --------------------------------------------------------------------------------


class ServiceRequestQueueAdmin(admin.ModelAdmin):
    """The changelist half of ServiceRequestAdmin. Rows are written by reports/admin/rows.py
    (templates/admin/reports/servicerequest/change_list.html), one string per row."""

    # Fits a 1280 px screen next to the filters: the category heads the description and the
    # area sits under the department (each has its own filter in the sidebar). What these
    # columns read is in ROW_FIELDS.
    list_display = [
        "number",
        "thumbnail",
        "summary",
        "state_badge",
        "support_count",
        "routed_to",
        "assignee",
        "received",
        "target",
    ]
    list_display_links = ["number", "summary"]
    list_filter = [
        DepartmentQueueFilter,
        StatusQueueFilter,  # before "state": it looks whether a state was chosen
        "state",
        ServiceFilter,
        OverdueFilter,
        ReporterAnswerFilter,
        HasPhotoFilter,
        AreaFilter,
        "source",
        ApiKeyFilter,
        HiddenFilter,
    ]
    # The department, the area and the assignee are not joined: see rows_queryset.
    list_select_related = ["service"]
    search_fields = ["address", "description"]
    search_help_text = "Search by report number, address or text."
    date_hierarchy = "requested_datetime"
    list_per_page = 50
    # No COUNT(*) of the whole table per page, and an estimated count of a large queue.
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    change_list_template = "admin/reports/servicerequest/change_list.html"
    # The search bar's "Show all" (search_form.html): every report one may see. Django's
    # bare "?" is the queue's default view again ("Mine", "Open").
    show_all_query = urlencode(
        {DepartmentQueueFilter.parameter_name: "all", StatusQueueFilter.parameter_name: "all"}
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        reports = cast(ServiceRequestQuerySet, super().get_queryset(request))
        return reports.visible_to(request.user)

    def rows_queryset(self, queryset: QuerySet) -> QuerySet:
        """The page's reports as the queue shows them (QueueChangeList reads them so): only
        the fields its columns and its map read (a report's other fields, its category's and
        its area's, were half the time of reading a page), and the number of each report's
        first thumbnail, read in the same query (a prefetch of the page's photos cost a
        query and as much again).

        The department's, the area's and the assignee's names are subqueries too, not joins:
        with four tables joined PostgreSQL weighed the report table's indexes for every
        order of joins. At a million reports the page's query took 2.5 + 0.6 ms (planning +
        running) for a superuser and 1.5 + 0.45 for an agent's department, against 0.3 + 0.6
        and 0.5 + 0.95 so (the subqueries run once a row, where joins kept what they had
        read)."""
        user = get_user_model()
        first_thumbnail = (
            Photo.objects.filter(request=OuterRef("pk"), state=Photo.State.PROCESSED)
            .exclude(thumbnail="")
            .order_by("order", "pk")
            .values("pk")[:1]
        )
        return queryset.only(*ROW_FIELDS).annotate(
            thumbnail_photo=Subquery(first_thumbnail),
            department_name=name_of(Department, "department", "name"),
            area_name=name_of(Boundary, "area", "name"),
            area_kind=name_of(Boundary, "area", "kind"),
            assignee_name=name_of(user, "assigned_to", user.USERNAME_FIELD),
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        number = parse_id(search_term.strip().lstrip("#"))
        if number is not None:
            results |= queryset.filter(pk=number)
        return results, may_have_duplicates

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        # The admin accepts a filter on any of the model's own fields in the URL; on a private
        # field that would let staff test guesses against other departments' reporters
        # (?reporter_email__startswith=…), so those lookups are refused for everyone.
        if lookup.split("__", 1)[0] in PRIVATE_FIELDS:
            return False
        return super().lookup_allowed(lookup, value, request)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # The queue needs the width: no app navigation sidebar here.
        extra_context = {"is_nav_sidebar_enabled": False, **(extra_context or {})}
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            rows = queue_map_rows(context["cl"])
            context["queue_map"] = {
                "config": map_config(),
                "capped": len(rows) > QUEUE_MAP_LIMIT,
                "limit": QUEUE_MAP_LIMIT,
                "markers": map_markers(rows[:QUEUE_MAP_LIMIT]),
                "legend": MAP_LEGEND,
            }
            context["media"] = context["media"] + MAP_MEDIA
        return response

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return QueueChangeList

    # Columns -------------------------------------------------------------------------------

    def action_checkbox(self, obj: ServiceRequest) -> SafeString:
        """The bulk-action tick box, written directly: Django's renders a form widget
        template per row, which was a fifth of the queue's time."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" '
            'aria-label="Select this object for an action - {}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            str(obj),
        )

    @admin.display(description="#", ordering="pk")
    def number(self, obj: ServiceRequest) -> str:
        return f"#{obj.pk}"

    @admin.display(description="photo")
    def thumbnail(self, obj: ServiceRequest) -> SafeString:
        photo_id: Any = getattr(obj, "thumbnail_photo", NOT_READ)
        if photo_id is NOT_READ:
            thumbs = obj.photos.filter(state=Photo.State.PROCESSED).exclude(thumbnail="")
            photo_id = thumbs.order_by("order", "pk").values_list("pk", flat=True).first()
        if photo_id is None:
            return mark_safe("–")
        return format_html(
            '<img class="c311-thumb" src="{}" alt="" loading="lazy">',
            Photo(pk=photo_id).staff_thumbnail_url,
        )

    # The cells below are written with format_html rather than a template each: a template
    # per cell was a third of the queue's time.

    @admin.display(description="report", ordering="service__name")
    def summary(self, obj: ServiceRequest) -> SafeString:
        text = obj.description or obj.address or "(no description)"
        if len(text) > SUMMARY_CHARS:
            text = Truncator(text).chars(SUMMARY_CHARS)
        return format_html(
            '<span class="c311-service">{}</span> <span class="c311-text">{}</span>',
            obj.service.name,
            text,
        )

    @admin.display(description="state", ordering="state")
    def state_badge(self, obj: ServiceRequest) -> SafeString:
        badges = [
            format_html(
                '<span class="c311-state {}">{}</span>',
                obj.state,
                STATE_LABELS.get(obj.state, obj.state),
            )
        ]
        if obj.hidden:
            badges.append(mark_safe('<span class="c311-badge hidden">hidden</span>'))
        if obj.reopened_by_reporter_at and obj.is_open:
            badges.append(
                mark_safe('<span class="c311-badge reopened">Reopened by reporter</span>')
            )
        return mark_safe(" ".join(badges))

    @admin.display(description="+1", ordering="supporters")
    def support_count(self, obj: ServiceRequest) -> str:
        """How many citizens said "this is my problem too"."""
        return f"+{obj.supporters}" if obj.supporters else ""

    @admin.display(description="routed to", ordering="department__name")
    def routed_to(self, obj: ServiceRequest) -> SafeString:
        row: Any = obj  # with rows_queryset's names when it read the report
        department = getattr(row, "department_name", NOT_READ)
        if department is NOT_READ:  # read without them
            department = obj.department.name if obj.department else None
            area = (obj.area.name, obj.area.kind) if obj.area else None
        else:
            area = (row.area_name, row.area_kind) if obj.area_id else None
        if area is None:
            return format_html("{}", department or "–")
        label = area_label(*area, get_language())
        return format_html('{}<span class="c311-area">{}</span>', department or "–", label)

    @admin.display(description="assigned to", ordering="assigned_to")
    def assignee(self, obj: ServiceRequest) -> str | None:
        name: Any = getattr(obj, "assignee_name", NOT_READ)
        if name is NOT_READ:  # read without rows_queryset's names
            return obj.assigned_to.get_username() if obj.assigned_to else None
        return name

    @admin.display(description="received", ordering="requested_datetime")
    def received(self, obj: ServiceRequest) -> str:
        return timezone.localtime(obj.requested_datetime).strftime("%b %d %H:%M")

    @admin.display(description="target", ordering="expected_datetime")
    def target(self, obj: ServiceRequest) -> SafeString | str:
        if obj.expected_datetime is None:
            return "–"
        when = timezone.localtime(obj.expected_datetime).strftime("%b %d %H:%M")
        if obj.is_open and obj.expected_datetime < timezone.now():
            return format_html('{} <span class="c311-badge overdue">overdue</span>', when)
        return when
