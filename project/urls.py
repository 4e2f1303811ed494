from django.contrib import admin
from django.urls import include, path

from bookings import views as booking_views
from project.accounts import views as account_views

urlpatterns = [
    path("", account_views.home, name="home"),
    path("accounts/", include("allauth.urls")),
    path("accounts/", include("project.accounts.urls")),
    path("app/", include("bookings.urls")),
    path("drive/", include("fleet.urls")),
    path("ops/", include("bookings.ops_urls")),
    path("ops/", include("fleet.ops_urls")),
    path("photos/<int:pk>/", booking_views.ride_photo, name="ride_photo"),
    path("django-admin/", admin.site.urls),
]
