"""Citizen-facing forms. They check the shape of the input (a number is a number, an email
is an email); the business rules (city bounds, active category, description length, real
images, attribute answers) live in `reports.services.requests.report_create`, and its
ValidationError is mapped back onto these forms by `ReportForm.add_service_errors`."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from itertools import groupby
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from civic311.forms import CitizenForm
from civic311.numbers import parse_number
from places.place import Place
from reports.attributes import answer_problems
from reports.limits import MAX_TEXT, MIN_WEB_DESCRIPTION
from reports.models import Service, ServiceAttribute
from reports.photo_drafts import Draft, draft_open, draft_read
from reports.services.requests import report_check

OTHER_GROUP = "Other"
ATTRIBUTE_PREFIX = "attr"

Choices = list[tuple[Any, Any]]


def grouped_service_choices(services: Iterable[Service], empty_label: str) -> Choices:
    """Choices for a category <select>: one <optgroup> per service group."""
    choices: Choices = [("", empty_label)]
    ordered = sorted(services, key=lambda s: (s.group or OTHER_GROUP, s.order, s.name))
    for group, members in groupby(ordered, key=lambda s: s.group or OTHER_GROUP):
        choices.append((group, [(s.pk, s.name) for s in members]))
    return choices


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to PHOTO_MAX_PER_REPORT files from one <input type=file multiple>. Whether each is
    a real image within the limits is the service's job (it decodes them with Pillow)."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        limit = settings.PHOTO_MAX_PER_REPORT
        # Checked here too so that a dozen attachments are refused before any is decoded.
        if len(files) > limit:
            raise ValidationError(f"Attach at most {limit} photos.", code="too_many_photos")
        return [super(PhotosField, self).clean(f, initial) for f in files]


class KeptPhotosField(forms.Field):
    """Tokens of photos kept from an earlier submit of the form (`reports.photo_drafts`);
    each ticked box is one. Cleans to (draft, storage path) pairs."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[tuple[Draft, str]]:
        tokens = [str(v) for v in (value or []) if v]
        kept = []
        for token in tokens:
            try:
                kept.append(draft_read(token))
            except (signing.BadSignature, FileNotFoundError, KeyError, TypeError) as exc:
                raise ValidationError(
                    "A photo you attached earlier has expired; please attach it again.",
                    code="draft_expired",
                ) from exc
        return kept


class AnswerField(forms.Field):
    """An answer to a category question. It passes raw values through untouched: which
    answers are required and valid is decided by `reports.attributes.clean_attributes`."""

    def __init__(self, *, attribute: ServiceAttribute, **kwargs: Any) -> None:
        self.attribute = attribute
        super().__init__(required=False, **kwargs)

    def to_python(self, value: Any) -> list[str]:
        if value in self.empty_values:
            return []
        values = [str(v) for v in (value if isinstance(value, list | tuple) else [value])]
        if self.attribute.datatype == ServiceAttribute.Datatype.DATETIME:
            # The browser's datetime-local input has no zone: the citizen means the city's
            # local time. The shared check (which requires a zone) judges the result.
            values = [_in_city_zone(v) for v in values]
        return values


def _in_city_zone(text: str) -> str:
    try:
        parsed = parse_datetime(text.strip())
    except ValueError:
        return text
    if parsed is None or parsed.tzinfo is not None:
        return text
    return timezone.make_aware(parsed).isoformat()


def answer_widget(attribute: ServiceAttribute) -> forms.Widget:
    datatype = ServiceAttribute.Datatype
    choices = [(v.key, v.name) for v in attribute.values.all()]
    if attribute.datatype == datatype.MULTIVALUELIST:
        return forms.CheckboxSelectMultiple(choices=choices)
    if attribute.datatype == datatype.SINGLEVALUELIST:
        return forms.Select(choices=[("", "Choose…"), *choices])
    if attribute.datatype == datatype.NUMBER:
        return forms.NumberInput(attrs={"step": "any"})
    if attribute.datatype == datatype.DATETIME:
        return forms.DateTimeInput(attrs={"type": "datetime-local"})
    if attribute.datatype == datatype.TEXT:
        return forms.Textarea(attrs={"rows": 3})
    return forms.TextInput()


def place_value(place: Place) -> str:
    """How a search result travels in the form (a radio button's value)."""
    return "|".join([repr(place.lat), repr(place.long), place.address_id, place.label])


def parse_place(value: str) -> Place | None:
    parts = value.split("|", 3)
    if len(parts) != 4:
        return None
    lat, long = parse_number(parts[0]), parse_number(parts[1])
    if lat is None or long is None:
        return None
    return Place(parts[3][:255], lat, long, "address" if parts[2] else "street", parts[2][:64])


class ReportForm(CitizenForm):
    """The web report form. Category questions and notices of every active category are
    rendered, one fieldset per category (the script shows only the chosen one; without it
    all are listed, so the form still works in one submit); only the chosen category's
    answers are sent to the service."""

    lat = forms.FloatField(
        label="Latitude",
        required=False,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    long = forms.FloatField(
        label="Longitude",
        required=False,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    place_query = forms.CharField(
        label="Find an address or street",
        required=False,
        max_length=200,
        help_text="For example “120 Fayetteville Street” or “Oakwood Avenue”.",
    )
    # A place picked from the search's results: "lat|long|address id|label".
    place = forms.CharField(required=False, max_length=400, widget=forms.HiddenInput)
    # Any service validates here; an inactive one reaches the service, which says plainly
    # that the category no longer takes reports. Only active ones are offered.
    service = forms.ModelChoiceField(
        label="Category",
        queryset=Service.objects.all(),
        error_messages={"invalid_choice": "Choose a category from the list."},
    )
    address = forms.CharField(
        label="Street address or landmark",
        required=False,
        max_length=255,
        help_text="Optional, helps the crew find it: “outside 12 Oak Street”.",
    )
    # A known asset or place the report is about (a bus shelter's id): set by the "Report a
    # problem" link of an asset's page, kept on the report, answered by Open311.
    address_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    # This sending of the form (reports.models.Submission): sent again, it is not a new report.
    submission = forms.UUIDField(
        required=False,
        widget=forms.TextInput(attrs={"hidden": True, "data-keep": "submission"}),
    )
    description = forms.CharField(
        label="Describe the problem",
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 5,
                "minlength": MIN_WEB_DESCRIPTION,
                "maxlength": MAX_TEXT,
                "required": True,
            }
        ),
        help_text="What is wrong, how big it is, whether it is dangerous.",
    )
    photos = PhotosField(
        label="Photos",
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=(
            f"Up to {settings.PHOTO_MAX_PER_REPORT} photos, JPEG, PNG or WebP, "
            f"{settings.PHOTO_MAX_BYTES // (1024 * 1024)} MB each at most."
        ),
    )
    kept_photos = KeptPhotosField(label="Photos you attached", required=False)
    reporter_name = forms.CharField(
        label="Your name",
        required=False,
        max_length=120,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    reporter_email = forms.EmailField(
        label="Your email", required=False, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def __init__(self, *args: Any, services: Sequence[Service], **kwargs: Any) -> None:
        """`services`: the active categories, with `attributes` and their `values`
        prefetched (see `ReportCreateView`)."""
        super().__init__(*args, **kwargs)
        if not self.is_bound and not self.initial.get("submission"):
            self.initial["submission"] = uuid.uuid4()
        self.services = list(services)
        cast(forms.ChoiceField, self.fields["service"]).choices = grouped_service_choices(
            self.services, "Choose a category…"
        )
        self.attribute_errors: list[str] = []
        self.draft_files: list[File] = []
        self._answer_fields: dict[int, list[str]] = {}
        for service in self.services:
            names = []
            for attribute in service.attributes.all():
                if not (attribute.variable and attribute.active):
                    continue
                name = f"{ATTRIBUTE_PREFIX}-{service.pk}-{attribute.code}"
                self.fields[name] = AnswerField(
                    attribute=attribute,
                    label=attribute.description,
                    help_text=attribute.datatype_description,
                    widget=answer_widget(attribute),
                )
                names.append(name)
            self._answer_fields[service.pk] = names

    def clean(self) -> dict[str, Any]:
        """Every error at once: the shape of each field (Django), then every business rule
        the service would apply (`report_check`), so nothing shows up one submit later."""
        super().clean()
        cleaned = self.cleaned_data
        self._apply_place(cleaned)
        # A point is how a web report is located (the API also allows address-only ones).
        missing = cleaned.get("lat") is None or cleaned.get("long") is None
        if missing and "lat" not in self.errors and "long" not in self.errors:
            self.add_error(
                "lat",
                "Find the address, choose the place on the map, "
                "or enter its latitude and longitude.",
            )
        service = cleaned.get("service")
        self.draft_files = [draft_open(path, d.name) for d, path in cleaned.get("kept_photos", [])]
        errors, _ = report_check(
            service=service,
            description=cleaned.get("description", ""),
            lat=None if missing else cleaned["lat"],
            long=None if missing else cleaned["long"],
            photos=[*cleaned.get("photos", []), *self.draft_files],
            require_description=True,
        )
        # The answers are judged below, in the question's own words.
        errors.pop("attributes", None)
        for key, messages in errors.items():
            field = {"location": "lat"}.get(key, key)
            if field in self.errors or (key == "location" and missing):
                continue
            self.add_error(field if field in self.fields else None, messages)
        if service is not None:
            self._add_answer_errors(service)
        if "kept_photos" in self.errors:
            # A kept photo has no input of its own: its error is shown (id_photos_error) and
            # linked from the summary at the file input, which must then be described by it.
            self.fields["photos"].widget.attrs.update(
                {"aria-describedby": "id_photos_helptext id_photos_error", "aria-invalid": "true"}
            )
        return cleaned

    def _apply_place(self, cleaned: dict[str, Any]) -> None:
        """A place chosen from the search's results sets the point (and the address,
        unless one was typed)."""
        if not cleaned.get("place"):
            return
        place = parse_place(cleaned["place"])
        if place is None:
            self.add_error("place_query", "Choose one of the places found, or search again.")
            return
        for name in ("lat", "long"):
            self.errors.pop(name, None)
        cleaned["lat"], cleaned["long"] = place.lat, place.long
        if not cleaned.get("address"):
            cleaned["address"], cleaned["address_id"] = place.label, place.address_id

    def _add_answer_errors(self, service: Service) -> None:
        """Each unanswerable answer next to its question, in the question's words."""
        names = {
            cast(AnswerField, self.fields[n]).attribute.code: n
            for n in self._answer_fields.get(service.pk, [])
        }
        raw = {code: self.cleaned_data.get(name) or [] for code, name in names.items()}
        for code, message in answer_problems(service, raw).items():
            self.add_error(names.get(code), message)

    def error_summary(self) -> list[tuple[str, str]]:
        """(anchor, text) for the summary at the top: each error links to its field."""
        items: list[tuple[str, str]] = [("", str(e)) for e in self.non_field_errors()]
        # In the page's order: the category's questions come right after the category (they
        # are added to the form last).
        fields = list(self)
        questions = [b for b in fields if b.name.startswith(f"{ATTRIBUTE_PREFIX}-")]
        fields = [b for b in fields if b not in questions]
        at = next((i + 1 for i, b in enumerate(fields) if b.name == "service"), len(fields))
        for bound in fields[:at] + questions + fields[at:]:
            name = bound.name
            # A list of boxes or buttons has no one input its label names: its first one.
            first = bound.id_for_label or f"{bound.auto_id}_0"
            anchor = "#id_photos" if name == "kept_photos" else f"#{first}"
            for error in bound.errors:
                if name.startswith(f"{ATTRIBUTE_PREFIX}-"):
                    items.append((anchor, str(error)))
                elif name in ("lat", "long"):
                    items.append((anchor, f"Location: {error}"))
                else:
                    items.append((anchor, f"{bound.label}: {error}"))
        return items

    @property
    def chosen_service_id(self) -> int | None:
        """The category the user picked (even an invalid form remembers it)."""
        raw = self.data.get(self.add_prefix("service")) if self.is_bound else None
        try:
            return int(raw) if raw else None
        except (TypeError, ValueError):
            return None

    def question_sets(self) -> list[dict[str, Any]]:
        """One entry per category with questions or a notice, for the template's fieldsets."""
        chosen = self.chosen_service_id
        sets = []
        for service in self.services:
            notes = [a.description for a in service.attributes.all() if a.active and not a.variable]
            fields = [self[name] for name in self._answer_fields[service.pk]]
            if not (fields or notes or service.description):
                continue
            sets.append(
                {
                    "service": service,
                    "fields": fields,
                    "notes": notes,
                    "chosen": service.pk == chosen,
                    "errors": self.attribute_errors if service.pk == chosen else [],
                }
            )
        return sets

    def service_kwargs(self) -> dict[str, Any]:
        """Arguments for `report_create` from a valid form."""
        data = self.cleaned_data
        service: Service = data["service"]
        attributes = {
            cast(AnswerField, self.fields[name]).attribute.code: data[name]
            for name in self._answer_fields.get(service.pk, [])
            if data[name]
        }
        return {
            "service": service,
            "description": data["description"],
            "lat": data["lat"],
            "long": data["long"],
            "address": data["address"],
            "address_id": data.get("address_id", ""),
            "attributes": attributes,
            "photos": [*data["photos"], *self.draft_files],
            "reporter_name": data["reporter_name"],
            "reporter_email": data["reporter_email"],
            "submission": data.get("submission"),
        }

    def add_service_errors(self, error: ValidationError) -> None:
        """Show the service's errors (keyed service/description/location/attributes/photos)
        next to the fields they are about."""
        for key, messages in error.message_dict.items():
            if key == "attributes":
                self.attribute_errors.extend(messages)
                self.add_error(None, "Please check the answers to the category's questions.")
            elif key == "location":
                self.add_error("lat", messages)
            elif key in self.fields:
                self.add_error(key, messages)
            else:
                self.add_error(None, messages)


class SubscriptionForm(CitizenForm):
    email = forms.EmailField(
        label="Your email", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class SupportForm(CitizenForm):
    """ "This is my problem too": the email to hear back on (never published)."""

    email = forms.EmailField(
        label="Your email, to hear when it is fixed",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
