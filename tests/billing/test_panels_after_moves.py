"""The payment panel in the page that follows an action is current: billing settles a move in
a task queued with it (core.outbox), which has not run when the customer lands back on the
ride page, so the panel must say what the move does rather than how the payment stood."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings.models import RideStatus
from tests.bookings.test_views import local_input
from tests.factories import PaymentFactory, make_ride

pytestmark = pytest.mark.django_db


def payment_status(page: str) -> str:
    match = re.search(r'data-testid="payment-status">(.*?)</p>', page, re.S)
    assert match, "no payment status on the page"
    return " ".join(unescape(re.sub(r"<[^>]+>", "", match.group(1))).split())


def at_local(days: int, hour: int):
    day = timezone.localtime(timezone.now() + timedelta(days=days))
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


def cancel_and_read(client, ride) -> str:
    response = client.post(reverse("bookings:ride_cancel", args=[ride.pk]), {"reason": ""}, follow=True)
    ride.refresh_from_db()
    assert ride.status == RideStatus.CANCELLED
    return payment_status(response.content.decode())


def test_cancelling_a_ride_whose_card_was_only_saved_never_says_a_hold_will_be_placed(
    customer_client, customer
):
    ride = make_ride(customer=customer, scheduled_at=timezone.now() + timedelta(days=5))
    PaymentFactory(ride=ride, status="card_saved", payment_intent_id="")
    before = payment_status(
        customer_client.get(reverse("bookings:ride_detail", args=[ride.pk])).content.decode()
    )
    assert "We hold" in before  # what it said before the cancel

    after = cancel_and_read(customer_client, ride)

    assert "We hold" not in after
    assert after == "This ride is cancelled: nothing will be held or charged on Visa •••• 4242."


def test_cancelling_a_held_ride_in_time_says_the_hold_is_being_released(customer_client, customer):
    ride = make_ride(customer=customer, scheduled_at=timezone.now() + timedelta(days=2), price_cents=4200)
    PaymentFactory(ride=ride, amount_cents=4200)

    after = cancel_and_read(customer_client, ride)

    assert (
        after
        == "This ride is cancelled: we are releasing the $42.00 held on Visa •••• 4242. Nothing is charged."
    )


def test_a_late_cancellation_says_the_fee_it_charges(customer_client, customer):
    ride = make_ride(customer=customer, scheduled_at=timezone.now() + timedelta(hours=5), price_cents=9000)
    PaymentFactory(ride=ride, amount_cents=9000)

    after = cancel_and_read(customer_client, ride)

    assert after == (
        "The cancellation fee of $45.00 is being charged to Visa •••• 4242. The rest of the hold is released."
    )


def test_rescheduling_to_a_dearer_time_shows_the_new_fare_and_that_the_hold_is_updating(
    customer_client, customer
):
    ride = make_ride(customer=customer, scheduled_at=at_local(4, 10))
    PaymentFactory(ride=ride)
    old = ride.price_cents

    response = customer_client.post(
        reverse("bookings:ride_reschedule", args=[ride.pk]),
        {"scheduled_at": local_input(at_local(4, 22))},  # night: a surcharge
        follow=True,
    )

    ride.refresh_from_db()
    assert ride.price_cents > old
    status = payment_status(response.content.decode())
    assert f"${old / 100:.2f} held on" not in status  # the old panel's words
    assert status.startswith(f"The new fare is ${ride.price_cents / 100:.2f}. We are updating the hold")


def test_rescheduling_a_saved_card_ride_says_the_new_fare_will_be_held(customer_client, customer):
    ride = make_ride(customer=customer, scheduled_at=at_local(6, 10))
    PaymentFactory(ride=ride, status="card_saved", payment_intent_id="")

    response = customer_client.post(
        reverse("bookings:ride_reschedule", args=[ride.pk]),
        {"scheduled_at": local_input(at_local(6, 22))},
        follow=True,
    )

    ride.refresh_from_db()
    assert f"We hold ${ride.price_cents / 100:.2f} on it" in payment_status(response.content.decode())


def test_the_ops_money_panel_says_what_is_settling(admin_client, customer):
    ride = make_ride(customer=customer, scheduled_at=timezone.now() + timedelta(days=2), price_cents=4200)
    PaymentFactory(ride=ride, amount_cents=4200)
    admin_client.post(
        reverse("bookings_ops:ride_cancel", args=[ride.pk]), {"reason": "Closed", "confirm": "on"}
    )

    page = admin_client.get(reverse("bookings_ops:ride_detail", args=[ride.pk])).content.decode()

    assert "hold of $42.00 to release" in page
