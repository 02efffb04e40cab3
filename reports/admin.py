"""The staff side: the report queue and triage pages, categories, templates and the rest.

Who may change what is decided per object (departments/permissions.py): staff see every
department's reports read-only and triage only their own department's; managers also edit
their categories' target times and their response templates; superusers do everything.
All changes to a report go through reports/services/triage.py, from the triage forms and the bulk
actions alike, so the timeline and the Open311 fields are always kept in step."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

import reports.api.admin  # noqa: F401  (registers ApiKeyAdmin)
from departments.admin import MAP_MEDIA, map_config
from departments.models import Department
from departments.permissions import (
    can_edit_department_work,
    can_manage_department,
    department_ids,
    is_superuser,
    managed_department_ids,
)
from reports import admin_forms
from reports.models import (
    AttributeValue,
    Photo,
    RequestToken,
    RequestUpdate,
    ResponseTemplate,
    Service,
    ServiceAttribute,
    ServiceRequest,
    Subscription,
)
from reports.services import triage

QUEUE_MAP_LIMIT = 500


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _marker(pk: int, lat: float, long: float, state: str, service: str) -> dict[str, object]:
    """One report on a staff map (admin_map.js draws it)."""
    return {
        "id": pk,
        "lat": lat,
        "lng": long,  # Leaflet's name, for the map script
        "state": state,
        "state_label": str(dict(ServiceRequest.State.choices).get(state, state)),
        "service": service,
        "url": reverse("admin:reports_servicerequest_change", args=[pk]),
    }


# --- Queue filters -------------------------------------------------------------------------


class DepartmentQueueFilter(admin.SimpleListFilter):
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

    def value(self) -> str:
        return super().value() or self.default

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == "mine":
            return queryset.filter(department_id__in=department_ids(request.user))
        if value.isdigit():
            return queryset.filter(department_id=int(value))
        return queryset

    def choices(self, changelist: ChangeList):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


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


class HiddenFilter(admin.SimpleListFilter):
    title = "moderation"
    parameter_name = "hidden"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Hidden from the public"), ("no", "Public")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(hidden=self.value() == "yes")
        return queryset


# --- The report queue and triage ------------------------------------------------------------

REPORT_FIELDS = (
    "service",
    "state_badge",
    "department",
    "assigned_to",
    "area",
    "description",
    "address",
    "location",
    "requested_datetime",
    "target",
    "closed_datetime",
    "updated_datetime",
    "status_notes",
    "duplicate_of",
    "source",
    "api_key",
    "attributes",
)
MODERATION_FIELDS = ("hidden", "description_redacted", "moderation_reason")
PRIVATE_FIELDS = ("reporter_name", "reporter_email", "reporter_phone", "device_id", "account_id")


@admin.register(ServiceRequest)
class ServiceRequestAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "thumbnail",
        "service",
        "summary",
        "state_badge",
        "department",
        "area",
        "assigned_to",
        "received",
        "target",
    ]
    list_display_links = ["number", "summary"]
    list_filter = [
        DepartmentQueueFilter,
        "status",
        "state",
        "service",
        OverdueFilter,
        HasPhotoFilter,
        ("area", admin.RelatedOnlyFieldListFilter),
        "source",
        ("api_key", admin.RelatedOnlyFieldListFilter),
        HiddenFilter,
    ]
    list_select_related = ["service", "department", "area", "assigned_to"]
    search_fields = ["address", "description"]
    search_help_text = "Search by report number, address or text."
    date_hierarchy = "requested_datetime"
    list_per_page = 50
    actions = [
        "acknowledge_selected",
        "start_selected",
        "close_selected",
        "assign_selected",
        "forward_selected",
    ]
    change_list_template = "admin/reports/servicerequest/change_list.html"
    change_form_template = "admin/reports/servicerequest/change_form.html"

    triage_forms: dict[str, type[admin_forms.TriageForm]] = {
        "reply": admin_forms.ReplyForm,
        "assign": admin_forms.AssignForm,
        "forward": admin_forms.ForwardForm,
        "duplicate": admin_forms.DuplicateForm,
        "moderate": admin_forms.ModerateForm,
        "recategorise": admin_forms.RecategoriseForm,
    }

    # Permissions ------------------------------------------------------------------------

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Reports come from citizens and apps through report_create (routing,
        # validation, timeline); the admin never creates one behind its back.
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: ServiceRequest | None = None
    ) -> bool:
        allowed = super().has_change_permission(request, obj)
        if obj is None:
            return allowed
        return allowed and can_edit_department_work(request.user, obj.department_id)

    def has_delete_permission(
        self, request: HttpRequest, obj: ServiceRequest | None = None
    ) -> bool:
        return is_superuser(request.user)

    # Queue ----------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        thumbs = (
            Photo.objects.filter(state=Photo.State.PROCESSED)
            .exclude(thumbnail="")
            .order_by("order", "pk")
        )
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("photos", queryset=thumbs, to_attr="admin_photos"))
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        number = search_term.strip().lstrip("#")
        if number.isdigit():
            results |= queryset.filter(pk=int(number))
        return results, may_have_duplicates

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # The queue needs the width: no app navigation sidebar here.
        extra_context = {"is_nav_sidebar_enabled": False, **(extra_context or {})}
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            # The map shows the whole filtered queue, not only this page, up to a cap.
            located = context["cl"].queryset.filter(lat__isnull=False)
            rows = list(
                located.values_list("pk", "lat", "long", "state", "service__name")[
                    : QUEUE_MAP_LIMIT + 1
                ]
            )
            context["queue_map"] = {
                "config": map_config(),
                "capped": len(rows) > QUEUE_MAP_LIMIT,
                "limit": QUEUE_MAP_LIMIT,
                "markers": [_marker(*row) for row in rows[:QUEUE_MAP_LIMIT]],
            }
            context["media"] = context["media"] + MAP_MEDIA
        return response

    @admin.display(description="#", ordering="pk")
    def number(self, obj: ServiceRequest) -> str:
        return f"#{obj.pk}"

    @admin.display(description="photo")
    def thumbnail(self, obj: ServiceRequest) -> SafeString | str:
        photos = getattr(obj, "admin_photos", None)
        if photos is None:
            photos = list(obj.photos.filter(state=Photo.State.PROCESSED).exclude(thumbnail=""))
        if not photos:
            return "–"
        return format_html(
            '<img class="c311-thumb" src="{}" alt="" loading="lazy">', photos[0].staff_thumbnail_url
        )

    @admin.display(description="description")
    def summary(self, obj: ServiceRequest) -> str:
        text = obj.description or obj.address or "(no description)"
        return text if len(text) <= 80 else f"{text[:77]}…"

    @admin.display(description="state", ordering="state")
    def state_badge(self, obj: ServiceRequest) -> SafeString:
        hidden = (
            format_html(' <span class="c311-badge hidden">{}</span>', "hidden")
            if obj.hidden
            else ""
        )
        return format_html(
            '<span class="c311-state {}">{}</span>{}', obj.state, obj.get_state_display(), hidden
        )

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

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        # The admin accepts a filter on any of the model's own fields in the URL; on a private
        # field that would let staff test guesses against other departments' reporters
        # (?reporter_email__startswith=…), so those lookups are refused for everyone.
        if lookup.split("__", 1)[0] in PRIVATE_FIELDS:
            return False
        return super().lookup_allowed(lookup, value, request)

    # Change view ---------------------------------------------------------------------

    def get_fieldsets(self, request: HttpRequest, obj: ServiceRequest | None = None):
        fieldsets: list[tuple[str | None, dict[str, Any]]] = [
            (None, {"fields": REPORT_FIELDS}),
            ("Photos", {"fields": ["photo_gallery"]}),
            ("Timeline", {"fields": ["timeline"]}),
            ("Moderation", {"fields": MODERATION_FIELDS, "classes": ["collapse"]}),
        ]
        # Contact data is for the department that handles the report, nobody else.
        if obj is not None and can_edit_department_work(request.user, obj.department_id):
            fieldsets.append(("Reporter (private: never published)", {"fields": PRIVATE_FIELDS}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: ServiceRequest | None = None):
        # Every field is read-only: changes go through the triage forms (services/triage.py).
        return [*REPORT_FIELDS, "photo_gallery", "timeline", *MODERATION_FIELDS, *PRIVATE_FIELDS]

    def save_model(
        self, request: HttpRequest, obj: ServiceRequest, form: Any, change: bool
    ) -> None:
        # Nothing is editable on the model form itself; never write the row from here.
        return None

    @admin.display(description="location")
    def location(self, obj: ServiceRequest) -> str:
        if obj.lat is None:
            return "–"
        return f"{obj.lat:.5f}, {obj.long:.5f}"

    @admin.display(description="photos")
    def photo_gallery(self, obj: ServiceRequest) -> SafeString | str:
        photos = list(obj.photos.all())
        if not photos:
            return "No photos."
        items = []
        for photo in photos:
            if photo.state == Photo.State.PROCESSED and photo.image and photo.thumbnail:
                img = format_html(
                    '<a href="{}"><img src="{}" alt="Photo {}"></a>',
                    photo.staff_image_url,
                    photo.staff_thumbnail_url,
                    photo.order,
                )
            else:
                img = format_html("<em>{}</em>", photo.get_state_display())
            note = (
                format_html(
                    ' <span class="c311-badge hidden">hidden: {}</span>', photo.hidden_reason
                )
                if photo.hidden
                else ""
            )
            items.append(
                format_html(
                    "<figure>{}<figcaption>Photo {}{}</figcaption></figure>", img, photo.order, note
                )
            )
        return format_html(
            '<div class="c311-photos">{}</div>', format_html_join("", "{}", ((i,) for i in items))
        )

    @admin.display(description="timeline")
    def timeline(self, obj: ServiceRequest) -> SafeString:
        updates = obj.updates.select_related("author", "department_from", "department_to")
        labels = dict(ServiceRequest.State.choices)
        rows = []
        for update in updates:
            what = update.get_kind_display()
            if update.state_to and update.kind == RequestUpdate.Kind.STATE:
                before = labels.get(update.state_from, update.state_from)
                what = f"{before} → {labels.get(update.state_to, update.state_to)}"
            badge = ("public", "public") if update.public else ("internal", "internal")
            rows.append(
                format_html(
                    '<li class="{}"><span class="c311-badge {}">{}</span> <strong>{}</strong>'
                    '<div>{}</div><div class="meta">{} · {}</div></li>',
                    badge[0],
                    badge[0],
                    badge[1],
                    what,
                    update.text,
                    timezone.localtime(update.created).strftime("%b %d, %Y %H:%M"),
                    update.author or "system",
                )
            )
        return format_html(
            '<ul class="c311-timeline">{}</ul>', format_html_join("", "{}", ((r,) for r in rows))
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        report = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        extra.update(
            show_save=False,
            show_save_and_continue=False,
            show_save_and_add_another=False,
            is_nav_sidebar_enabled=False,
        )
        if report is not None and self.has_change_permission(request, report):
            reply = admin_forms.ReplyForm(report=report, user=request.user)
            extra["reply_form"] = reply
            extra["triage_links"] = [
                (reverse(f"admin:reports_servicerequest_{name}", args=[report.pk]), form.title)
                for name, form in self.triage_forms.items()
                if name != "reply"
            ]
        if report is not None and report.lat is not None:
            extra["report_map"] = {
                "config": map_config(),
                "markers": [
                    _marker(report.pk, report.lat, report.long, report.state, report.service.name)
                ],
            }
        if report is not None and not self.has_change_permission(request, report):
            extra["read_only_reason"] = (
                f"This report is with {report.department or 'no department'}. You can read it; "
                "only that department can change it."
            )
        response = super().change_view(request, object_id, form_url, extra)
        if isinstance(response, TemplateResponse) and response.context_data is not None:
            response.context_data["media"] = response.context_data["media"] + MAP_MEDIA
        return response

    # Triage pages ----------------------------------------------------------------------

    def get_urls(self):
        extra = [
            path(
                f"<path:object_id>/{name}/",
                self.admin_site.admin_view(self.triage_view),
                {"name": name},
                name=f"reports_servicerequest_{name}",
            )
            for name in self.triage_forms
        ]
        return extra + super().get_urls()

    def triage_view(self, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
        report = self.get_object(request, object_id)
        if report is None:
            # A private admin helper (not in the stubs): the standard "not found" redirect.
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)  # type: ignore[attr-defined]
        if not self.has_change_permission(request, report):
            raise PermissionDenied
        form_class = self.triage_forms[name]
        form = form_class(request.POST or None, report=report, user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                message = form.run()
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                self.message_user(request, f"#{report.pk}: {message}", messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:reports_servicerequest_change", args=[report.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": report,
            "title": f"{form.title}: report #{report.pk}",
            "form": form,
            "media": self.media + form.media + MAP_MEDIA,
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/reports/servicerequest/triage_form.html", context)

    # Bulk actions ----------------------------------------------------------------------

    def _split(self, request: HttpRequest, queryset: QuerySet) -> tuple[list[ServiceRequest], int]:
        mine, skipped = [], 0
        for report in queryset.select_related("department"):
            if can_edit_department_work(request.user, report.department_id):
                mine.append(report)
            else:
                skipped += 1
        return mine, skipped

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
        self, request: HttpRequest, reports: list[ServiceRequest], run: Any
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
        self, request: HttpRequest, queryset: QuerySet, service: Any, verb: str
    ) -> None:
        reports, skipped = self._split(request, queryset)
        done, failures = self._run_each(
            request, reports, lambda r: service(report=r, author=request.user)
        )
        self._report_outcome(request, done, verb, skipped, failures)

    def _form_action(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        *,
        action: str,
        form_class: type[admin_forms.BulkForm],
        title: str,
        verb: str,
    ) -> HttpResponse | None:
        """An action with an intermediate page: show the form, then run it on each report."""
        form = form_class(request.POST if "apply" in request.POST else None, user=request.user)
        if "apply" in request.POST and form.is_valid():
            reports, skipped = self._split(request, queryset)
            done, failures = self._run_each(request, reports, form.run_one)
            self._report_outcome(request, done, verb, skipped, failures)
            return None
        reports, skipped = self._split(request, queryset)
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
    def acknowledge_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._simple_action(request, queryset, triage.report_acknowledge, "Acknowledged")

    @admin.action(description="Start work on selected reports", permissions=["change"])
    def start_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._simple_action(request, queryset, triage.report_start, "Started")

    @admin.action(
        description="Close selected reports (with a response template)…", permissions=["change"]
    )
    def close_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._form_action(
            request,
            queryset,
            action="close_selected",
            form_class=admin_forms.BulkCloseForm,
            title="Close reports",
            verb="Closed",
        )

    @admin.action(description="Assign selected reports to a staff member…", permissions=["change"])
    def assign_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
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
    def forward_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._form_action(
            request,
            queryset,
            action="forward_selected",
            form_class=admin_forms.BulkForwardForm,
            title="Forward reports",
            verb="Forwarded",
        )


# --- Categories and templates (managers) ----------------------------------------------------


class ServiceAttributeInline(admin.TabularInline):
    model = ServiceAttribute
    extra = 0
    show_change_link = True


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "service_code", "group", "department", "sla_hours", "type", "active"]
    list_filter = ["active", "group", "department", "type"]
    search_fields = ["name", "service_code", "keywords", "group"]
    list_select_related = ["department"]
    inlines = [ServiceAttributeInline]

    def has_change_permission(self, request: HttpRequest, obj: Service | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        if obj is None:
            return allowed
        return allowed and can_manage_department(request.user, obj.department_id)

    def get_readonly_fields(self, request: HttpRequest, obj: Service | None = None):
        if is_superuser(request.user):
            return []
        # Managers set their categories' target time; the rest is the city's configuration.
        return [f.name for f in Service._meta.fields if f.name not in {"id", "sla_hours"}]

    def get_inlines(self, request: HttpRequest, obj: Service | None):
        return self.inlines if is_superuser(request.user) else []


class AttributeValueInline(admin.TabularInline):
    model = AttributeValue
    extra = 0


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(admin.ModelAdmin):
    list_display = ["__str__", "service", "datatype", "required", "order"]
    list_filter = ["datatype", "required"]
    search_fields = ["code", "description", "service__name"]
    list_select_related = ["service"]
    inlines = [AttributeValueInline]


@admin.register(ResponseTemplate)
class ResponseTemplateAdmin(admin.ModelAdmin):
    list_display = ["title", "department", "service", "state", "active"]
    list_filter = ["active", "department", "state"]
    search_fields = ["title", "text", "service__name"]
    list_select_related = ["department", "service"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and (
            is_superuser(request.user) or bool(managed_department_ids(request.user))
        )

    def has_change_permission(
        self, request: HttpRequest, obj: ResponseTemplate | None = None
    ) -> bool:
        allowed = super().has_change_permission(request, obj)
        if obj is None:
            return allowed and (
                is_superuser(request.user) or bool(managed_department_ids(request.user))
            )
        return allowed and can_manage_department(request.user, obj.department_id)

    def has_delete_permission(
        self, request: HttpRequest, obj: ResponseTemplate | None = None
    ) -> bool:
        allowed = super().has_delete_permission(request, obj)
        if obj is None:
            return allowed and (
                is_superuser(request.user) or bool(managed_department_ids(request.user))
            )
        return allowed and can_manage_department(request.user, obj.department_id)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any):
        if db_field.name == "department" and not is_superuser(request.user):
            kwargs["queryset"] = Department.objects.filter(
                pk__in=managed_department_ids(request.user)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# --- Read-only records ----------------------------------------------------------------------


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
        return format_html('<img class="c311-thumb" src="{}" alt="">', obj.staff_thumbnail_url)

    @property
    def media(self):
        return super().media + MAP_MEDIA


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
    list_display = ["request", "email", "active", "created"]
    list_filter = ["active"]
    search_fields = ["email", "request__id"]
    list_select_related = ["request__service"]
    readonly_fields = ["request", "token", "created"]


@admin.register(RequestToken)
class RequestTokenAdmin(ReadOnlyAdmin):
    list_display = ["token", "request", "created"]
    search_fields = ["token", "request__id"]
    list_select_related = ["request__service"]
