"""Saved cards (/app/cards/): listed from the customer's Stripe customer, removed there, against
the session's localstripe through the real SDK."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing import services
from billing.gateway import get_gateway
from billing.models import Payment, PaymentStatus, StripeCustomer
from bookings.models import Ride, RideStatus
from tests.billing.fixtures import denied
from tests.factories import make_ride

pytestmark = pytest.mark.django_db

CARDS = reverse("billing:card_list")


def remove_url(payment_method_id):
    return reverse("billing:card_remove", args=[payment_method_id])


def cards_at_stripe(user) -> list[str]:
    return [card.id for card in get_gateway().customer_cards(services.stripe_customer_for(user))]


@pytest.fixture
def far_ride(pet):
    """Beyond a hold's life: checkout saves the card and the hold follows before pickup."""
    return make_ride(
        pet=pet, status=RideStatus.PENDING_PAYMENT, scheduled_at=timezone.now() + timedelta(days=12)
    )


def settled(ride):
    """The ride is over (cancelled late, its fee charged): its payment no longer needs the card."""
    Payment.objects.filter(ride=ride).update(status=PaymentStatus.CAPTURED)
    Ride.objects.filter(pk=ride.pk).update(status=RideStatus.CANCELLED)


def test_the_page_lists_the_card_checkout_saved_and_the_ride_relying_on_it(customer_client, far_ride, pay):
    pay(far_ride)
    payment = far_ride.payments.get()
    assert payment.status == PaymentStatus.CARD_SAVED

    response = customer_client.get(CARDS)

    html = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "Visa •••• 4242" in html and "Expires 12/2034" in html
    assert "Needed for" in html and f'href="{reverse("bookings:ride_detail", args=[far_ride.pk])}"' in html
    assert remove_url(payment.payment_method_id) not in html  # no Remove offered while it's needed
    assert f'href="{CARDS}"' in html  # "My cards" in the customer's menu
    assert f'href="{CARDS}"' in customer_client.get(reverse("accounts:profile")).content.decode()


def test_a_held_fare_keeps_its_card_too(customer_client, pending_ride, pay):
    pay(pending_ride)
    payment = pending_ride.payments.get()
    assert payment.status == PaymentStatus.AUTHORIZED

    response = customer_client.post(remove_url(payment.payment_method_id), {"confirm": "yes"})

    assert response.status_code == HTTPStatus.CONFLICT
    html = response.content.decode()
    assert f"ride #{pending_ride.pk} ({pending_ride.pet_names}," in html and "can&#x27;t be removed" in html
    assert cards_at_stripe(pending_ride.customer) == [payment.payment_method_id]


def test_removing_a_card_no_ride_needs_detaches_it_at_stripe(customer_client, far_ride, pay):
    pay(far_ride)
    card = far_ride.payments.get().payment_method_id
    settled(far_ride)
    page = customer_client.get(CARDS).content.decode()
    assert f'action="{remove_url(card)}"' in page and 'name="confirm"' in page

    unconfirmed = customer_client.post(remove_url(card))
    assert unconfirmed.status_code == HTTPStatus.BAD_REQUEST
    assert "Tick the box to confirm removing Visa •••• 4242." in unconfirmed.content.decode()
    assert cards_at_stripe(far_ride.customer) == [card]

    response = customer_client.post(remove_url(card), {"confirm": "yes"}, follow=True)

    assert response.redirect_chain == [(CARDS, HTTPStatus.FOUND)]
    html = response.content.decode()
    assert "Visa •••• 4242 is removed." in html and "No saved cards" in html
    assert cards_at_stripe(far_ride.customer) == []


def test_a_card_a_ride_relies_on_is_not_removed(customer_client, far_ride, pay):
    pay(far_ride)
    card = far_ride.payments.get().payment_method_id

    response = customer_client.post(remove_url(card), {"confirm": "yes"})

    assert response.status_code == HTTPStatus.CONFLICT
    html = response.content.decode()
    assert "Visa •••• 4242 can&#x27;t be removed" in html and f"ride #{far_ride.pk}" in html
    assert cards_at_stripe(far_ride.customer) == [card]
    assert far_ride.payments.get().status == PaymentStatus.CARD_SAVED


def test_another_customers_card_is_not_found(far_ride, pay, other_customer):
    pay(far_ride)
    card = far_ride.payments.get().payment_method_id
    settled(far_ride)  # removable by its owner, still not by anyone else
    client = Client()
    client.force_login(other_customer)

    # Without a Stripe customer of their own, and with one.
    assert client.post(remove_url(card), {"confirm": "yes"}).status_code == HTTPStatus.NOT_FOUND
    services.stripe_customer_for(other_customer)
    assert client.post(remove_url(card), {"confirm": "yes"}).status_code == HTTPStatus.NOT_FOUND
    page = client.get(CARDS).content.decode()
    assert "No saved cards" in page and "4242" not in page

    assert cards_at_stripe(far_ride.customer) == [card]


def test_no_stripe_customer_means_no_cards_and_no_stripe_call(customer_client):
    # No localstripe here: a call to Stripe would fail with a 503.
    response = customer_client.get(CARDS)

    assert response.status_code == HTTPStatus.OK
    assert "No saved cards" in response.content.decode()
    assert not StripeCustomer.objects.exists()
    assert customer_client.post(remove_url("pm_123"), {"confirm": "yes"}).status_code == HTTPStatus.NOT_FOUND


def test_stripe_unreachable_says_so_and_changes_nothing(customer_client, customer):
    StripeCustomer.objects.create(user=customer, customer_id="cus_unreachable")

    for response in (
        customer_client.get(CARDS),
        customer_client.post(remove_url("pm_1"), {"confirm": "yes"}),
    ):
        assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
        assert "can&#x27;t reach our payment provider" in response.content.decode()
        assert "Nothing was changed." in response.content.decode()


@denied("customer")
def test_cards_denials(request, client_name, expected):
    client = request.getfixturevalue(client_name)
    for response in (client.get(CARDS), client.post(remove_url("pm_1"), {"confirm": "yes"})):
        assert response.status_code == expected
        if expected == HTTPStatus.FOUND:
            assert response.url.startswith(reverse("account_login"))
