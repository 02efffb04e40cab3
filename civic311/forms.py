"""What every public (anonymous) form carries against bots: a honeypot field, and a CAPTCHA
when CAPTCHA_ENABLED is on (off by default).

A form that inherits `CitizenForm` gets both; its template includes "_form_guard.html",
which renders the honeypot hidden by a CSS class (off screen, out of the tab order,
labelled "leave empty" for screen readers) and the CAPTCHA when there is one. A filled
honeypot makes the form invalid with one plain message that does not say why, so nothing is
stored and a bot learns nothing.

The CAPTCHA is django-simple-captcha: an image made on this server (nothing loaded from
elsewhere, no tracking), one try per picture. It is off by default because a picture of
letters shuts out people who cannot see it; turn it on only while a flood gets past the
rate limits (and set CAPTCHA_FLITE_PATH for its audio version)."""

from __future__ import annotations

import logging
from typing import Any

from captcha.fields import CaptchaField
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorDict
from django.utils.datastructures import MultiValueDict

from civic311.input import NUL, nul_message

logger = logging.getLogger(__name__)

HONEYPOT_MESSAGE = "Sorry, this could not be accepted. Please try again later."


class CitizenForm(forms.Form):
    website = forms.CharField(
        label="Leave this field empty",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args: Any, input_problem: str | None = None, **kwargs: Any) -> None:
        """`input_problem`: why the submitted body was refused before it was read (see
        `civic311.input.FormInputProblemMixin`); the form then shows only that."""
        super().__init__(*args, **kwargs)
        self.input_problem = input_problem
        if settings.CAPTCHA_ENABLED:
            self.fields["captcha"] = CaptchaField(
                label="Type the characters you see in the picture",
                error_messages={"invalid": "The characters did not match; try this new picture."},
            )

    def full_clean(self) -> None:
        if self.input_problem is None:
            super().full_clean()
            self._refuse_nul_characters()
            return
        self._errors = ErrorDict()
        self.cleaned_data = {}
        self.add_error(None, self.input_problem)

    def _refuse_nul_characters(self) -> None:
        """A NUL character in any submitted value is an error on its field (PostgreSQL
        cannot store one): checked here once for every citizen form and every field,
        whatever kind of field it is (answers to category questions pass values through)."""
        if not self.is_bound:
            return
        data = self.data
        pairs = data.lists() if isinstance(data, MultiValueDict) else data.items()
        for name, values in pairs:
            values = values if isinstance(values, list) else [values]
            if not (NUL in name or any(isinstance(v, str) and NUL in v for v in values)):
                continue
            field = name[len(self.prefix) + 1 :] if self.prefix else name
            if field in self.fields and field not in self.errors:
                self.add_error(field, "Contains a NUL character (\\x00), which is not allowed.")
            elif field not in self.fields:
                self.add_error(None, nul_message(name.replace(NUL, "\\x00")))

    def clean(self) -> dict[str, Any]:
        super().clean()
        if self.data.get(self.add_prefix("website")):
            logger.info("Honeypot filled on %s; refused", type(self).__name__)
            raise ValidationError(HONEYPOT_MESSAGE, code="honeypot")
        return self.cleaned_data
