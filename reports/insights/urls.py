from django.urls import path, re_path

from civic311.http_cache import PAGE_CACHE_SECONDS, public_page
from reports.insights import feeds, views

# Feeds are public pages: kept a minute, revalidated by ETag (a reader polling gets a 304).
cached = public_page(PAGE_CACHE_SECONDS)
# The open-data catalogues: the same, and revalidated by their Last-Modified as well.
catalogue_cached = public_page(PAGE_CACHE_SECONDS, last_modified=True)

app_name = "insights"

urlpatterns = [
    path("insights/", views.DashboardView.as_view(), name="dashboard"),
    path("insights/<slug:slug>.csv", views.figure_csv, name="figure-csv"),
    path("insights/map/", views.HotspotMapView.as_view(), name="map"),
    path("insights/map/reports/", views.HotspotReportsView.as_view(), name="map-reports"),
    path("insights/feeds/reports/", cached(feeds.ReportsFeed()), name="feed-reports"),
    path(
        "insights/feeds/category/<slug:service_code>/",
        cached(feeds.CategoryFeed()),
        name="feed-category",
    ),
    path("insights/feeds/area/<int:pk>/", cached(feeds.AreaFeed()), name="feed-area"),
    path("insights/feeds/report/<int:pk>/", cached(feeds.ReportUpdatesFeed()), name="feed-report"),
    path("insights/alerts/new/", views.AlertCreateView.as_view(), name="alert-new"),
    path(
        "insights/alerts/<uuid:token>/confirm/",
        views.AlertConfirmView.as_view(),
        name="alert-confirm",
    ),
    path(
        "insights/alerts/<uuid:token>/unsubscribe/",
        views.AlertUnsubscribeView.as_view(),
        name="alert-unsubscribe",
    ),
    path("data/", views.DataView.as_view(), name="data"),
    re_path(r"^data/reports\.(?P<fmt>csv|geojson)$", views.export, name="export"),
    re_path(r"^data/dumps/reports\.(?P<fmt>csv|geojson)$", views.dump, name="dump"),
    path("data/catalog.jsonld", catalogue_cached(views.dcat_ap), name="dcat-ap"),
    path("data.json", catalogue_cached(views.data_json), name="data-json"),
]
