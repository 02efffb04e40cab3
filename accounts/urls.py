from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.my_account, name="home"),
    path("profile/", views.profile_edit, name="profile"),
    path("delete/", views.account_delete_confirm, name="delete"),
]
