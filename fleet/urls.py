"""The driver portal (/drive/), for a phone: the board, duty, position reports, a ride and its steps."""

from django.urls import path

from fleet import views

app_name = "fleet"
urlpatterns = [
    path("", views.home, name="home"),
    path("duty/", views.duty, name="duty"),
    path("position/", views.position, name="position"),
    path("rides/<int:pk>/", views.ride_detail, name="ride_detail"),
    path("rides/<int:pk>/<slug:step>/", views.ride_step, name="ride_step"),
]
