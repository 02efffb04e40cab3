"""Profiles in the admin: staff can find a display name and change one that breaks the
rules (an offensive name, an email address used as a name)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from accounts.models import Profile
from accounts.services import clean_display_name


class ProfileAdminForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ["display_name", "show_on_leaderboard"]

    def clean_display_name(self) -> str:
        return clean_display_name(self.cleaned_data["display_name"])


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    form = ProfileAdminForm
    list_display = ["display_name", "show_on_leaderboard"]
    list_filter = ["show_on_leaderboard"]
    search_fields = ["display_name"]
    fields = ["display_name", "show_on_leaderboard"]

    def has_add_permission(self, request: HttpRequest, obj: Profile | None = None) -> bool:
        # A profile comes with sign-up (or My account); the admin only corrects one.
        return False
