from django.urls import path

from reports import views, views_follow, views_followup
from reports.browse import views as browse

app_name = "reports"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("reports/", browse.ReportListView.as_view(), name="list"),
    path("reports/map.json", browse.map_data, name="map-data"),
    path("areas/", browse.AreaListView.as_view(), name="areas"),
    path("areas/<slug:slug>/", browse.AreaDetailView.as_view(), name="area"),
    path("reports/new/", views.ReportCreateView.as_view(), name="new"),
    path("reports/nearby/", views.nearby_json, name="nearby"),
    path("reports/<int:pk>/", views.ReportDetailView.as_view(), name="detail"),
    path("reports/<int:pk>/support/", views.ReportSupportView.as_view(), name="support"),
    path(
        "reports/<int:pk>/comment/",
        views_followup.CommentCreateView.as_view(),
        name="comment",
    ),
    path(
        "reports/<int:pk>/preview/<str:token>/",
        views_followup.ReportPreviewView.as_view(),
        name="preview",
    ),
    path(
        "reports/fixed/<str:token>/yes/",
        views_followup.FixedAnswerView.as_view(answer="yes"),
        name="fixed_yes",
    ),
    path(
        "reports/fixed/<str:token>/no/",
        views_followup.FixedAnswerView.as_view(answer="no"),
        name="fixed_no",
    ),
    path(
        "reports/follow/<str:token>/confirm/",
        views_follow.FollowConfirmView.as_view(),
        name="follow-confirm",
    ),
    path(
        "reports/unsubscribe/<str:token>/",
        views_follow.UnsubscribeView.as_view(),
        name="unsubscribe",
    ),
    path(
        "staff/photos/<int:pk>/<str:kind>/",
        views.photo_file_for_staff,
        name="photo_file_staff",
    ),
]
