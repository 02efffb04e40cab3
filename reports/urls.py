from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("reports/", views.ReportListView.as_view(), name="list"),
    path("reports/new/", views.ReportCreateView.as_view(), name="new"),
    path("reports/<int:pk>/", views.ReportDetailView.as_view(), name="detail"),
    path(
        "reports/follow/<str:token>/confirm/",
        views.FollowConfirmView.as_view(),
        name="follow-confirm",
    ),
    path(
        "reports/unsubscribe/<str:token>/",
        views.UnsubscribeView.as_view(),
        name="unsubscribe",
    ),
    path(
        "staff/photos/<int:pk>/<str:kind>/",
        views.photo_file_for_staff,
        name="photo_file_staff",
    ),
]
