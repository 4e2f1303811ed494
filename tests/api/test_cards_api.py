"""Saved cards through the API (GET /cards, DELETE /cards/{id}), against the session's localstripe."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from billing import services
from billing.gateway import get_gateway
from billing.models import Payment, PaymentStatus, StripeCustomer
from bookings.models import Ride, RideStatus
from tests.factories import make_ride

pytestmark = pytest.mark.django_db


@pytest.fixture
def far_ride(pet):
    return make_ride(
        pet=pet, status=RideStatus.PENDING_PAYMENT, scheduled_at=timezone.now() + timedelta(days=12)
    )


def cards_at_stripe(user) -> list[str]:
    return [card.id for card in get_gateway().customer_cards(services.stripe_customer_for(user))]


def test_list_then_remove_a_card(customer_api, far_ride, pay):
    pay(far_ride)
    card = far_ride.payments.get().payment_method_id

    listed = customer_api.get("/cards")
    assert listed.status_code == HTTPStatus.OK
    assert listed.json() == [
        {"id": card, "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2034,
         "booking_ids": [far_ride.pk]}
    ]  # fmt: skip

    refused = customer_api.delete(f"/cards/{card}")
    assert refused.status_code == HTTPStatus.CONFLICT
    assert f"ride #{far_ride.pk}" in refused.json()["detail"]
    assert cards_at_stripe(far_ride.customer) == [card]

    Payment.objects.filter(ride=far_ride).update(status=PaymentStatus.CANCELED)
    Ride.objects.filter(pk=far_ride.pk).update(status=RideStatus.CANCELLED)
    assert customer_api.get("/cards").json()[0]["booking_ids"] == []
    assert customer_api.delete(f"/cards/{card}").status_code == HTTPStatus.NO_CONTENT
    assert cards_at_stripe(far_ride.customer) == []
    assert customer_api.get("/cards").json() == []


def test_another_customers_card_is_not_found(customer_api, other_customer_api, other_customer, far_ride, pay):
    pay(far_ride)
    card = far_ride.payments.get().payment_method_id
    Payment.objects.filter(ride=far_ride).update(status=PaymentStatus.CANCELED)

    assert other_customer_api.delete(f"/cards/{card}").status_code == HTTPStatus.NOT_FOUND
    services.stripe_customer_for(other_customer)
    assert other_customer_api.get("/cards").json() == []
    assert other_customer_api.delete(f"/cards/{card}").status_code == HTTPStatus.NOT_FOUND
    assert customer_api.delete("/cards/pm_nosuchcard").status_code == HTTPStatus.NOT_FOUND
    assert cards_at_stripe(far_ride.customer) == [card]


def test_no_stripe_customer_no_call_and_stripe_down(customer_api, customer):
    # No localstripe here: any call to Stripe fails.
    assert customer_api.get("/cards").json() == []
    assert customer_api.delete("/cards/pm_1").status_code == HTTPStatus.NOT_FOUND
    assert customer_api.delete("/cards/bad-id!").status_code == HTTPStatus.UNPROCESSABLE_ENTITY

    StripeCustomer.objects.create(user=customer, customer_id="cus_unreachable")
    for response in (customer_api.get("/cards"), customer_api.delete("/cards/pm_1")):
        assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
        assert "can't reach our payment provider" in response.json()["detail"]


def test_cards_denials(anon_api, driver_api, admin_api):
    for api, expected in ((anon_api, HTTPStatus.UNAUTHORIZED), (driver_api, HTTPStatus.FORBIDDEN),
                          (admin_api, HTTPStatus.FORBIDDEN)):  # fmt: skip
        assert api.get("/cards").status_code == expected
        assert api.delete("/cards/pm_1").status_code == expected
