"""Forms for citizens' and volunteers' accounts.

Sign-up is allauth's form plus the public display name and the honeypot (and CAPTCHA when
on) of every anonymous form. The forms behind the sign-in wall need neither."""

from __future__ import annotations

from typing import Any, cast

from allauth.account.forms import ChangePasswordForm as AllauthChangePasswordForm
from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import ReauthenticateForm as AllauthReauthenticateForm
from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from accounts.models import DISPLAY_NAME_MAX
from accounts.services import clean_display_name, profile_create
from civic311.forms import CitizenForm

DISPLAY_NAME_HELP = (
    "Shown publicly, for example next to the bus shelters you look after. Not your email address."
)


class DisplayNameField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            label="Display name",
            max_length=DISPLAY_NAME_MAX,
            help_text=DISPLAY_NAME_HELP,
            widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
            error_messages={"required": "Enter a display name."},
            **kwargs,
        )

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        return clean_display_name(value)


class SignupForm(AllauthSignupForm, CitizenForm):
    display_name = DisplayNameField()

    field_order = ["display_name", "email", "password1", "password2", "website", "captcha"]

    def save(self, request: HttpRequest) -> AbstractBaseUser:
        """The user, their email address and their profile are saved together or not at all."""
        with transaction.atomic():
            return super().save(request)

    def custom_signup(self, request: HttpRequest, user: AbstractBaseUser) -> None:
        super().custom_signup(request, user)
        profile_create(user=cast(User, user), display_name=self.cleaned_data["display_name"])


class ResetLinkAfterButtonsMixin(forms.Form):
    """allauth offers "Forgot your password?" as the password field's help text. Printed
    before the input, as every hint is, the link came between Email and Password in the Tab
    order (WCAG 2.4.3), and aria-describedby made a screen reader read it as the field's
    description. The form drops it from the field; the form template offers the link after
    the buttons when `offers_password_reset` is set."""

    reset_help_field = "password"
    offers_password_reset = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[self.reset_help_field].help_text = ""


class LoginForm(ResetLinkAfterButtonsMixin, AllauthLoginForm):
    pass


class ReauthenticateForm(ResetLinkAfterButtonsMixin, AllauthReauthenticateForm):
    pass


class ChangePasswordForm(ResetLinkAfterButtonsMixin, AllauthChangePasswordForm):
    reset_help_field = "oldpassword"


class ProfileForm(forms.Form):
    display_name = DisplayNameField()
    show_on_leaderboard = forms.BooleanField(
        label="Show my display name on the volunteers' leaderboard",
        required=False,
    )


class AccountDeleteForm(forms.Form):
    confirm = forms.BooleanField(
        label="I understand that my account is deleted for good",
        error_messages={"required": "Tick the box to confirm that you want to delete it."},
    )

    def clean_confirm(self) -> bool:
        if not self.cleaned_data.get("confirm"):
            raise ValidationError("Tick the box to confirm that you want to delete it.")
        return True
