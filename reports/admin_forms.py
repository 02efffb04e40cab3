"""Forms of the staff triage pages. Each form knows its report (or, for bulk actions, the
user) and has a `run()` that calls one triage service; views only wire them up."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.html import json_script

from departments.models import Department
from departments.permissions import department_ids, is_superuser
from departments.querysets import assignable_users
from reports import rules
from reports.ids import parse_id
from reports.limits import MAX_REASON, MAX_TEXT
from reports.models import Photo, ResponseTemplate, Service, ServiceRequest
from reports.services import triage
from reports.services.photos import photo_moderate

State = ServiceRequest.State
CLOSE_CHOICES = [
    (value, label)
    for value, label in State.choices
    if value in rules.CLOSED_STATES and value != State.DUPLICATE
]
VISIBILITY_CHOICES = [
    ("public", "Public: the citizen sees it, followers get an email, Open311 shows it"),
    ("internal", "Internal: staff only"),
]


def labels(state: str) -> str:
    return str(dict(State.choices)[state])


class TemplateChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ResponseTemplate) -> str:
        scope = obj.service.name if obj.service else "any category"
        return f"{obj.title} ({scope})"


def templates_data(templates: list[ResponseTemplate]) -> dict[str, dict[str, str]]:
    """What the template picker (admin_map.js) inserts: text and proposed state by id."""
    return {str(t.pk): {"text": t.text, "state": t.state} for t in templates}


class TriageForm(forms.Form):
    """A form about one report, run by one staff member."""

    title = ""

    def __init__(
        self, *args: Any, report: ServiceRequest, user: User | AnonymousUser, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.report = report
        self.user = user

    def run(self) -> str:
        """Call the triage service; return the success message."""
        raise NotImplementedError


class ReplyForm(TriageForm):
    title = "Reply / change state"
    state = forms.ChoiceField(required=False, label="New state")
    template = TemplateChoiceField(
        queryset=ResponseTemplate.objects.none(),
        required=False,
        label="Insert a template",
        empty_label="— none —",
    )
    text = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Message",
        max_length=MAX_TEXT,
    )
    # No default: an internal remark must never go public because nobody changed a radio.
    visibility = forms.ChoiceField(
        choices=VISIBILITY_CHOICES,
        required=False,
        widget=forms.RadioSelect,
        label="Who sees the message",
        help_text="Choose one whenever you write a message.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(State.choices)
        cast(forms.ChoiceField, self.fields["state"]).choices = [
            ("", f"— keep “{self.report.get_state_display()}” —"),
            *[(s, labels[s]) for s in rules.allowed_states(self.report)],
        ]
        self.templates = list(ResponseTemplate.objects.usable_for(self.report))
        field = cast(forms.ModelChoiceField, self.fields["template"])
        field.queryset = ResponseTemplate.objects.filter(pk__in=[t.pk for t in self.templates])
        field.widget.attrs.update(
            {
                "data-templates": f"c311-templates-{self.prefix or 'reply'}",
                "data-text": self["text"].auto_id,
                "data-state": self["state"].auto_id,
            }
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        writes = cleaned.get("text", "").strip() or cleaned.get("template")
        if writes and not cleaned.get("visibility"):
            self.add_error(
                "visibility",
                "Choose who sees this message: public (the citizen and followers) or internal "
                "(staff only).",
            )
        return cleaned

    def templates_script(self) -> str:
        return json_script(
            templates_data(self.templates), f"c311-templates-{self.prefix or 'reply'}"
        )

    def run(self) -> str:
        data = self.cleaned_data
        triage.report_update(
            report=self.report,
            author=self.user,
            state=data["state"],
            text=data["text"],
            public=data["visibility"] == "public",
            template=data["template"],
        )
        return "Reply saved." if not data["state"] else f"Report is now “{labels(data['state'])}”."


class AssignForm(TriageForm):
    title = "Assign"
    assignee = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label="— nobody (unassign) —",
        label="Assign to",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["assignee"]).queryset = assignable_users(
            self.report.department_id
        )
        self.fields["assignee"].initial = self.report.assigned_to_id

    def run(self) -> str:
        assignee = self.cleaned_data["assignee"]
        triage.report_assign(report=self.report, author=self.user, assignee=assignee)
        return f"Assigned to {assignee}." if assignee else "Unassigned."


class ForwardForm(TriageForm):
    title = "Forward to another department"
    department = forms.ModelChoiceField(queryset=Department.objects.none(), label="Forward to")
    note = forms.CharField(
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Note for the other department (internal)",
        help_text="The citizen sees only “Forwarded from A to B”, never this note.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        others = Department.objects.filter(active=True)
        if self.report.department_id is not None:
            others = others.exclude(pk=self.report.department_id)
        cast(forms.ModelChoiceField, self.fields["department"]).queryset = others

    def run(self) -> str:
        department = self.cleaned_data["department"]
        triage.report_forward(
            report=self.report,
            author=self.user,
            department=department,
            note=self.cleaned_data["note"],
        )
        return f"Forwarded to {department}; they have been notified."


class DuplicateForm(TriageForm):
    title = "Close as duplicate"
    # Text, not a number input: staff type a report as the queue writes it ("#123"), which
    # a number field refused with "Enter a whole number".
    master = forms.CharField(
        max_length=30,
        label="Duplicate of report number",
        help_text="Its followers move to that report. “123” or “#123”.",
    )
    text = forms.CharField(
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Public message (optional)",
    )

    def clean_master(self) -> ServiceRequest:
        typed = self.cleaned_data["master"].strip()
        number = parse_id(typed.removeprefix("#"))
        if number is None:
            raise ValidationError(f"“{typed}” is not a report number.")
        master = ServiceRequest.objects.filter(pk=number).first()
        if master is None:
            raise ValidationError(f"There is no report #{number}.")
        return master

    def run(self) -> str:
        master = self.cleaned_data["master"]
        triage.report_close_as_duplicate(
            report=self.report, author=self.user, master=master, text=self.cleaned_data["text"]
        )
        return f"Closed as a duplicate of #{master.pk}."


class PhotoChoiceField(forms.ModelMultipleChoiceField):
    # Our admin forms' template (admin/c311_fields.html) shows each box with the photo's
    # thumbnail: "Photo 2" alone did not tell a moderator which photo they were hiding.
    thumbnails = True

    def label_from_instance(self, obj: Photo) -> str:
        # A comment's photo is public only while its comment is too: say which it is.
        return f"Photo {obj.order}" + (f" (of comment {obj.comment_id})" if obj.comment_id else "")


class ModerateForm(TriageForm):
    title = "Moderate"
    hidden = forms.BooleanField(required=False, label="Hide the whole report from the public")
    description_redacted = forms.BooleanField(
        required=False, label="Redact the description (the public sees a placeholder)"
    )
    hidden_photos = PhotoChoiceField(
        queryset=Photo.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Hidden photos",
    )
    reason = forms.CharField(
        required=False, max_length=MAX_REASON, label="Reason (internal, required when hiding)"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        photos = self.report.photos.all()
        cast(forms.ModelMultipleChoiceField, self.fields["hidden_photos"]).queryset = photos
        self.fields["hidden"].initial = self.report.hidden
        self.fields["description_redacted"].initial = self.report.description_redacted
        self.fields["hidden_photos"].initial = [p.pk for p in photos if p.hidden]
        self.fields["reason"].initial = self.report.moderation_reason
        if self.report.media_url:
            # Not one of the photos below: the API shows it until the report is hidden.
            linked = self.report.media_url
            self.fields[
                "hidden"
            ].help_text = f"Hiding the report also hides the photo the app linked to ({linked})."

    def run(self) -> str:
        data = self.cleaned_data
        hide = {p.pk for p in data["hidden_photos"]}
        changed = 0
        # Report and photo moderation succeed or fail together.
        with transaction.atomic():
            if (data["hidden"], data["description_redacted"]) != (
                self.report.hidden,
                self.report.description_redacted,
            ):
                triage.report_moderate(
                    report=self.report,
                    author=self.user,
                    hidden=data["hidden"],
                    description_redacted=data["description_redacted"],
                    reason=data["reason"],
                )
                changed += 1
            for photo in self.report.photos.all():
                if (photo.pk in hide) != photo.hidden:
                    photo_moderate(
                        photo=photo,
                        author=self.user,
                        hidden=photo.pk in hide,
                        reason=data["reason"],
                    )
                    changed += 1
        if not changed:
            raise ValidationError("Nothing to change.")
        return "Moderation saved."


class RecategoriseForm(TriageForm):
    title = "Change category"
    service = forms.ModelChoiceField(
        queryset=Service.objects.active().select_related("department"),
        label="New category",
        help_text="The report is routed again and its target time recomputed.",
    )

    def run(self) -> str:
        report = triage.report_recategorise(
            report=self.report, author=self.user, service=self.cleaned_data["service"]
        )
        return f"Category changed; the report is with {report.department}."


# Bulk actions: one form for many reports, run per report by the admin action.


class BulkForm(forms.Form):
    def __init__(self, *args: Any, user: User | AnonymousUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def run_one(self, report: ServiceRequest) -> None:
        raise NotImplementedError


class BulkCloseForm(BulkForm):
    state = forms.ChoiceField(choices=CLOSE_CHOICES, initial=State.FIXED, label="Close as")
    template = TemplateChoiceField(
        queryset=ResponseTemplate.objects.none(), required=False, label="Response template"
    )
    text = forms.CharField(
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Public message",
        help_text="Empty: the template's text is used.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        templates = ResponseTemplate.objects.filter(active=True).select_related("service")
        if not is_superuser(self.user):
            templates = templates.filter(department_id__in=department_ids(self.user))
        cast(forms.ModelChoiceField, self.fields["template"]).queryset = templates

    def run_one(self, report: ServiceRequest) -> None:
        triage.report_close(
            report=report,
            author=self.user,
            state=self.cleaned_data["state"],
            text=self.cleaned_data["text"],
            template=self.cleaned_data["template"],
        )


class BulkAssignForm(BulkForm):
    assignee = forms.ModelChoiceField(queryset=get_user_model().objects.none(), label="Assign to")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.filter(is_active=True, is_staff=True)
        if is_superuser(self.user):
            users = users.filter(memberships__isnull=False)
        else:
            users = users.filter(memberships__department_id__in=department_ids(self.user))
        cast(forms.ModelChoiceField, self.fields["assignee"]).queryset = users.distinct().order_by(
            "username"
        )

    def run_one(self, report: ServiceRequest) -> None:
        triage.report_assign(
            report=report, author=self.user, assignee=self.cleaned_data["assignee"]
        )


class BulkForwardForm(BulkForm):
    department = forms.ModelChoiceField(
        queryset=Department.objects.filter(active=True), label="Forward to"
    )
    note = forms.CharField(
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Note for the other department (internal)",
    )

    def run_one(self, report: ServiceRequest) -> None:
        triage.report_forward(
            report=report,
            author=self.user,
            department=self.cleaned_data["department"],
            note=self.cleaned_data["note"],
        )
