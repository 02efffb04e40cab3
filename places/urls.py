from django.urls import path

from places import views

app_name = "places"

urlpatterns = [
    path("places/search/", views.SearchView.as_view(), name="search"),
    path("places/reverse/", views.ReverseView.as_view(), name="reverse"),
]
