from django.urls import path

from fleet import views

app_name = "drive"
urlpatterns = [
    path("", views.home, name="home"),
]
