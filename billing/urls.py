"""Billing in the customer portal (/app/): checkout, the receipt, saved cards."""

from django.urls import path

from billing import views

app_name = "billing"
urlpatterns = [
    path("rides/<int:pk>/pay/", views.checkout, name="checkout"),
    path("rides/<int:pk>/receipt/", views.receipt, name="receipt"),
    path("cards/", views.card_list, name="card_list"),
    path("cards/<str:payment_method_id>/remove/", views.card_remove, name="card_remove"),
]
