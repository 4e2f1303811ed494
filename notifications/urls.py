"""Three groups of URLs, mounted by project/urls.py under their portals:
the customer's preferences (/app/notifications/), the back office
(/ops/notifications/) and Twilio's webhooks (/webhooks/twilio/)."""

from django.urls import path

from notifications import ops_views, views, webhooks

app_name = "notifications"
urlpatterns = [
    path("", views.preferences, name="preferences"),
]

ops_patterns = (
    [
        path("", ops_views.notification_list, name="list"),
        path("<int:pk>/", ops_views.notification_detail, name="detail"),
        path("<int:pk>/retry/", ops_views.notification_retry, name="retry"),
    ],
    "ops_notifications",
)

twilio_patterns = (
    [
        path("status/", webhooks.twilio_status, name="status"),
        path("inbound/", webhooks.twilio_inbound, name="inbound"),
    ],
    "twilio",
)
