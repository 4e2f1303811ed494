"""Billing in the back office (/ops/payments/): the ledger, a ride's money, refunds, retries."""

from django.urls import path

from billing import ops_views

app_name = "billing_ops"
urlpatterns = [
    path("", ops_views.payments, name="payments"),
    path("export.csv", ops_views.payments_csv, name="payments_csv"),
    path("rides/<int:pk>/", ops_views.ride_money, name="ride_money"),
    path("rides/<int:pk>/refund/", ops_views.refund, name="refund"),
    path("rides/<int:pk>/retry-capture/", ops_views.retry_capture, name="retry_capture"),
]
