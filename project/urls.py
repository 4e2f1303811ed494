"""The table of contents. Each app brings `urls.py` (its part of a portal) and, where it has
back-office pages, `ops_urls.py`, mounted at /ops/<area>/ with the namespace `<app>_ops`;
providers' callbacks are `webhook_urls.py` at /webhooks/<provider>/ (`<app>_webhooks`)."""

from django.contrib import admin
from django.urls import include, path

from bookings import ops_views as booking_ops_views
from bookings import views as booking_views
from project import pages
from project.api import api

urlpatterns = [
    # Public pages and accounts
    path("", pages.home, name="home"),
    path("terms/", pages.terms, name="terms"),
    path("privacy/", pages.privacy, name="privacy"),
    path("accounts/", include("project.accounts.urls")),  # first: it narrows allauth's email page
    path("accounts/", include("allauth.urls")),
    # Customer portal
    path("app/", include("bookings.urls")),
    path("app/", include("billing.urls")),
    path("app/notifications/", include("notifications.urls")),
    # Driver portal
    path("drive/", include("fleet.urls")),
    # Back office: the day at a glance, then one area per app
    path("ops/", booking_ops_views.home, name="ops_home"),
    path("ops/background/", booking_ops_views.background_work, name="ops_background"),
    path(
        "ops/background/<int:pk>/run-again/",
        booking_ops_views.background_work_retry,
        name="ops_background_retry",
    ),
    path("ops/rides/", include("bookings.ops_urls")),
    path("ops/fleet/", include("fleet.ops_urls")),
    path("ops/payments/", include("billing.ops_urls")),
    path("ops/notifications/", include("notifications.ops_urls")),
    # Providers' callbacks
    path("webhooks/stripe/", include("billing.webhook_urls")),
    path("webhooks/twilio/", include("notifications.webhook_urls")),
    # Handover photos, for whoever may see the ride (checked in the view)
    path("photos/<int:pk>/", booking_views.ride_photo, name="ride_photo"),
    # JSON API and Django's admin (superusers, data repairs)
    path("api/v1/", api.urls),
    path("django-admin/", admin.site.urls),
]
