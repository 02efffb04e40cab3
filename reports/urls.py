from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("reports/<int:pk>/", views.ReportDetailView.as_view(), name="detail"),
]
