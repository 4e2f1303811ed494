"""The customer portal (/app/): my rides, booking with a live quote, a ride, pets, places."""

from django.urls import path

from bookings import views

app_name = "bookings"
urlpatterns = [
    path("", views.ride_list, name="ride_list"),
    path("rides/new/", views.ride_new, name="ride_new"),
    path("rides/quote/", views.ride_quote, name="ride_quote"),
    path("rides/<int:pk>/", views.ride_detail, name="ride_detail"),
    path("rides/<int:pk>/reschedule/", views.ride_reschedule, name="ride_reschedule"),
    path("rides/<int:pk>/call-return/", views.ride_call_return, name="ride_call_return"),
    path("rides/<int:pk>/reschedule/quote/", views.ride_reschedule_quote, name="ride_reschedule_quote"),
    path("rides/<int:pk>/cancel/", views.ride_cancel, name="ride_cancel"),
    path("pets/", views.pet_list, name="pet_list"),
    path("pets/new/", views.pet_create, name="pet_create"),
    path("pets/<int:pk>/edit/", views.pet_edit, name="pet_edit"),
    path("pets/<int:pk>/delete/", views.pet_delete, name="pet_delete"),
    path("places/", views.place_list, name="place_list"),
    path("places/new/", views.place_create, name="place_create"),
    path("places/<int:pk>/edit/", views.place_edit, name="place_edit"),
    path("places/<int:pk>/delete/", views.place_delete, name="place_delete"),
]
