import re

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from civic311.media import serve_public_media
from reports.insights.staff import staff_dashboard

admin.site.site_header = f"{settings.CITY_NAME} 311 — staff"
admin.site.site_title = f"{settings.CITY_NAME} 311 staff"
admin.site.index_title = "Reports, departments and volunteers"

urlpatterns = [
    path("admin/insights/", admin.site.admin_view(staff_dashboard), name="staff-insights"),
    path("admin/", admin.site.urls),
    path("open311/", include("reports.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("reports.insights.urls")),
    path("", include("reports.urls")),
]

if settings.DEBUG:
    urlpatterns.append(
        re_path(rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.+)$", serve_public_media)
    )
