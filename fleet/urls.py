"""The driver portal (/drive/), for a phone: the board, duty, position reports, working hours
and days off, a ride and its steps."""

from django.urls import path

from fleet import views

app_name = "fleet"
urlpatterns = [
    path("", views.home, name="home"),
    path("duty/", views.duty, name="duty"),
    path("position/", views.position, name="position"),
    path("hours/", views.hours, name="hours"),
    path("hours/time-off/", views.time_off_add_view, name="time_off_add"),
    path("hours/time-off/<int:pk>/delete/", views.time_off_delete, name="time_off_delete"),
    path("rides/<int:pk>/", views.ride_detail, name="ride_detail"),
    path("rides/<int:pk>/<slug:step>/", views.ride_step, name="ride_step"),
]
