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

logger = logging.getLogger(__name__)

HONEYPOT_MESSAGE = "Sorry, this could not be accepted. Please try again later."


class CitizenForm(forms.Form):
    website = forms.CharField(
        label="Leave this field empty",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if settings.CAPTCHA_ENABLED:
            self.fields["captcha"] = CaptchaField(
                label="Type the characters you see in the picture",
                error_messages={"invalid": "The characters did not match; try this new picture."},
            )

    def clean(self) -> dict[str, Any]:
        super().clean()
        if self.data.get(self.add_prefix("website")):
            logger.info("Honeypot filled on %s; refused", type(self).__name__)
            raise ValidationError(HONEYPOT_MESSAGE, code="honeypot")
        return self.cleaned_data
