"""A report's page and its triage pages (reply, assign, forward, duplicate, moderate,
recategorise). Every field of the report page is read-only: changes go through the triage
forms (reports/admin_forms.py), which call the services, so the timeline and the Open311
fields always move together."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from civic311.maps import MAP_MEDIA, map_config
from reports import admin_forms
from reports.access import can_edit_report, report_for_staff
from reports.admin.queue import PRIVATE_FIELDS, map_marker
from reports.attributes import attribute_answers
from reports.models import Photo, RequestUpdate, ServiceRequest

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
    "app_photo",
    "answers",
)
MODERATION_FIELDS = ("hidden", "description_redacted", "moderation_reason")
TRIAGE_FORMS: dict[str, type[admin_forms.TriageForm]] = {
    "reply": admin_forms.ReplyForm,
    "assign": admin_forms.AssignForm,
    "forward": admin_forms.ForwardForm,
    "duplicate": admin_forms.DuplicateForm,
    "moderate": admin_forms.ModerateForm,
    "recategorise": admin_forms.RecategoriseForm,
}


class ServiceRequestTriageAdmin(admin.ModelAdmin):
    """The report page and triage pages half of ServiceRequestAdmin."""

    change_form_template = "admin/reports/servicerequest/change_form.html"

    # The report page -----------------------------------------------------------------------

    def get_fieldsets(self, request: HttpRequest, obj: ServiceRequest | None = None) -> Any:
        editor = obj is not None and can_edit_report(request.user, obj)
        # Only who may moderate the comments is offered to (another department's staff can
        # open a comment, read-only).
        comments = "comment_list" if editor else "comment_list_read_only"
        fieldsets: list[tuple[str | None, dict[str, Any]]] = [
            (None, {"fields": REPORT_FIELDS}),
            ("Photos", {"fields": ["photo_gallery"]}),
            ("Timeline", {"fields": ["timeline"]}),
            ("Comments", {"fields": [comments]}),
            ("Moderation", {"fields": MODERATION_FIELDS, "classes": ["collapse"]}),
        ]
        # Contact data is for the department that handles the report, nobody else.
        if editor:
            fieldsets.append(("Reporter (private: never published)", {"fields": PRIVATE_FIELDS}))
        return fieldsets

    def get_readonly_fields(
        self, request: HttpRequest, obj: ServiceRequest | None = None
    ) -> list[str]:
        return [
            *REPORT_FIELDS,
            "photo_gallery",
            "timeline",
            "comment_list",
            "comment_list_read_only",
            *MODERATION_FIELDS,
            *PRIVATE_FIELDS,
        ]

    def save_model(
        self, request: HttpRequest, obj: ServiceRequest, form: Any, change: bool
    ) -> None:
        # Nothing is editable on the model form itself; never write the row from here.
        return None

    @admin.display(description="answers")
    def answers(self, obj: ServiceRequest) -> SafeString:
        """The category's questions with the answers given (list keys shown by name)."""
        return render_to_string(
            "admin/reports/servicerequest/answers.html", {"answers": attribute_answers(obj)}
        )

    @admin.display(description="photo linked by the app")
    def app_photo(self, obj: ServiceRequest) -> SafeString | str:
        """The photo an app gave as an address (Open311 media_url): published in the API when
        the report has no photo of its own, and it was nowhere on the report's page, so staff
        never saw it. Not loaded here: a link, with no referrer (the admin's address)."""
        if not obj.media_url:
            return "–"
        return format_html(
            '<a href="{}" rel="noreferrer">{}</a>',
            obj.media_url,
            obj.media_url,
        )

    @admin.display(description="location")
    def location(self, obj: ServiceRequest) -> str:
        if obj.lat is None:
            return "–"
        return f"{obj.lat:.5f}, {obj.long:.5f}"

    @admin.display(description="photos")
    def photo_gallery(self, obj: ServiceRequest) -> SafeString:
        photos = [
            {
                "photo": photo,
                "ready": photo.state == Photo.State.PROCESSED and photo.image and photo.thumbnail,
            }
            for photo in obj.photos.all()
        ]
        return render_to_string(
            "admin/reports/servicerequest/photo_gallery.html", {"photos": photos}
        )

    @admin.display(description="timeline")
    def timeline(self, obj: ServiceRequest) -> SafeString:
        labels = dict(ServiceRequest.State.choices)
        entries = []
        for update in obj.updates.select_related("author", "department_from", "department_to"):
            what = update.get_kind_display()
            if update.state_to and update.kind == RequestUpdate.Kind.STATE:
                before = labels.get(update.state_from, update.state_from)
                what = f"{before} → {labels.get(update.state_to, update.state_to)}"
            entries.append({"update": update, "what": what})
        return render_to_string("admin/reports/servicerequest/timeline.html", {"entries": entries})

    @admin.display(description="comments")
    def comment_list(self, obj: ServiceRequest, moderate: bool = True) -> SafeString:
        """Citizens' comments, hidden ones too, each linking to its moderation page."""
        return render_to_string(
            "admin/reports/servicerequest/comments.html",
            {"comments": obj.comments.order_by("created", "pk"), "moderate": moderate},
        )

    @admin.display(description="comments")
    def comment_list_read_only(self, obj: ServiceRequest) -> SafeString:
        """The comments as another department's staff see them: to read, not to hide."""
        return self.comment_list(obj, moderate=False)

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> ServiceRequest | None:
        """Django's lookup, with the category, department and area the page shows read in
        the same query."""
        queryset = self.get_queryset(request).select_related("service", "department", "area")
        opts = ServiceRequest._meta
        field = cast(models.Field, opts.pk if from_field is None else opts.get_field(from_field))
        try:
            return queryset.get(**{field.name: field.to_python(object_id)})
        except (ServiceRequest.DoesNotExist, ValidationError, ValueError):
            return None

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra = dict(extra_context or {})
        extra.update(
            show_save=False,
            show_save_and_continue=False,
            show_save_and_add_another=False,
            is_nav_sidebar_enabled=False,
        )
        response = super().change_view(request, object_id, form_url, extra)
        if isinstance(response, TemplateResponse) and response.context_data is not None:
            response.context_data["media"] = response.context_data["media"] + MAP_MEDIA
        return response

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: ServiceRequest | None = None,
    ) -> HttpResponse:
        # The report as Django's view read it: the triage forms, or why they are not shown,
        # and its map.
        if obj is not None:
            context.update(self.report_page_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def report_page_context(self, request: HttpRequest, report: ServiceRequest) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if can_edit_report(request.user, report):
            extra["reply_form"] = admin_forms.ReplyForm(report=report, user=request.user)
            extra["triage_links"] = [
                (reverse(f"admin:reports_servicerequest_{name}", args=[report.pk]), form.title)
                for name, form in TRIAGE_FORMS.items()
                if name != "reply"
            ]
        else:
            extra["read_only_reason"] = (
                f"This report is with {report.department or 'no department'}. You can read it; "
                "only that department can change it."
            )
        if report.lat is not None and report.long is not None:
            extra["report_map"] = {
                "config": map_config(),
                "markers": [
                    map_marker(
                        report.pk, report.lat, report.long, report.state, report.service.name
                    )
                ],
            }
        return extra

    # Triage pages --------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                f"<path:object_id>/{name}/",
                self.admin_site.admin_view(self.triage_view),
                {"name": name},
                name=f"reports_servicerequest_{name}",
            )
            for name in TRIAGE_FORMS
        ]
        return extra + super().get_urls()

    def triage_view(self, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
        report = report_for_staff(request.user, object_id, edit=True)
        form_class = TRIAGE_FORMS[name]
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
