"""A ride's moves settle its money, against a real localstripe: capture, fees, releases,
reschedules; idempotent tasks; retries with back-off; permanent failures flagged."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from billing import services, tasks
from billing.gateway import get_gateway
from billing.models import Payment, PaymentStatus, Transaction
from bookings import services as rides
from bookings.models import Ride, RideStatus
from tests.billing.fixtures import NEEDS_3DS, NOWHERE
from tests.factories import NEAR, make_ride, on_duty_driver, pickup_soon

pytestmark = pytest.mark.django_db

PS = PaymentStatus


@pytest.fixture
def held_ride(pending_ride, pay):
    """A booked ride whose fare is held on the card."""
    pay(pending_ride)
    return pending_ride


def drive_to(ride, status, driver, photo):
    """Move the ride through the bookings services, as the driver portal will."""
    rides.ride_assign(ride=ride, driver=driver, by=None)
    pickup_soon(ride)  # the driver sets off shortly before pickup
    rides.ride_start(ride=ride, by=driver)
    if status == RideStatus.NO_SHOW:
        return rides.ride_no_show(ride=ride, by=driver, reason="Nobody answered the door")
    rides.ride_pickup(ride=ride, by=driver, photo=photo)
    return rides.ride_complete(ride=ride, by=driver, photo=photo)


def half_up_percent(cents, percent):
    """The fee rule as the terms state it: a share of the fare, half a cent rounded up."""
    return (cents * percent + 50) // 100


def ledger(ride):
    return list(ride.transactions.order_by("id").values_list("kind", "status", "amount_cents"))


def test_completing_the_ride_captures_the_fare(held_ride, driver, photo, committed, payment_events):
    with committed():
        drive_to(held_ride, RideStatus.COMPLETED, driver, photo)

    payment = held_ride.payments.get()
    assert payment.status == PS.CAPTURED and payment.captured_cents == held_ride.price_cents
    price = held_ride.price_cents
    assert ledger(held_ride) == [("authorization", "succeeded", price), ("capture", "succeeded", price)]
    capture = held_ride.transactions.get(kind="capture")
    assert capture.idempotency_key == f"ride-{held_ride.pk}-capture-{payment.pk}"
    assert (capture.source, capture.reason, capture.attempts) == ("ride", "Ride completed", 1)
    intent = get_gateway().retrieve_intent(payment.payment_intent_id)
    assert (intent.status, intent.amount_received) == ("succeeded", price)
    assert ("captured", held_ride.pk, capture.pk) in payment_events


def test_capture_task_run_twice_captures_once(held_ride, driver, photo, committed):
    with committed():
        drive_to(held_ride, RideStatus.COMPLETED, driver, photo)
    complete = held_ride.events.get(action="complete")

    tasks.settle_ride_move(held_ride.pk, "complete", complete.pk)  # the queue delivered it twice
    capture = held_ride.transactions.get(kind="capture")
    assert tasks.execute_transaction(capture.pk) == "not due"

    assert held_ride.transactions.filter(kind="capture").count() == 1
    capture.refresh_from_db()
    assert capture.attempts == 1  # Stripe was called once
    intent = get_gateway().retrieve_intent(held_ride.payments.get().payment_intent_id)
    assert intent.amount_received == held_ride.price_cents


def test_a_lost_capture_answer_is_looked_up_not_repeated(held_ride, driver, photo, settings):
    """The worker died after Stripe captured: the retry asks Stripe instead of capturing again
    (localstripe ignores idempotency keys, so a second capture call would fail)."""
    payment = held_ride.payments.get()
    get_gateway().capture(intent_id=payment.payment_intent_id, amount=held_ride.price_cents, key="lost")
    txn = Transaction.objects.create(
        ride=held_ride, payment=payment, kind="capture", amount_cents=held_ride.price_cents,
        idempotency_key="ride-lost-capture", source="ride", attempts=1, next_attempt_at=timezone.now(),
    )  # fmt: skip

    services.execute(txn_id=txn.pk)

    txn.refresh_from_db()
    payment.refresh_from_db()
    assert (txn.status, txn.attempts, payment.status) == ("succeeded", 2, PS.CAPTURED)


def time_passes(txn):
    """The back-off delay is over."""
    Transaction.objects.filter(pk=txn.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_transient_errors_back_off_then_succeed(held_ride, driver, photo, settings, committed):
    stripe_url = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = NOWHERE  # Stripe unreachable
    with committed():
        drive_to(held_ride, RideStatus.COMPLETED, driver, photo)

    capture = held_ride.transactions.get(kind="capture")
    assert (capture.status, capture.attempts) == ("pending", 1)
    assert "could not be reached" in capture.error
    first_delay = capture.next_attempt_at - timezone.now()
    assert timedelta(seconds=50) < first_delay <= timedelta(minutes=1)
    assert services.retry_due_transactions() == 0  # not due yet

    time_passes(capture)
    assert services.retry_due_transactions() == 1  # still down: waits longer
    capture.refresh_from_db()
    assert capture.attempts == 2 and capture.next_attempt_at - timezone.now() > timedelta(minutes=4)

    settings.STRIPE_API_BASE = stripe_url  # back up
    time_passes(capture)
    with committed():
        services.retry_due_transactions()

    capture.refresh_from_db()
    assert (capture.status, capture.attempts) == ("succeeded", 3)
    assert capture.error.splitlines() == [  # the history of what went wrong stays on the row
        "Attempt 1: The payment service could not be reached.",
        "Attempt 2: The payment service could not be reached.",
    ]
    held_ride.refresh_from_db()
    assert held_ride.attention == ""


def test_giving_up_after_the_last_retry_flags_the_ride(held_ride, driver, photo, settings, committed):
    settings.STRIPE_API_BASE = NOWHERE
    settings.BILLING_RETRY_DELAYS = [timedelta(minutes=1)]
    with committed():
        drive_to(held_ride, RideStatus.COMPLETED, driver, photo)
    capture = held_ride.transactions.get(kind="capture")
    time_passes(capture)

    with committed():
        services.retry_due_transactions()

    capture.refresh_from_db()
    held_ride.refresh_from_db()
    assert (capture.status, capture.attempts) == ("failed", 2)
    assert held_ride.attention.startswith("Payment: capture of")
    assert held_ride.payments.get().status == PS.AUTHORIZED  # still held: operations can try again


def test_a_capture_that_succeeds_on_the_ops_retry_clears_its_failure_flag(
    held_ride, driver, photo, settings, admin_user, committed, stripe_server
):
    stripe_url = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = NOWHERE  # Stripe down, and no automatic retry left
    settings.BILLING_RETRY_DELAYS = []
    with committed():
        drive_to(held_ride, RideStatus.COMPLETED, driver, photo)
    held_ride.refresh_from_db()
    assert held_ride.attention.startswith("Payment: capture of")

    settings.STRIPE_API_BASE = stripe_url  # back up: operations retry from the ride's page
    with committed():
        retry = services.capture_retry(payment=held_ride.payments.get(), by=admin_user)
    retry.refresh_from_db()
    held_ride.refresh_from_db()
    assert retry.status == "succeeded"
    assert held_ride.attention == ""
    assert held_ride.events.filter(action="clear_flag").count() == 1


def test_permanent_capture_failure_flags_and_ops_can_retry(held_ride, driver, photo, admin_user, committed):
    payment = held_ride.payments.get()
    # The hold is gone at Stripe (it expired, and the webhook was lost): capturing cannot work.
    # (localstripe would capture a cancelled intent; real Stripe refuses, and so do we.)
    get_gateway().cancel(intent_id=payment.payment_intent_id, key="expired")
    with committed():
        drive_to(held_ride, RideStatus.COMPLETED, driver, photo)

    held_ride.refresh_from_db()
    assert held_ride.transactions.get(kind="capture").status == "failed"
    assert held_ride.attention.startswith("Payment: capture of")

    with committed():
        retry = services.capture_retry(payment=payment, by=admin_user)
    retry.refresh_from_db()
    assert retry.idempotency_key.endswith("-retry-1") and retry.initiated_by == admin_user
    assert retry.status == "failed"  # still cancelled at Stripe; the ledger keeps both attempts
    assert held_ride.transactions.filter(kind="capture").count() == 2


def test_free_cancellation_releases_the_hold(held_ride, committed, payment_events):
    with committed():
        rides.ride_cancel(ride=held_ride, by=held_ride.customer, reason="Vet moved the appointment")

    payment = held_ride.payments.get()
    assert payment.status == PS.VOIDED
    assert ledger(held_ride)[-1] == ("void", "succeeded", held_ride.price_cents)
    assert held_ride.transactions.get(kind="void").reason == "Cancelled in time: free"
    assert get_gateway().retrieve_intent(payment.payment_intent_id).status == "canceled"
    assert "voided" in [kind for kind, *_ in payment_events]


@pytest.fixture
def held_soon_ride(pet, pay):
    """A ride in 6 hours (inside the 24 h before pickup), booked and held."""
    ride = make_ride(
        pet=pet, status=RideStatus.PENDING_PAYMENT, scheduled_at=timezone.now() + timedelta(hours=6)
    )
    pay(ride)
    return ride


def test_late_cancellation_by_the_customer_captures_the_fee(held_soon_ride, committed, settings):
    expected_fee = half_up_percent(held_soon_ride.price_cents, settings.CANCELLATION_FEE_PERCENT)
    with committed():
        rides.ride_cancel(ride=held_soon_ride, by=held_soon_ride.customer)

    payment = held_soon_ride.payments.get()
    assert (payment.status, payment.captured_cents) == (PS.CAPTURED, expected_fee)
    fee = held_soon_ride.transactions.get(kind="fee")
    assert (fee.status, fee.amount_cents, fee.reason) == ("succeeded", expected_fee, "Late cancellation")
    # Stripe took the fee and released the rest of the hold.
    intent = get_gateway().retrieve_intent(payment.payment_intent_id)
    assert (intent.status, intent.amount_received) == ("succeeded", expected_fee)


def test_fee_uses_the_terms_at_the_moment_of_cancelling(held_ride, committed):
    """The task may run late; a cancellation made in time stays free."""
    rides.ride_cancel(ride=held_ride, by=held_ride.customer)
    # The customer cancelled 20 hours ago, 40 hours before pickup (free); the task runs only now,
    # 20 hours before pickup, when cancelling would cost a fee.
    cancel = held_ride.events.get(action="cancel")
    cancel.created_at = timezone.now() - timedelta(hours=20)
    cancel.save(update_fields=["created_at"])
    held_ride.scheduled_at = timezone.now() + timedelta(hours=20)
    held_ride.save(update_fields=["scheduled_at"])

    with committed():
        tasks.settle_ride_move(held_ride.pk, "cancel", cancel.pk)

    assert held_ride.payments.get().status == PS.VOIDED


def test_moving_a_ride_inside_the_fee_window_keeps_the_fee(pet, pay, customer_client, committed):
    """The dodge: a ride 5 hours away (a $90.00 fare held) is moved 3 days out, then cancelled."""
    ride = make_ride(
        pet=pet, status=RideStatus.PENDING_PAYMENT, scheduled_at=timezone.now() + timedelta(hours=5),
        price_cents=9000,
    )  # fmt: skip
    pay(ride)
    reschedule(ride, ride.scheduled_at + timedelta(days=3), committed)
    ride.refresh_from_db()
    assert ride.price_cents < 9000  # cheaper: the $90.00 hold stays

    page = customer_client.get(reverse("bookings:ride_cancel", args=[ride.pk])).content.decode()
    assert '<strong data-testid="cancel-fee">$45.00</strong>' in page
    with committed():
        customer_client.post(reverse("bookings:ride_cancel", args=[ride.pk]))

    payment = ride.payments.get()
    assert (payment.status, payment.captured_cents) == (PS.CAPTURED, 4500)
    assert ledger(ride)[-1] == ("fee", "succeeded", 4500)
    assert get_gateway().retrieve_intent(payment.payment_intent_id).amount_received == 4500


def test_cancelling_an_unpaid_booking_late_is_free_and_ends_the_attempt(pet, stripe_server, committed):
    ride = make_ride(
        pet=pet, status=RideStatus.PENDING_PAYMENT, scheduled_at=timezone.now() + timedelta(hours=5)
    )
    services.checkout_open(ride=ride)
    with committed():
        rides.ride_cancel(ride=ride, by=ride.customer)

    assert ride.payments.get().status == PS.CANCELED
    assert not Transaction.objects.exists()


def test_operations_cancelling_late_never_charge(held_soon_ride, admin_user, committed):
    with committed():
        rides.ride_cancel(ride=held_soon_ride, by=admin_user, reason="No driver for the airport run")

    assert held_soon_ride.payments.get().status == PS.VOIDED
    assert not held_soon_ride.transactions.filter(kind__in=["fee", "capture"]).exists()
    assert held_soon_ride.transactions.get(kind="void").reason == "Cancelled by operations: no charge"


def test_no_show_captures_the_fee(held_soon_ride, driver, photo, committed, settings):
    with committed():
        drive_to(held_soon_ride, RideStatus.NO_SHOW, driver, photo)

    fee = held_soon_ride.transactions.get(kind="fee")
    assert fee.status == "succeeded" and fee.reason == "No-show"
    assert fee.amount_cents == half_up_percent(held_soon_ride.price_cents, settings.CANCELLATION_FEE_PERCENT)
    assert held_soon_ride.payments.get().status == PS.CAPTURED


def test_cancelling_before_paying_cancels_the_attempt(pending_ride, stripe_server, committed):
    services.checkout_open(ride=pending_ride)
    with committed():
        rides.ride_cancel(ride=pending_ride, by=pending_ride.customer)

    assert pending_ride.payments.get().status == PS.CANCELED
    assert not Transaction.objects.exists()


def test_far_ride_late_cancel_holds_then_takes_the_fee(pet, pay, committed, settings):
    """A saved card with no hold yet (e.g. the hold task has not run): the fee is held and taken."""
    settings.DISPATCH_AUTO = False  # no drivers here: auto-dispatch would flag the ride for its own reason
    ride = make_ride(
        pet=pet, status=RideStatus.PENDING_PAYMENT, scheduled_at=timezone.now() + timedelta(days=8)
    )
    pay(ride)
    # Days pass (the ride is now 2 hours away) and the customer cancels at the last minute.
    Ride.objects.filter(pk=ride.pk).update(scheduled_at=timezone.now() + timedelta(hours=2))
    with committed():
        rides.ride_cancel(ride=ride, by=ride.customer)

    fee = half_up_percent(ride.price_cents, settings.CANCELLATION_FEE_PERCENT)
    assert ledger(ride) == [("authorization", "succeeded", fee), ("fee", "succeeded", fee)]
    ride.refresh_from_db()
    assert ride.attention == ""


def test_completion_without_any_payment_is_left_alone(ride, driver, photo, committed):
    """A ride with no Payment row: nothing to capture, nothing to flag."""
    with committed():
        drive_to(ride, RideStatus.COMPLETED, driver, photo)

    ride.refresh_from_db()
    assert ride.attention == "" and not Transaction.objects.exists()


# --- Rescheduling (see settle_reschedule and the README) ------------------------------------


def reschedule(ride, when, committed):
    with committed():
        return rides.ride_reschedule(ride=ride, by=ride.customer, scheduled_at=when, now=timezone.now())


def test_reschedule_keeps_a_hold_that_still_covers_the_ride(pet, pay, committed, driver, photo):
    local_day = timezone.localtime(timezone.now(), pet.owner.tzinfo) + timedelta(days=2)
    night = local_day.replace(hour=22, minute=0, second=0, microsecond=0)  # night surcharge
    ride = make_ride(pet=pet, status=RideStatus.PENDING_PAYMENT, scheduled_at=night)
    pay(ride)
    held = ride.payments.get()

    ride = reschedule(ride, night + timedelta(hours=12), committed)  # next morning: cheaper

    assert ride.price_cents < held.amount_cents
    assert ride.payments.get().status == PS.AUTHORIZED  # the same hold
    with committed():
        drive_to(ride, RideStatus.COMPLETED, driver, photo)
    held.refresh_from_db()
    assert held.captured_cents == ride.price_cents  # the new price; Stripe releases the rest
    intent = get_gateway().retrieve_intent(held.payment_intent_id)
    assert intent.amount_received == ride.price_cents


def test_reschedule_to_a_higher_price_replaces_the_hold(held_ride, committed, payment_events):
    old = held_ride.payments.get()
    old.amount_cents = held_ride.price_cents - 100  # as if the new time costs a dollar more than the hold
    old.save()

    reschedule(held_ride, held_ride.scheduled_at + timedelta(days=1), committed)

    held_ride.refresh_from_db()
    old.refresh_from_db()
    new = held_ride.payments.exclude(pk=old.pk).get()
    assert old.status == PS.VOIDED
    assert (new.status, new.amount_cents) == (PS.AUTHORIZED, held_ride.price_cents)
    assert new.payment_method_id == old.payment_method_id and new.payment_intent_id != old.payment_intent_id
    assert get_gateway().retrieve_intent(old.payment_intent_id).status == "canceled"
    assert get_gateway().retrieve_intent(new.payment_intent_id).status == "requires_capture"
    assert sorted(kind for kind, *_ in payment_events) == ["authorized", "voided"]


@pytest.fixture
def daytime_ride(pet):
    """A ride two days ahead at 11:00 in the customer's zone, not paid yet: its evening costs
    more (night +25%), and a hold placed now lasts until either."""
    local = timezone.localtime(timezone.now(), pet.owner.tzinfo) + timedelta(days=2)
    at_eleven = local.replace(hour=11, minute=0, second=0, microsecond=0)
    return make_ride(pet=pet, status=RideStatus.PENDING_PAYMENT, scheduled_at=at_eleven)


def evening_of(ride):
    return ride.scheduled_at + timedelta(hours=10)  # 21:00: night fare


def intent_status(payment):
    return get_gateway().retrieve_intent(payment.payment_intent_id).status


def test_pricier_reschedule_with_a_declined_card_keeps_the_old_hold(
    daytime_ride, pay, committed, payment_events, customer_client
):
    """The new hold is placed first; the card declines it: the old hold stays, the ride waits
    for the customer to pay (no driver meanwhile), and the old hold goes only once they have."""
    ride = daytime_ride
    driver = on_duty_driver("Dana Diaz", position=NEAR)
    pay(ride)
    ride.refresh_from_db()
    assert ride.driver == driver
    old = ride.payments.get()
    Payment.objects.filter(pk=old.pk).update(payment_method_id="pm_card_chargeCustomerFail")  # now declines

    reschedule(ride, evening_of(ride), committed)

    ride.refresh_from_db()
    old.refresh_from_db()
    new = ride.payments.exclude(pk=old.pk).get()
    assert ride.price_cents > old.amount_cents
    assert (old.status, intent_status(old)) == (PS.AUTHORIZED, "requires_capture")  # still held
    assert (new.status, new.replacing_id, new.amount_cents) == (PS.FAILED, old.pk, ride.price_cents)
    assert (ride.status, ride.driver) == (RideStatus.CONFIRMED, None)  # not dispatched
    assert ride.payment_secured_cents == old.amount_cents
    assert ride.attention.startswith("Payment: card hold of")
    assert [kind for kind, *_ in payment_events][-1] == "action_required"
    assert not ride.transactions.filter(kind="void").exists()
    page = customer_client.get(reverse("bookings:ride_detail", args=[ride.pk])).content.decode()
    assert 'data-testid="pay-new-fare"' in page and "stays on Visa •••• 4242 until then" in page

    step = pay(ride)  # the customer pays the new fare with a card that works

    assert step.outcome == "paid"
    ride.refresh_from_db()
    old.refresh_from_db()
    paid = ride.payments.order_by("id").last()
    assert (paid.status, paid.amount_cents, paid.replacing_id) == (PS.AUTHORIZED, ride.price_cents, None)
    assert (old.status, intent_status(old)) == (PS.VOIDED, "canceled")
    assert ride.transactions.get(kind="void").payment_id == old.pk
    assert (ride.status, ride.driver, ride.attention) == (RideStatus.ASSIGNED, driver, "")
    assert ride.payment_secured_cents == ride.price_cents


def test_pricier_reschedule_needing_the_bank_asks_the_customer_first(daytime_ride, pay, committed):
    """Off-session, a 3-D Secure card can't be held: the customer confirms the new hold with
    their bank on the site, and the old hold stays until they have."""
    ride = daytime_ride
    pay(ride, NEEDS_3DS)
    old = ride.payments.get()

    reschedule(ride, evening_of(ride), committed)

    ride.refresh_from_db()
    old.refresh_from_db()
    new = ride.payments.exclude(pk=old.pk).get()
    assert (old.status, intent_status(old)) == (PS.AUTHORIZED, "requires_capture")
    assert (new.status, new.failure_message) == (PS.FAILED, "Your bank asks you to confirm this payment.")
    assert services.ride_needs_payment(ride)

    assert pay(ride, NEEDS_3DS).outcome == "paid"  # saved, then the bank's check in the browser

    old.refresh_from_db()
    assert (old.status, intent_status(old)) == (PS.VOIDED, "canceled")
    assert ride.payments.filter(status=PS.AUTHORIZED).get().amount_cents == ride.price_cents


def test_cancelling_while_the_new_fare_is_unpaid_settles_the_old_hold(daytime_ride, pay, committed):
    ride = daytime_ride
    pay(ride)
    old = ride.payments.get()
    Payment.objects.filter(pk=old.pk).update(payment_method_id="pm_card_chargeCustomerFail")
    reschedule(ride, evening_of(ride), committed)

    with committed():
        rides.ride_cancel(ride=ride, by=ride.customer)  # two days ahead: free

    old.refresh_from_db()
    assert (old.status, intent_status(old)) == (PS.VOIDED, "canceled")
    assert not ride.payments.filter(status__in=["requires_card", "requires_action", "card_saved"]).exists()


def test_reschedule_beyond_the_hold_life_saves_the_card_for_later(held_ride, committed):
    reschedule(held_ride, held_ride.scheduled_at + timedelta(days=9), committed)

    old, new = held_ride.payments.order_by("id")
    assert (old.status, new.status) == (PS.VOIDED, PS.CARD_SAVED)
    assert not new.transactions.exists()


def test_complete_after_a_smaller_hold_captures_what_is_held_and_flags(held_ride, driver, photo, committed):
    payment = held_ride.payments.get()
    rides.ride_assign(ride=held_ride, driver=driver, by=None)
    held_ride.price_cents += 500  # the fare went up after dispatch (e.g. operations edited the ride)
    held_ride.save(update_fields=["price_cents"])

    pickup_soon(held_ride)
    with committed():
        rides.ride_start(ride=held_ride, by=driver)
        rides.ride_pickup(ride=held_ride, by=driver, photo=photo)
        rides.ride_complete(ride=held_ride, by=driver, photo=photo)

    payment.refresh_from_db()
    held_ride.refresh_from_db()
    assert payment.captured_cents == payment.amount_cents
    assert "the hold was smaller than the fare" in held_ride.attention
