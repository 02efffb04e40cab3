"""Volunteers' forms. They check the shape of the input; the rules (the limit, the care
dates, the checklist, real photos) are the services', whose ValidationError is mapped
back onto the fields by `add_service_errors`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import timezone

from adoptions.models import AssetType
from adoptions.services.adoptions import NICKNAME_MAX
from civic311.forms import CitizenForm
from reports.limits import MAX_TEXT


class ServiceErrorsMixin:
    def add_service_errors(self, error: ValidationError) -> None:
        form: Any = self
        for key, messages in error.message_dict.items():
            form.add_error(key if key in form.fields else None, messages)


class AdoptForm(ServiceErrorsMixin, CitizenForm):
    accept_terms = forms.BooleanField(
        label="I promise to look after it as the care instructions say, and I may release "
        "it at any time.",
        required=False,  # the service says so plainly when it is not ticked
    )
    nickname = forms.CharField(
        label="Give it a nickname",
        required=False,
        max_length=NICKNAME_MAX,
        help_text="Shown on its page, e.g. “The corner one”.",
    )


class ReleaseForm(ServiceErrorsMixin, CitizenForm):
    pass


# How many tasks taken off the checklist a care visit's message names, and how long each.
DROPPED_NAMED, DROPPED_NAME_CHARS = 5, 80


def _shortened(task: str) -> str:
    task = " ".join(task.split())
    return task if len(task) <= DROPPED_NAME_CHARS else f"{task[: DROPPED_NAME_CHARS - 1]}…"


class CareLogForm(ServiceErrorsMixin, CitizenForm):
    date = forms.DateField(
        label="Date of the visit",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date like 2026-12-04."},
    )
    tasks = forms.MultipleChoiceField(
        label="What did you do?", required=False, widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(
        label="Note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": MAX_TEXT}),
        help_text="Anything the next visitor or the city should know. Published.",
    )
    photo = forms.FileField(
        label="Photo",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=f"JPEG, PNG or WebP, up to {settings.PHOTO_MAX_BYTES // (1024 * 1024)} MB. "
        "Published without its location data.",
    )

    def __init__(self, *args: Any, asset_type: AssetType, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"date": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.fields["tasks"].choices = [(task, task) for task in asset_type.checklist]  # type: ignore[attr-defined]
        # A task taken off the checklist while the form was open: the visit still counts,
        # without it (the view says which), rather than "not one of the available choices"
        # and a photo to choose again.
        # The names come from the POST: each once, cut short, blank ones left unnamed.
        self.dropped_tasks: list[str] = []
        if isinstance(self.data, QueryDict):
            ticked = self.data.getlist(self.add_prefix("tasks"))
            dropped = [task for task in ticked if task not in asset_type.checklist]
            named = dict.fromkeys(_shortened(task) for task in dropped if task.strip())
            self.dropped_tasks = list(named)[:DROPPED_NAMED]
            if dropped:
                data = self.data.copy()
                data.setlist(
                    self.add_prefix("tasks"), [t for t in ticked if t in asset_type.checklist]
                )
                self.data = data
