from django.contrib import admin
from django.urls import include, path

from bookings import views as booking_views
from notifications import urls as notification_urls
from project.accounts import views as account_views
from project.api import api

urlpatterns = [
    path("", account_views.home, name="home"),
    path("accounts/", include("allauth.urls")),
    path("accounts/", include("project.accounts.urls")),
    path("app/notifications/", include("notifications.urls")),
    path("app/", include("bookings.urls")),
    path("drive/", include("fleet.urls")),
    path("ops/notifications/", include(notification_urls.ops_patterns)),
    path("ops/", include("bookings.ops_urls")),
    path("api/v1/", api.urls),
    path("", include("billing.urls")),  # /app/rides/<id>/pay/, /ops/payments/, Stripe webhooks
    path("webhooks/twilio/", include(notification_urls.twilio_patterns)),
    path("ops/", include("fleet.ops_urls")),
    path("photos/<int:pk>/", booking_views.ride_photo, name="ride_photo"),
    path("django-admin/", admin.site.urls),
]
