"""Bookings in the back office (/ops/rides/): every ride, one ride, cancel, clear a flag.
The day at a glance (/ops/, `ops_home`) is bookings' too; project/urls.py mounts it."""

from django.urls import path

from bookings import ops_views

app_name = "bookings_ops"
urlpatterns = [
    path("", ops_views.ride_list, name="ride_list"),
    path("<int:pk>/", ops_views.ride_detail, name="ride_detail"),
    path("<int:pk>/cancel/", ops_views.ride_cancel, name="ride_cancel"),
    path("<int:pk>/call-return/", ops_views.ride_call_return, name="ride_call_return"),
    path("<int:pk>/clear-flag/", ops_views.ride_clear_flag, name="ride_clear_flag"),
]
