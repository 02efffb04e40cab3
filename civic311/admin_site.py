"""The staff site: Django's admin site, whose list of apps and models is read only by a page
that shows it.

Why: Django builds that list (every registered model, with the user's permissions on each:
some eighty permission checks here) for every admin page, since the navigation sidebar may
show it. The report queue and the triage page turn the sidebar off for the width, and
building the list was 0.6–1.5 ms of the queue's 29–31 (in the process, at a million
reports). Now it is built when a template reads it: the sidebar, the admin's index and an
app's index.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


class StaffSite(admin.AdminSite):
    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> Any:
        def build() -> list[dict[str, Any]]:
            return super(StaffSite, self).get_app_list(request, app_label)

        return SimpleLazyObject(build)


class StaffAdminConfig(AdminConfig):
    """`django.contrib.admin` in INSTALLED_APPS, with StaffSite as `admin.site`."""

    default_site = "civic311.admin_site.StaffSite"
