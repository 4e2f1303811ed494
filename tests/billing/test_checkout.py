"""Checkout against a real localstripe: hold, declines, 3-D Secure, the server's own checks."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from billing import services
from billing.gateway import get_gateway
from billing.models import Payment, PaymentStatus, StripeCustomer, Transaction
from bookings.models import RideStatus
from tests.billing.fixtures import DECLINED_AT_CHARGE, DECLINED_AT_SAVE, GOOD_CARD, NEEDS_3DS, denied
from tests.factories import DROPOFF, PICKUP, make_ride

pytestmark = pytest.mark.django_db

PS = PaymentStatus


def checkout_url(ride):
    return reverse("billing:checkout", args=[ride.pk])


def test_booking_goes_to_checkout_and_waits_for_payment(customer_client, pet, stripe_server):
    when = timezone.localtime(timezone.now() + timedelta(days=2)).replace(hour=10, minute=0, second=0)
    response = customer_client.post(
        reverse("bookings:ride_new"),
        {
            "pets": [pet.pk],
            "pickup_address": PICKUP,
            "dropoff_address": DROPOFF,
            "scheduled_at": when.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    ride = pet.rides.get()
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == checkout_url(ride)
    assert ride.status == RideStatus.PENDING_PAYMENT

    page = customer_client.get(checkout_url(ride))
    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    assert f'src="{stripe_server}/js.stripe.com/v3/"' in html
    payment = ride.payments.get()
    assert payment.status == PS.REQUIRES_CARD and payment.setup_intent_id.startswith("seti_")
    assert f'data-client-secret="{payment.setup_intent_id}_secret_' in html
    assert StripeCustomer.objects.filter(user=ride.customer).exists()


def test_good_card_holds_the_fare_and_confirms_the_ride(pending_ride, pay, payment_events):
    step = pay(pending_ride, GOOD_CARD)

    assert step.outcome == "paid"
    assert pending_ride.status == RideStatus.CONFIRMED
    payment = pending_ride.payments.get()
    assert payment.status == PS.AUTHORIZED
    assert (payment.amount_cents, payment.card_brand, payment.card_last4) == (
        pending_ride.price_cents,
        "visa",
        "4242",
    )
    hold = payment.transactions.get()
    assert (hold.kind, hold.status, hold.amount_cents) == (
        "authorization",
        "succeeded",
        pending_ride.price_cents,
    )
    assert hold.provider_id == payment.payment_intent_id
    assert hold.idempotency_key == f"ride-{pending_ride.pk}-authorize-{payment.pk}"
    assert hold.source == "checkout" and hold.initiated_by == pending_ride.customer
    # Stripe itself holds exactly the fare, not captured.
    intent = get_gateway().retrieve_intent(payment.payment_intent_id)
    assert (intent.status, intent.amount, intent.metadata["ride_id"]) == (
        "requires_capture",
        pending_ride.price_cents,
        str(pending_ride.pk),
    )
    assert payment_events == [("authorized", pending_ride.pk, hold.pk)]


def test_booking_waits_at_checkout_and_holds_nothing_until_the_card_is_entered(customer_client, pet):
    from bookings.services import ride_book, ride_plan

    plan = ride_plan(
        customer=pet.owner,
        pets=[pet],
        pickup_address=PICKUP,
        dropoff_address=DROPOFF,
        scheduled_at=timezone.now() + timedelta(days=2),
    )
    assert ride_book(customer=pet.owner, plan=plan).status == RideStatus.PENDING_PAYMENT
    assert not Payment.objects.exists()


def test_posting_without_a_saved_card_changes_nothing(customer_client, pending_ride, stripe_server):
    customer_client.get(checkout_url(pending_ride))  # checkout started, card never entered

    response = customer_client.post(checkout_url(pending_ride), follow=True)

    assert response.redirect_chain[-1][0] == checkout_url(pending_ride)
    assert "isn&#x27;t saved yet" in response.content.decode()
    pending_ride.refresh_from_db()
    assert pending_ride.status == RideStatus.PENDING_PAYMENT
    assert not Transaction.objects.exists()


def test_card_declined_when_saved_can_be_retried(customer_client, pending_ride, stripe_js):
    step = services.checkout_open(ride=pending_ride)
    status, body = stripe_js.save_card(step.client_secret, DECLINED_AT_SAVE)
    assert status == HTTPStatus.PAYMENT_REQUIRED and body["error"]["message"] == "Your card was declined."

    # The page shows Stripe.js's error; the same SetupIntent takes the next card.
    status, body = stripe_js.save_card(step.client_secret, GOOD_CARD)
    assert status == HTTPStatus.OK
    response = customer_client.post(checkout_url(pending_ride))

    assert response.url == reverse("bookings:ride_detail", args=[pending_ride.pk])
    pending_ride.refresh_from_db()
    assert pending_ride.status == RideStatus.CONFIRMED


def test_card_declined_at_the_hold_shows_why_and_starts_a_fresh_attempt(
    customer_client, pending_ride, stripe_js, payment_events
):
    step = services.checkout_open(ride=pending_ride)
    stripe_js.save_card(step.client_secret, DECLINED_AT_CHARGE)

    response = customer_client.post(checkout_url(pending_ride), follow=True)

    assert "Your card was declined. Please try another card." in response.content.decode()
    failed = pending_ride.payments.get(status=PS.FAILED)
    hold = failed.transactions.get()
    assert hold.status == "failed" and "declined" in hold.error
    pending_ride.refresh_from_db()
    assert pending_ride.status == RideStatus.PENDING_PAYMENT
    assert payment_events == []  # the customer is right there: no "action required" message
    # The page they were sent back to started a new attempt with a new SetupIntent.
    retry = pending_ride.payments.get(status=PS.REQUIRES_CARD)
    assert retry.setup_intent_id != failed.setup_intent_id
    stripe_js.save_card(services.checkout_open(ride=pending_ride).client_secret, GOOD_CARD)
    customer_client.post(checkout_url(pending_ride))
    pending_ride.refresh_from_db()
    assert pending_ride.status == RideStatus.CONFIRMED


def test_three_d_secure_asks_the_browser_then_the_server_checks(customer_client, pending_ride, stripe_js):
    step = services.checkout_open(ride=pending_ride)
    stripe_js.save_card(step.client_secret, NEEDS_3DS)

    response = customer_client.post(checkout_url(pending_ride))
    assert response.url == checkout_url(pending_ride)
    page = customer_client.get(checkout_url(pending_ride)).content.decode()
    payment = pending_ride.payments.get()
    assert payment.status == PS.REQUIRES_ACTION
    assert 'data-mode="action"' in page and f"{payment.payment_intent_id}_secret_" in page
    pending_ride.refresh_from_db()
    assert pending_ride.status == RideStatus.PENDING_PAYMENT

    intent = get_gateway().retrieve_intent(payment.payment_intent_id)
    stripe_js.confirm_payment(intent.client_secret, success=True)
    customer_client.post(checkout_url(pending_ride))

    pending_ride.refresh_from_db()
    payment.refresh_from_db()
    assert (pending_ride.status, payment.status) == (RideStatus.CONFIRMED, PS.AUTHORIZED)
    assert payment.transactions.get().status == "succeeded"


def test_an_intent_stripe_returns_that_does_not_match_the_payment_confirms_nothing(
    customer_client, pending_ride, stripe_js
):
    """The server looks the intent up after the bank's check; Stripe answers with a one-cent
    hold (here: an intent swapped in at localstripe). It must not confirm the booking."""
    step = services.checkout_open(ride=pending_ride)
    stripe_js.save_card(step.client_secret, NEEDS_3DS)
    customer_client.post(checkout_url(pending_ride))
    payment = pending_ride.payments.get()
    hold = payment.transactions.get()
    one_cent = get_gateway().create_hold(
        amount=1, currency="usd", customer=StripeCustomer.objects.get().customer_id,
        payment_method="pm_card_visa", off_session=False, key="swapped",
        metadata={"ride_id": str(pending_ride.pk), "payment_id": str(payment.pk)},
    )  # fmt: skip
    assert one_cent.status == "requires_capture"
    Transaction.objects.filter(pk=hold.pk).update(provider_id=one_cent.id)
    Payment.objects.filter(pk=payment.pk).update(payment_intent_id=one_cent.id)

    response = customer_client.post(checkout_url(pending_ride), follow=True)

    assert "did not go through" in response.content.decode()
    pending_ride.refresh_from_db()
    payment.refresh_from_db()
    hold.refresh_from_db()
    assert (pending_ride.status, payment.status, hold.status) == (
        RideStatus.PENDING_PAYMENT,
        PS.FAILED,
        "failed",
    )
    assert pending_ride.payment_secured_cents == 0
    assert "it is for $0.01, not $" in pending_ride.attention
    assert get_gateway().retrieve_intent(one_cent.id).status == "canceled"  # nothing stays held


def test_three_d_secure_failed_lets_the_customer_try_again(pending_ride, pay):
    step = pay(pending_ride, NEEDS_3DS, bank_ok=False)

    assert step.outcome == "card"
    assert "bank could not confirm" in step.message
    assert pending_ride.status == RideStatus.PENDING_PAYMENT
    assert pending_ride.payments.get().status == PS.FAILED


def test_checkout_reuses_its_attempt_on_reload(customer_client, pending_ride, stripe_server):
    customer_client.get(checkout_url(pending_ride))
    customer_client.get(checkout_url(pending_ride))

    assert pending_ride.payments.count() == 1


def test_card_saved_but_browser_never_came_back_is_finished_on_next_visit(
    customer_client, pending_ride, stripe_js
):
    step = services.checkout_open(ride=pending_ride)
    stripe_js.save_card(step.client_secret, GOOD_CARD)  # then the tab closed

    response = customer_client.get(checkout_url(pending_ride))

    assert response.url == reverse("bookings:ride_detail", args=[pending_ride.pk])
    pending_ride.refresh_from_db()
    assert pending_ride.status == RideStatus.CONFIRMED


def test_paid_ride_checkout_sends_back_to_the_ride(customer_client, pending_ride, pay):
    pay(pending_ride)

    response = customer_client.get(checkout_url(pending_ride))

    assert response.url == reverse("bookings:ride_detail", args=[pending_ride.pk])
    assert pending_ride.payments.count() == 1


@denied("customer")
def test_checkout_denials(request, client_name, expected, pending_ride):
    client = request.getfixturevalue(client_name)
    for method in ("get", "post"):
        response = getattr(client, method)(checkout_url(pending_ride))
        assert response.status_code == expected
        if expected == HTTPStatus.FOUND:
            assert response.url.startswith(reverse("account_login"))
    assert not Payment.objects.exists()


def test_another_customers_ride_is_not_found(client, other_customer, pending_ride):
    client.force_login(other_customer)

    assert client.get(checkout_url(pending_ride)).status_code == HTTPStatus.NOT_FOUND
    assert client.post(checkout_url(pending_ride)).status_code == HTTPStatus.NOT_FOUND
    assert not Payment.objects.exists()


def test_payment_provider_down_shows_a_clear_error(customer_client, pending_ride):
    # No localstripe for this test: the gateway points at a closed port.
    response = customer_client.get(checkout_url(pending_ride))

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "can&#x27;t reach our payment provider" in response.content.decode()
    pending_ride.refresh_from_db()
    assert pending_ride.status == RideStatus.PENDING_PAYMENT


# --- Rides booked far ahead: card saved now, hold placed off-session later -------------------


@pytest.fixture
def far_ride(pet):
    return make_ride(
        pet=pet, status=RideStatus.PENDING_PAYMENT, scheduled_at=timezone.now() + timedelta(days=12)
    )


def test_far_ride_saves_the_card_and_holds_nothing_yet(far_ride, pay, payment_events):
    step = pay(far_ride)

    assert step.outcome == "paid" and "hold" in step.message
    assert far_ride.status == RideStatus.CONFIRMED
    payment = far_ride.payments.get()
    assert payment.status == PS.CARD_SAVED and payment.payment_method_id.startswith("pm_")
    assert not payment.payment_intent_id and not Transaction.objects.exists()
    assert payment_events == []


def test_scheduled_task_places_the_hold_before_pickup(far_ride, pay, payment_events, committed):
    pay(far_ride)
    assert services.place_due_holds(now=timezone.now()) == 0  # too early

    with committed():
        assert services.place_due_holds(now=far_ride.scheduled_at - timedelta(hours=47)) == 1

    payment = far_ride.payments.get()
    assert payment.status == PS.AUTHORIZED
    hold = payment.transactions.get()
    assert (hold.kind, hold.status, hold.source) == ("authorization", "succeeded", "schedule")
    assert get_gateway().retrieve_intent(payment.payment_intent_id).status == "requires_capture"
    assert [kind for kind, *_ in payment_events] == ["authorized"]
    # Running it again finds nothing left to do.
    assert services.place_due_holds(now=far_ride.scheduled_at - timedelta(hours=47)) == 0


@pytest.mark.parametrize("card", [DECLINED_AT_CHARGE, NEEDS_3DS])
def test_failed_off_session_hold_flags_the_ride_and_asks_the_customer(
    customer_client, far_ride, pay, payment_events, card, committed
):
    pay(far_ride, card)
    with committed():
        services.place_due_holds(now=far_ride.scheduled_at - timedelta(hours=47))

    far_ride.refresh_from_db()
    payment = far_ride.payments.get()
    assert payment.status == PS.FAILED
    assert far_ride.payment_secured_cents == 0  # no driver is assigned to it now
    assert far_ride.attention.startswith("Payment: card hold of")
    hold = payment.transactions.get()
    assert hold.status == "failed"
    assert payment_events == [("action_required", far_ride.pk, hold.pk)]
    if card == NEEDS_3DS:  # the half-done intent is cancelled, so it cannot complete later
        assert get_gateway().retrieve_intent(hold.provider_id).status == "canceled"
    # The customer's ride page asks them to pay; paying on the site secures the ride again.
    page = customer_client.get(reverse("bookings:ride_detail", args=[far_ride.pk])).content.decode()
    assert "We couldn't hold the fare on your card" in page and checkout_url(far_ride) in page


def test_paying_on_the_site_after_a_failed_hold_clears_the_flag(far_ride, pay, stripe_js):
    pay(far_ride, DECLINED_AT_CHARGE)
    services.place_due_holds(now=far_ride.scheduled_at - timedelta(hours=47))
    far_ride.refresh_from_db()
    assert far_ride.attention

    step = services.checkout_open(ride=far_ride)
    stripe_js.save_card(step.client_secret, GOOD_CARD)
    services.checkout_submit(ride=far_ride, by=far_ride.customer)

    far_ride.refresh_from_db()
    assert far_ride.attention == ""
    assert far_ride.status == RideStatus.CONFIRMED
    assert far_ride.payment_secured_cents == far_ride.price_cents
    # Still far ahead: the card is saved again for the scheduled hold.
    assert far_ride.payments.filter(status=PS.CARD_SAVED).count() == 1


# --- Unpaid bookings expire ----------------------------------------------------------------


def test_unpaid_booking_expires_and_frees_its_slot(pending_ride, stripe_server, committed):
    services.checkout_open(ride=pending_ride)
    later = pending_ride.created_at + timedelta(minutes=31)

    with committed():
        assert services.expire_unpaid_rides(now=later) == 1

    pending_ride.refresh_from_db()
    assert pending_ride.status == RideStatus.CANCELLED
    assert pending_ride.events.filter(action="expire").exists()
    assert pending_ride.payments.get().status == PS.CANCELED  # settled by the "expire" move


def test_expiry_checks_stripe_first_and_keeps_a_ride_that_was_paid(pending_ride, stripe_js):
    step = services.checkout_open(ride=pending_ride)
    stripe_js.save_card(step.client_secret, NEEDS_3DS)
    services.checkout_submit(ride=pending_ride, by=pending_ride.customer)
    payment = pending_ride.payments.get()
    # The customer passed the bank's check, then closed the tab before we heard back.
    stripe_js.confirm_payment(get_gateway().retrieve_intent(payment.payment_intent_id).client_secret)

    services.expire_unpaid_rides(now=pending_ride.created_at + timedelta(minutes=31))

    pending_ride.refresh_from_db()
    payment.refresh_from_db()
    assert (pending_ride.status, payment.status) == (RideStatus.CONFIRMED, PS.AUTHORIZED)


def test_recent_unpaid_booking_is_kept(pending_ride):
    assert services.expire_unpaid_rides(now=pending_ride.created_at + timedelta(minutes=5)) == 0


def test_hold_arriving_after_expiry_is_released(pending_ride, stripe_js, payment_events, committed):
    step = services.checkout_open(ride=pending_ride)
    stripe_js.save_card(step.client_secret, GOOD_CARD)
    from bookings.services import ride_expire

    ride_expire(ride=pending_ride)  # the booking expires while the customer is paying

    with committed():
        step = services.checkout_submit(ride=pending_ride, by=pending_ride.customer)

    assert step.outcome == "closed"
    payment = pending_ride.payments.get()
    assert payment.status == PS.VOIDED
    kinds = list(payment.transactions.values_list("kind", "status"))
    assert kinds == [("authorization", "succeeded"), ("void", "succeeded")]
    assert get_gateway().retrieve_intent(payment.payment_intent_id).status == "canceled"
    assert [kind for kind, *_ in payment_events] == ["voided"]
