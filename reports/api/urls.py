"""Open311 GeoReport v2 routes: every resource in .json and .xml; anything else under
/open311/ is the spec's 404 error list."""

from django.urls import path, re_path

from reports.api import views

app_name = "open311"

# The inner group makes the OpenAPI pattern ^(json|xml)$ (not ^json|xml$, which
# would match "jsonfoo").
FMT = r"\.(?P<fmt>(json|xml))$"

urlpatterns = [
    re_path(r"^discovery" + FMT, views.DiscoveryApi.as_view(), name="discovery"),
    path("v2/", views.DiscoveryApi.as_view(), name="root"),
    re_path(r"^v2/discovery" + FMT, views.DiscoveryApi.as_view(), name="v2-discovery"),
    re_path(r"^v2/services" + FMT, views.ServiceListApi.as_view(), name="services"),
    re_path(
        r"^v2/services/(?P<service_code>[^/]+?)" + FMT,
        views.ServiceDefinitionApi.as_view(),
        name="service-definition",
    ),
    re_path(r"^v2/requests" + FMT, views.ServiceRequestListApi.as_view(), name="requests"),
    re_path(
        r"^v2/requests/(?P<service_request_id>[^/]+?)" + FMT,
        views.ServiceRequestDetailApi.as_view(),
        name="request-detail",
    ),
    re_path(r"^v2/tokens/(?P<token>[^/]+?)" + FMT, views.TokenApi.as_view(), name="token"),
    re_path(r"^.*?(?:\.(?P<fmt>json|xml))?$", views.NotFoundApi.as_view(), name="not-found"),
]
