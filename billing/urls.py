from django.urls import path

from billing import ops_views, views, webhooks

app_name = "billing"
urlpatterns = [
    # customer portal
    path("app/rides/<int:pk>/pay/", views.checkout, name="checkout"),
    path("app/rides/<int:pk>/receipt/", views.receipt, name="receipt"),
    # back office
    path("ops/payments/", ops_views.payments, name="ops_payments"),
    path("ops/payments/export.csv", ops_views.payments_csv, name="ops_payments_csv"),
    path("ops/rides/<int:pk>/money/", ops_views.ride_money, name="ops_ride_money"),
    path("ops/rides/<int:pk>/refund/", ops_views.refund, name="ops_refund"),
    path("ops/rides/<int:pk>/retry-capture/", ops_views.retry_capture, name="ops_retry_capture"),
    # Stripe
    path("billing/webhooks/stripe/", webhooks.stripe_webhook, name="stripe_webhook"),
]
