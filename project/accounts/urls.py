from django.urls import path

from project.accounts import views

app_name = "accounts"
urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("profile/phone/code/", views.phone_code_send, name="phone_code_send"),
    path("profile/phone/verify/", views.phone_verify, name="phone_verify"),
    path("profile/delete/", views.account_delete, name="delete"),
    path("deleted/", views.account_deleted, name="deleted"),
    # Before allauth's own "email/" (project/urls.py mounts this file first).
    path("email/", views.email, name="email"),
]
