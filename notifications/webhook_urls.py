"""Twilio's calls to us (/webhooks/twilio/): delivery reports and replies, signature-checked."""

from django.urls import path

from notifications import webhooks

app_name = "notifications_webhooks"
urlpatterns = [
    path("status/", webhooks.twilio_status, name="twilio_status"),
    path("inbound/", webhooks.twilio_inbound, name="twilio_inbound"),
]
