from django.urls import path

from adoptions import views

app_name = "adoptions"

urlpatterns = [
    path("adopt/", views.AssetMapView.as_view(), name="map"),
    path("adopt/thanks/", views.ThanksView.as_view(), name="thanks"),
    path("adopt/unsubscribe/<uuid:token>/", views.UnsubscribeView.as_view(), name="unsubscribe"),
    path(
        "adopt/<slug:type_slug>/<str:external_id>/",
        views.AssetDetailView.as_view(),
        name="asset",
    ),
    path(
        "adopt/<slug:type_slug>/<str:external_id>/adopt/",
        views.AdoptView.as_view(),
        name="adopt",
    ),
    path(
        "adopt/<slug:type_slug>/<str:external_id>/release/",
        views.ReleaseView.as_view(),
        name="release",
    ),
    path(
        "adopt/<slug:type_slug>/<str:external_id>/reminders/",
        views.RemindersOnView.as_view(),
        name="reminders_on",
    ),
    path(
        "adopt/<slug:type_slug>/<str:external_id>/care/",
        views.CareLogView.as_view(),
        name="care",
    ),
]
