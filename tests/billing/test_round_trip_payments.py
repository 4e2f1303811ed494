"""A round trip's money against a real localstripe: one checkout holds each leg's fare on the
card saved once; each leg is captured, released or charged a fee on its own."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.gateway import get_gateway
from billing.models import PaymentStatus
from bookings import services as rides
from bookings.models import RideStatus
from tests.billing.fixtures import GOOD_CARD
from tests.factories import make_trip, pickup_soon

pytestmark = pytest.mark.django_db

PS = PaymentStatus


def pending_trip(customer, **kwargs):
    return make_trip(customer=customer, status=RideStatus.PENDING_PAYMENT, **kwargs)


def test_one_checkout_holds_both_legs_on_the_same_card(customer, pay, payment_events):
    outbound, back = pending_trip(customer)
    step = pay(outbound, GOOD_CARD)
    back.refresh_from_db()

    assert step.outcome == "paid"
    assert (outbound.status, back.status) == (RideStatus.CONFIRMED, RideStatus.CONFIRMED)
    out_payment, back_payment = outbound.payments.get(), back.payments.get()
    assert (out_payment.status, back_payment.status) == (PS.AUTHORIZED, PS.AUTHORIZED)
    assert back_payment.payment_method_id == out_payment.payment_method_id
    assert back_payment.card_last4 == "4242"
    # Stripe holds each leg's own fare, on two intents, each with its own idempotency key.
    for ride, payment in ((outbound, out_payment), (back, back_payment)):
        intent = get_gateway().retrieve_intent(payment.payment_intent_id)
        assert (intent.status, intent.amount, intent.metadata["ride_id"]) == (
            "requires_capture",
            ride.price_cents,
            str(ride.pk),
        )
        hold = payment.transactions.get()
        assert hold.idempotency_key == f"ride-{ride.pk}-authorize-{payment.pk}"
    assert back_payment.transactions.get().source == "schedule"  # off-session: the card is saved
    assert out_payment.payment_intent_id != back_payment.payment_intent_id


def test_a_return_beyond_a_holds_life_keeps_the_card_for_later(customer, pay, settings):
    soon = timezone.now() + timedelta(days=2)
    outbound, back = pending_trip(customer, scheduled_at=soon, return_at=soon + timedelta(days=9))
    pay(outbound, GOOD_CARD)
    back.refresh_from_db()
    assert outbound.payments.get().status == PS.AUTHORIZED
    assert back.payments.get().status == PS.CARD_SAVED  # place_due_holds holds it before pickup
    assert back.status == RideStatus.CONFIRMED


def test_securing_the_return_twice_makes_one_payment(customer, pay):
    from billing import services

    outbound, back = pending_trip(customer)
    pay(outbound, GOOD_CARD)
    assert services.secure_return_leg(payment_id=outbound.payments.get().pk) is None
    assert back.payments.count() == 1


def test_each_leg_is_captured_when_it_is_delivered(customer, driver, pay, committed, photo):
    outbound, back = pending_trip(customer)
    pay(outbound, GOOD_CARD)
    with committed():
        rides.ride_assign(ride=outbound, driver=driver, by=None)
        pickup_soon(outbound)  # the driver sets off shortly before pickup
        rides.ride_start(ride=outbound, by=driver)
        rides.ride_pickup(ride=outbound, by=driver, photo=photo)
        rides.ride_complete(ride=outbound, by=driver, photo=photo)
    out_payment, back_payment = outbound.payments.get(), back.payments.get()
    assert (out_payment.status, out_payment.captured_cents) == (PS.CAPTURED, outbound.price_cents)
    assert back_payment.status == PS.AUTHORIZED and back_payment.captured_cents == 0


def test_cancelling_only_the_return_releases_its_hold_alone(customer, pay, committed):
    outbound, back = pending_trip(customer)
    pay(outbound, GOOD_CARD)
    with committed():
        rides.ride_cancel(ride=back, by=customer)
    out_payment, back_payment = outbound.payments.get(), back.payments.get()
    assert back_payment.status == PS.VOIDED
    assert get_gateway().retrieve_intent(back_payment.payment_intent_id).status == "canceled"
    assert out_payment.status == PS.AUTHORIZED


def test_cancelling_the_booking_releases_both_holds(customer, pay, committed):
    outbound, back = pending_trip(customer)
    pay(outbound, GOOD_CARD)
    with committed():
        rides.ride_cancel(ride=outbound, by=customer)
    assert {p.status for p in (outbound.payments.get(), back.payments.get())} == {PS.VOIDED}


def test_the_checkout_page_shows_both_legs_and_their_total(customer_client, customer, stripe_server):
    outbound, back = pending_trip(customer)
    html = customer_client.get(reverse("billing:checkout", args=[outbound.pk])).content.decode()
    total = (outbound.price_cents + back.price_cents) / 100
    assert "round trip" in html and "Ride out" in html and "Return" in html
    assert f"Hold ${total:,.2f} and book" in html
    assert "Total for both rides" in html


def test_a_return_whose_hold_fails_is_flagged_and_keeps_its_slot(customer, pay, committed):
    from billing import services
    from tests.billing.fixtures import NEEDS_3DS

    outbound, back = pending_trip(customer)
    pay(outbound, NEEDS_3DS)  # the bank's check passes with the customer there; off-session it can't
    back.refresh_from_db()
    assert outbound.status == RideStatus.CONFIRMED
    assert back.status == RideStatus.PENDING_PAYMENT
    assert "return's card hold failed" in back.attention
    # The payment window passing does not release it: the pets need a way home.
    later = timezone.now() + timedelta(hours=2)
    with committed():
        services.expire_unpaid_rides(now=later)
    back.refresh_from_db()
    assert back.status == RideStatus.PENDING_PAYMENT


def test_an_unpaid_round_trip_lapses_whole(customer, committed):
    from billing import services

    outbound, back = pending_trip(customer)
    Ride = type(outbound)
    Ride.objects.filter(pk__in=[outbound.pk, back.pk]).update(created_at=timezone.now() - timedelta(hours=2))
    with committed():
        assert services.expire_unpaid_rides() == 2


def test_the_checkout_leaves_out_a_return_cancelled_meanwhile(customer_client, customer, stripe_server):
    outbound, back = pending_trip(customer)
    rides.ride_cancel(ride=back, by=customer)
    html = customer_client.get(reverse("billing:checkout", args=[outbound.pk])).content.decode()
    assert "Total for both rides" not in html
    assert f"Hold ${outbound.price_cents / 100:,.2f} and book" in html
