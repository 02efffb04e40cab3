"""The staff site: Django's admin site, whose list of apps and models is read only by a page
that shows it.

Why: Django builds that list (every registered model, with the user's permissions on each:
some eighty permission checks here) for every admin page, since the navigation sidebar may
show it. The report queue and the triage page turn the sidebar off for the width, and
building the list was 0.6–1.5 ms of the queue's 29–31 (in the process, at a million
reports). Now it is built when a template reads it: the sidebar, the admin's index and an
app's index.

Every admin view also refuses, as a bad request, a list action whose ticked rows are not
ids: Django filters the rows by them as they come, and an id that is no number ("abc", a
hand-made POST) was a server error in every list of the admin (every model's key here is
an integer).
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from reports.ids import parse_id


class StaffSite(admin.AdminSite):
    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> Any:
        def build() -> list[dict[str, Any]]:
            return super(StaffSite, self).get_app_list(request, app_label)

        return SimpleLazyObject(build)

    def admin_view(self, view: Any, cacheable: bool = False) -> Any:
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method == "POST" and any(
                parse_id(pk) is None for pk in request.POST.getlist(ACTION_CHECKBOX_NAME)
            ):
                raise BadRequest("The rows ticked for an action must be given by their ids.")
            return view(request, *args, **kwargs)

        return super().admin_view(checked, cacheable)


class StaffAdminConfig(AdminConfig):
    """`django.contrib.admin` in INSTALLED_APPS, with StaffSite as `admin.site`."""

    default_site = "civic311.admin_site.StaffSite"
