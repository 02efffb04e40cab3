from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from civic311.media import media_urlpatterns
from reports.insights.staff import staff_dashboard

admin.site.site_header = f"{settings.CITY_NAME} 311 — staff"
admin.site.site_title = f"{settings.CITY_NAME} 311 staff"
admin.site.index_title = "Reports, departments and volunteers"

# Django's own refusals (SuspiciousOperation, BadRequest) as a page that explains.
handler400 = "civic311.input.bad_request"

urlpatterns = [
    path("admin/insights/", admin.site.admin_view(staff_dashboard), name="staff-insights"),
    path("admin/", admin.site.urls),
    path("open311/", include("reports.api.urls")),
    path("captcha/", include("captcha.urls")),
    path("accounts/", include("allauth.urls")),
    path("account/", include("accounts.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves swagger-ui's start-up script as a file (?script), so the page
    # needs no inline script under the Content-Security-Policy.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="api/swagger_ui.html"
        ),
        name="api-docs",
    ),
    path("", include("adoptions.urls")),
    path("", include("places.urls")),
    path("", include("reports.insights.urls")),
    path("", include("reports.urls")),
]

if settings.DEBUG:
    urlpatterns += media_urlpatterns()
