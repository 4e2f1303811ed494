from django.urls import path

from project.accounts import views

app_name = "accounts"
urlpatterns = [
    path("profile/", views.profile, name="profile"),
    # Before allauth's own "email/" (project/urls.py mounts this file first).
    path("email/", views.email, name="email"),
]
