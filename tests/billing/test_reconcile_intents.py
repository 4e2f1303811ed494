"""A crash between Stripe's hold and our commit, against a real localstripe: the sweep of
Stripe's recent intents adopts the hold its payment still waits for and releases any other,
and a retried attempt finds the hold it placed instead of placing a second one."""

import urllib.request
from datetime import timedelta

import pytest
from django.utils import timezone

from billing import services
from billing.gateway import get_gateway
from billing.models import Payment, PaymentStatus, Transaction
from billing.services import checkout, ledger, reconcile
from bookings.models import RideStatus
from bookings.services import ride_expire
from tests.factories import make_ride

pytestmark = pytest.mark.django_db

PS = PaymentStatus
Kind, Status = Transaction.Kind, Transaction.Status


@pytest.fixture(autouse=True)
def fresh_stripe(stripe_server):
    """An empty localstripe: the test database starts its ids at 1 again, so intents that
    other tests left there would name our payments."""
    urllib.request.urlopen(urllib.request.Request(f"{stripe_server}/_config/data", method="DELETE")).close()


def later(minutes=3):
    """The sweep's clock once an orphan is past its grace period."""
    return timezone.now() + timedelta(minutes=minutes)


def saved_card_checkout(ride, stripe_js):
    """The customer saved their card; the checkout's request is about to hold the fare."""
    step = services.checkout_open(ride=ride)
    stripe_js.save_card(step.client_secret)
    return ride.payments.get()


def crash_after_hold(txn):
    """An attempt took the row and Stripe placed its hold, exactly as `ledger.execute` asks for
    it; then the process died before recording anything."""
    assert Transaction.objects.filter(pk=txn.pk, status=Status.PENDING, attempts=0).update(
        attempts=1, next_attempt_at=timezone.now() + ledger.LEASE
    )
    txn.refresh_from_db()
    return get_gateway().create_hold(
        amount=txn.amount_cents,
        currency=txn.currency,
        customer=ledger.stripe_customer_id(txn.ride.customer_id),
        payment_method=txn.payment.payment_method_id,
        off_session=txn.source != Transaction.Source.CHECKOUT,
        metadata=ledger._metadata(txn),
        key=txn.idempotency_key,
    )


def crashed_checkout(ride, stripe_js):
    payment = saved_card_checkout(ride, stripe_js)
    # The request's own first step (card looked up, hold row written), then the crash.
    txn = checkout._use_saved_card(ride, payment, ride.customer)
    return txn, crash_after_hold(txn)


def lease_runs_out(txn):
    Transaction.objects.filter(pk=txn.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def live_holds_of(payment):
    intents = get_gateway().recent_intents(since=int((payment.created_at - timedelta(minutes=1)).timestamp()))
    return [
        i.id
        for i in intents
        if i.metadata.get("payment_id") == str(payment.pk) and i.status == "requires_capture"
    ]


def test_orphan_of_a_payment_still_at_checkout_is_adopted_and_confirms_the_booking(
    pending_ride, stripe_js, committed
):
    txn, orphan = crashed_checkout(pending_ride, stripe_js)
    assert Payment.objects.get(pk=txn.payment_id).payment_intent_id == ""  # we never learnt of it

    with committed():
        assert services.reconcile_intents(now=timezone.now()) == {"adopted": 0, "released": 0}  # in grace
        assert services.reconcile_intents(now=later()) == {"adopted": 1, "released": 0}

    payment = Payment.objects.get(pk=txn.payment_id)
    pending_ride.refresh_from_db()
    assert (payment.status, payment.payment_intent_id) == (PS.AUTHORIZED, orphan.id)
    assert pending_ride.status == RideStatus.CONFIRMED
    txn.refresh_from_db()
    assert (txn.status, txn.provider_id) == (Status.SUCCEEDED, orphan.id)
    assert get_gateway().retrieve_intent(orphan.id).status == "requires_capture"
    # Run again: nothing to do. The customer's retry and the lease's retry place no second hold.
    assert services.reconcile_intents(now=later()) == {"adopted": 0, "released": 0}
    lease_runs_out(txn)
    assert services.execute(txn_id=txn.pk) is None
    assert services.checkout_submit(ride=pending_ride, by=pending_ride.customer).outcome == "paid"
    assert live_holds_of(payment) == [orphan.id]
    assert list(payment.transactions.values_list("kind", flat=True)) == [Kind.AUTHORIZATION]


def test_retried_checkout_after_a_crash_finds_its_hold_instead_of_placing_another(
    pending_ride, stripe_js, committed
):
    txn, orphan = crashed_checkout(pending_ride, stripe_js)
    lease_runs_out(txn)

    with committed():
        step = services.checkout_submit(ride=pending_ride, by=pending_ride.customer)

    assert step.outcome == "paid"
    payment = Payment.objects.get(pk=txn.payment_id)
    assert (payment.status, payment.payment_intent_id) == (PS.AUTHORIZED, orphan.id)
    txn.refresh_from_db()
    # The same row, so the same idempotency key, on the retry.
    assert (txn.attempts, txn.idempotency_key) == (2, f"ride-{pending_ride.pk}-authorize-{payment.pk}")
    assert live_holds_of(payment) == [orphan.id]
    assert services.reconcile_intents(now=later()) == {"adopted": 0, "released": 0}


def test_scheduled_hold_retried_after_a_crash_does_not_hold_twice(pet, stripe_js, committed):
    ride = make_ride(
        pet=pet, status=RideStatus.PENDING_PAYMENT, scheduled_at=timezone.now() + timedelta(days=10)
    )
    payment = saved_card_checkout(ride, stripe_js)
    with committed():
        services.checkout_submit(ride=ride, by=ride.customer)
    payment.refresh_from_db()
    assert payment.status == PS.CARD_SAVED
    # The schedule's hold: the row payment_place_hold writes, then the crash.
    txn = ledger.open_transaction(
        payment=payment,
        kind=Kind.AUTHORIZATION,
        amount_cents=payment.amount_cents,
        key=ledger.key_for(payment, "authorize"),
        source=Transaction.Source.SCHEDULE,
    )
    orphan = crash_after_hold(txn)
    lease_runs_out(txn)

    with committed():
        services.retry_due_transactions()  # tasks run inline in tests

    payment.refresh_from_db()
    assert (payment.status, payment.payment_intent_id) == (PS.AUTHORIZED, orphan.id)
    assert live_holds_of(payment) == [orphan.id]
    again = services.payment_place_hold(payment=payment, source=Transaction.Source.SCHEDULE)
    assert again.status == PS.AUTHORIZED
    assert live_holds_of(payment) == [orphan.id]


def test_orphan_of_an_ended_booking_is_released_and_recorded_once(pending_ride, stripe_js, committed):
    txn, orphan = crashed_checkout(pending_ride, stripe_js)
    with committed():
        ride_expire(ride=pending_ride)
    payment = Payment.objects.get(pk=txn.payment_id)
    assert payment.status == PS.CANCELED

    with committed():
        assert services.reconcile_intents(now=later()) == {"adopted": 0, "released": 1}

    assert get_gateway().retrieve_intent(orphan.id).status == "canceled"
    row = payment.transactions.get(kind=Kind.ORPHAN_VOID)
    assert (row.status, row.amount_cents, row.provider_id, row.source) == (
        Status.SUCCEEDED,
        pending_ride.price_cents,
        orphan.id,
        Transaction.Source.RECONCILE,
    )
    assert row.reason.startswith("Orphaned hold released")
    # Its attempt is closed, so the lease's retry cannot place another hold.
    txn.refresh_from_db()
    assert txn.status == Status.FAILED
    lease_runs_out(txn)
    assert services.retry_due_transactions() == 0
    # A second run (or a second host) changes nothing.
    before = list(Transaction.objects.order_by("pk").values_list("pk", "status", "completed_at"))
    assert services.reconcile_intents(now=later()) == {"adopted": 0, "released": 0}
    assert list(Transaction.objects.order_by("pk").values_list("pk", "status", "completed_at")) == before
    assert live_holds_of(payment) == []


def test_second_hold_for_a_payment_already_held_is_released(pending_ride, pay, committed):
    assert pay(pending_ride).outcome == "paid"
    payment = pending_ride.payments.get()
    hold = payment.transactions.get(kind=Kind.AUTHORIZATION)
    # A second attempt at the same row reached Stripe and died (the double hold of the incident).
    duplicate = get_gateway().create_hold(
        amount=payment.amount_cents,
        currency=payment.currency,
        customer=ledger.stripe_customer_id(pending_ride.customer_id),
        payment_method=payment.payment_method_id,
        off_session=False,
        metadata=ledger._metadata(hold),
        key=hold.idempotency_key,
    )

    with committed():
        assert services.reconcile_intents(now=later()) == {"adopted": 0, "released": 1}

    assert get_gateway().retrieve_intent(duplicate.id).status == "canceled"
    assert live_holds_of(payment) == [payment.payment_intent_id]  # its own hold stays
    payment.refresh_from_db()
    assert payment.status == PS.AUTHORIZED
    assert payment.transactions.get(kind=Kind.ORPHAN_VOID).provider_id == duplicate.id


def test_intents_without_our_metadata_or_customer_are_left_alone(pending_ride, stripe_js):
    payment = saved_card_checkout(pending_ride, stripe_js)
    checkout._use_saved_card(pending_ride, payment, pending_ride.customer)
    payment.refresh_from_db()
    gateway = get_gateway()
    customer = ledger.stripe_customer_id(pending_ride.customer_id)

    def hold(metadata, customer=customer):
        return gateway.create_hold(
            amount=payment.amount_cents,
            currency=payment.currency,
            customer=customer,
            payment_method=payment.payment_method_id,
            off_session=False,
            metadata=metadata,
            key=f"test-foreign-{len(metadata)}",
        )

    foreign = [
        hold({}),
        hold({"order": "7"}),
        # Names our payment id but another ride: not ours.
        hold({"ride_id": str(pending_ride.pk + 1000), "payment_id": str(payment.pk)}),
        # Names our ride and payment, for a Stripe customer of another database on the account.
        hold(
            ledger._metadata(payment.transactions.get()),
            customer=gateway.create_customer(email="x@example.com", name="X", user_id=1, key="test-other"),
        ),
    ]

    assert services.reconcile_intents(now=later()) == {"adopted": 0, "released": 0}
    assert {gateway.retrieve_intent(i.id).status for i in foreign} == {"requires_capture"}
    assert not Transaction.objects.filter(kind=Kind.ORPHAN_VOID).exists()


def test_two_hosts_releasing_the_same_orphan_write_one_closed_row(pending_ride, stripe_js, committed):
    txn, orphan = crashed_checkout(pending_ride, stripe_js)
    with committed():
        ride_expire(ride=pending_ride)
    payment = Payment.objects.get(pk=txn.payment_id)

    assert services.reconcile_intents(now=later()) == {"adopted": 0, "released": 1}
    # The other host listed the intents before this one cancelled it: it still sees the hold.
    assert reconcile._release_orphan(payment, orphan) == 0

    row = payment.transactions.get(kind=Kind.ORPHAN_VOID)
    assert row.status == Status.SUCCEEDED
    assert get_gateway().retrieve_intent(orphan.id).status == "canceled"


def test_release_interrupted_after_stripe_cancelled_is_closed_by_the_next_run(
    pending_ride, stripe_js, committed, django_assert_max_num_queries
):
    txn, orphan = crashed_checkout(pending_ride, stripe_js)
    with committed():
        ride_expire(ride=pending_ride)
    assert services.reconcile_intents(now=later()) == {"adopted": 0, "released": 1}
    # As if the sweep had died between Stripe's cancel and closing its row.
    row = Transaction.objects.get(kind=Kind.ORPHAN_VOID)
    Transaction.objects.filter(pk=row.pk).update(status=Status.PENDING, completed_at=None)

    assert services.reconcile_intents(now=later()) == {"adopted": 0, "released": 1}
    row.refresh_from_db()
    assert row.status == Status.SUCCEEDED and row.completed_at is not None
    with django_assert_max_num_queries(3):  # nothing left to do: the look-ups only
        assert services.reconcile_intents(now=later()) == {"adopted": 0, "released": 0}
