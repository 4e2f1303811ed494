from django.urls import path

from bookings import ops_views

app_name = "ops"
urlpatterns = [
    path("", ops_views.home, name="home"),
    path("rides/", ops_views.ride_list, name="ride_list"),
    path("rides/<int:pk>/", ops_views.ride_detail, name="ride_detail"),
    path("rides/<int:pk>/cancel/", ops_views.ride_cancel, name="ride_cancel"),
    path("rides/<int:pk>/clear-flag/", ops_views.ride_clear_flag, name="ride_clear_flag"),
]
