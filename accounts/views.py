"""My account: a page of sections (this app's profile, and whatever other apps register),
the profile form and leaving for good."""

from __future__ import annotations

from typing import Any, cast

from allauth.account.decorators import reauthentication_required
from allauth.account.models import EmailAddress
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.forms import AccountDeleteForm, ProfileForm
from accounts.models import Profile
from accounts.profiles import display_name_for
from accounts.sections import render_sections
from accounts.services import account_delete, account_is_staff, profile_save
from civic311.ratelimit import rate_limit


def _signed_in(request: HttpRequest) -> User:
    """The user of a login_required view (never anonymous there)."""
    return cast(User, request.user)


def _profile(user: Any) -> Profile | None:
    try:
        profile: Profile = user.profile
    except ObjectDoesNotExist:
        return None
    return profile


def profile_section_context(request: HttpRequest) -> dict[str, Any]:
    """The profile section: the public name, the private addresses and whether the person
    may delete the account here (a fixed handful of queries)."""
    return {
        "profile": _profile(request.user),
        "may_delete_account": not account_is_staff(_signed_in(request)),
        "display_name": display_name_for(request.user),
        "email_addresses": list(
            EmailAddress.objects.filter(user=request.user).order_by("-primary", "email")
        ),
    }


@login_required
def my_account(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/my_account.html", {"sections": render_sections(request)})


@login_required
@require_http_methods(["GET", "POST"])
@rate_limit("account-form", setting="RATELIMIT_ACCOUNT_FORM")
def profile_edit(request: HttpRequest) -> HttpResponse:
    profile = _profile(request.user)
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            try:
                profile_save(
                    user=_signed_in(request),
                    display_name=form.cleaned_data["display_name"],
                    show_on_leaderboard=form.cleaned_data["show_on_leaderboard"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Your profile is saved.")
                return redirect(reverse("accounts:home") + "#section-profile")
    else:
        form = ProfileForm(
            initial={
                "display_name": profile.display_name if profile else "",
                "show_on_leaderboard": profile.show_on_leaderboard if profile else True,
            }
        )
    return render(request, "accounts/profile_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def account_delete_confirm(request: HttpRequest) -> HttpResponseBase:
    """Staff are refused before anything else (their account carries the admin's record of
    their work): an administrator closes it."""
    if account_is_staff(_signed_in(request)):
        return render(request, "accounts/account_delete_staff.html", status=403)
    return _account_delete_form(request)


@rate_limit("account-form", setting="RATELIMIT_ACCOUNT_FORM")
@reauthentication_required(allow_get=True)
def _account_delete_form(request: HttpRequest) -> HttpResponse:
    """Deleting asks for the password (or a code) again if the last sign-in is not recent,
    and for an explicit tick: it cannot be undone."""
    if request.method == "POST":
        form = AccountDeleteForm(request.POST)
        if form.is_valid():
            account_delete(user=_signed_in(request))
            logout(request)
            messages.success(request, "Your account has been deleted.")
            return redirect("reports:home")
    else:
        form = AccountDeleteForm()
    return render(request, "accounts/account_delete.html", {"form": form})
