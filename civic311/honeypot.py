"""A honeypot field for public forms: people never see it, form-filling bots fill it.

A form that inherits `HoneypotForm` gets a `website` field; its template includes
"_honeypot.html", which hides the field with a CSS class (off screen, out of the tab order,
labelled "leave empty" for screen readers). A filled honeypot makes the form invalid with
one plain message that does not say why, so nothing is stored and a bot learns nothing."""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

logger = logging.getLogger(__name__)

HONEYPOT_MESSAGE = "Sorry, this could not be accepted. Please try again later."


class HoneypotForm(forms.Form):
    website = forms.CharField(
        label="Leave this field empty",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.data.get(self.add_prefix("website")):
            logger.info("Honeypot filled on %s; refused", type(self).__name__)
            raise ValidationError(HONEYPOT_MESSAGE, code="honeypot")
        return cleaned
