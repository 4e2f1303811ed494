"""Billing in the customer portal (/app/): checkout and the receipt."""

from django.urls import path

from billing import views

app_name = "billing"
urlpatterns = [
    path("rides/<int:pk>/pay/", views.checkout, name="checkout"),
    path("rides/<int:pk>/receipt/", views.receipt, name="receipt"),
]
