"""Stripe's calls to us (/webhooks/stripe/): each checks its own signature."""

from django.urls import path

from billing import webhooks

app_name = "billing_webhooks"
urlpatterns = [
    path("", webhooks.stripe_webhook, name="stripe"),
]
