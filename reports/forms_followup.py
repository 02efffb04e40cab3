"""Forms for what citizens do after a report is filed: comment on it, answer "Is it
fixed?", and edit it in the preview window. They check the shape of the input; the rules
(is the report open, is the photo a real image) are the services' job."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from civic311.forms import CitizenForm
from reports.limits import MAX_TEXT, MIN_WEB_DESCRIPTION

PHOTO_ACCEPT = "image/jpeg,image/png,image/webp"


def photo_field(label: str) -> forms.FileField:
    return forms.FileField(
        label=label,
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": PHOTO_ACCEPT}),
        help_text=(
            f"One photo, JPEG, PNG or WebP, {settings.PHOTO_MAX_BYTES // (1024 * 1024)} MB at "
            "most. Location data in the file is removed before it is shown."
        ),
    )


class ServiceErrorsMixin(forms.Form):
    def add_service_errors(self, error: ValidationError) -> None:
        """A service's ValidationError, next to the field it is about when there is one."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error.messages)
            return
        for key, messages in error.message_dict.items():
            self.add_error(key if key in self.fields else None, messages)


class CommentForm(ServiceErrorsMixin, CitizenForm):
    text = forms.CharField(
        label="Your comment",
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Published at once on this page. Please keep to the problem.",
    )
    photo = photo_field("Photo")
    author_name = forms.CharField(
        label="Your name",
        required=False,
        max_length=120,
        help_text="Shown with your comment. Leave it empty to comment anonymously.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    author_email = forms.EmailField(
        label="Your email",
        required=False,
        help_text="Only the city sees it, in case they need to ask you something.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "comment")
        super().__init__(*args, **kwargs)


class NotFixedForm(ServiceErrorsMixin, CitizenForm):
    text = forms.CharField(
        label="What is still wrong?",
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Published on the report's page, without your name.",
    )
    photo = photo_field("A photo of it now")


class FixedForm(CitizenForm):
    """Only the guard: "yes, it is fixed" takes no input."""


class PreviewEditForm(ServiceErrorsMixin, CitizenForm):
    description = forms.CharField(
        label="Description",
        min_length=MIN_WEB_DESCRIPTION,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={
            "min_length": f"Please describe the problem in at least {MIN_WEB_DESCRIPTION} "
            "characters."
        },
    )
