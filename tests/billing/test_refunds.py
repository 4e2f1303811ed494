"""Refunds from the back office: partial and full, never more than was captured, once per form."""

import threading
from http import HTTPStatus

import pytest
from django.db import connection
from django.urls import reverse

from billing import services
from billing.forms import RefundForm
from billing.gateway import get_gateway
from billing.models import PaymentStatus, Transaction
from bookings.models import RideStatus
from core.errors import DomainError
from tests.billing.fixtures import denied
from tests.billing.test_settlement import drive_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def captured(pending_ride, pay, driver, photo, committed):
    """A completed ride whose fare was captured."""
    pay(pending_ride)
    with committed():
        drive_to(pending_ride, RideStatus.COMPLETED, driver, photo)
    payment = pending_ride.payments.get()
    assert payment.status == PaymentStatus.CAPTURED
    return payment


def refund_form(payment, amount: str, reason: str = "Driver was 20 minutes late", key=None):
    initial = RefundForm(payment=payment).initial
    return {
        "payment": payment.pk,
        "request_key": str(key or initial["request_key"]),
        "amount": amount,
        "reason": reason,
        "confirm": "on",
    }


def refund_url(payment):
    return reverse("billing_ops:refund", args=[payment.ride_id])


def stripe_refunds(payment):
    return get_gateway().refunds_of(payment.payment_intent_id)


def test_partial_then_full_refund(admin_client, admin_user, captured, committed, payment_events):
    fare = captured.captured_cents
    with committed():
        response = admin_client.post(refund_url(captured), refund_form(captured, "5.00"))

    assert response.url == reverse("bookings_ops:ride_detail", args=[captured.ride_id])
    first = captured.transactions.get(kind="refund")
    assert (first.status, first.amount_cents, first.initiated_by, first.source) == (
        "succeeded",
        500,
        admin_user,
        "ops",
    )
    assert first.reason == "Driver was 20 minutes late" and first.provider_id.startswith("re_")
    at_stripe = stripe_refunds(captured)
    assert [(r.id, r.amount, r.metadata["transaction_id"]) for r in at_stripe] == [
        (first.provider_id, 500, str(first.pk))
    ]
    assert ("refunded", captured.ride_id, first.pk) in payment_events

    with committed():
        admin_client.post(refund_url(captured), refund_form(captured, f"{(fare - 500) / 100:.2f}"))

    captured.refresh_from_db()
    assert captured.refunded_cents == fare == captured.captured_cents
    assert services.refundable_cents(captured) == 0
    assert len(stripe_refunds(captured)) == 2


@pytest.mark.parametrize("amount", ["0.01+", "99999"])
def test_refund_beyond_what_was_captured_is_refused(admin_client, captured, committed, amount):
    fare = captured.captured_cents
    amount = f"{(fare + 1) / 100:.2f}" if amount == "0.01+" else amount
    with committed():
        response = admin_client.post(refund_url(captured), refund_form(captured, amount), follow=True)

    assert f"You can refund at most ${fare / 100:.2f}" in response.content.decode()
    assert not Transaction.objects.filter(kind="refund").exists()
    assert stripe_refunds(captured) == []  # localstripe would have allowed it: we never asked


def test_nothing_left_to_refund(captured, admin_user, committed):
    with committed():
        services.payment_refund(
            payment=captured,
            amount_cents=captured.captured_cents,
            reason="Full",
            by=admin_user,
            request_key="a",
        )

    with pytest.raises(DomainError, match="Nothing is left to refund"):
        services.payment_refund(
            payment=captured, amount_cents=1, reason="More", by=admin_user, request_key="b"
        )


def test_the_same_form_submitted_twice_refunds_once(admin_client, captured, committed):
    form = refund_form(captured, "3.00")
    with committed():
        admin_client.post(refund_url(captured), form)
        admin_client.post(refund_url(captured), form)  # double click, or the browser resent it

    assert captured.transactions.filter(kind="refund").count() == 1
    assert len(stripe_refunds(captured)) == 1


@pytest.mark.parametrize(
    ("amount", "reason", "field"),
    [("", "Late", "amount"), ("-2", "Late", "amount"), ("abc", "Late", "amount"), ("2.00", "", "reason")],
)
def test_bad_refund_input_changes_nothing(admin_client, captured, amount, reason, field):
    response = admin_client.post(
        refund_url(captured), refund_form(captured, amount, reason), HTTP_HX_REQUEST="true"
    )

    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert 'id="ride-money"' in html and "is-invalid" in html and f'name="{field}"' in html
    assert not Transaction.objects.filter(kind="refund").exists()


@pytest.mark.parametrize("htmx", [False, True], ids=["plain-post", "htmx"])
def test_a_refund_is_made_only_once_confirmed(admin_client, captured, committed, htmx):
    form = refund_form(captured, "4.25")
    del form["confirm"]
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {"follow": True}
    with committed():
        response = admin_client.post(refund_url(captured), form, **extra)

    html = response.content.decode()
    assert "Tick the box to confirm refunding $4.25 to the customer&#x27;s card." in html
    assert not Transaction.objects.filter(kind="refund").exists()
    assert stripe_refunds(captured) == []
    if htmx:  # the form comes back as it was typed, the tick asked for beside its box
        assert 'name="confirm"' in html and "is-invalid" in html and 'value="4.25"' in html
        assert "I confirm refunding this amount to" in html

    with committed():
        admin_client.post(refund_url(captured), {**form, "confirm": "on"})
    assert captured.transactions.get(kind="refund").amount_cents == 425


def test_htmx_refund_answers_with_the_money_panel(admin_client, captured, committed):
    with committed():
        response = admin_client.post(
            refund_url(captured), refund_form(captured, "2.50"), HTTP_HX_REQUEST="true"
        )

    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card') and 'id="ride-money"' in html
    assert "Refund of $2.50 sent to Stripe." in html


def test_refund_of_a_cancellation_fee(pet, pay, admin_user, committed):
    from datetime import timedelta

    from django.utils import timezone

    from bookings import services as rides
    from tests.factories import make_ride

    ride = make_ride(
        pet=pet, status=RideStatus.PENDING_PAYMENT, scheduled_at=timezone.now() + timedelta(hours=5)
    )
    pay(ride)
    with committed():
        rides.ride_cancel(ride=ride, by=ride.customer)
    payment = ride.payments.get()
    fee = payment.captured_cents
    assert 0 < fee < ride.price_cents

    with committed():
        services.payment_refund(
            payment=payment, amount_cents=fee, reason="Goodwill", by=admin_user, request_key="x"
        )

    payment.refresh_from_db()
    assert payment.refunded_cents == fee
    with pytest.raises(DomainError):  # the released rest of the hold was never ours to refund
        services.payment_refund(
            payment=payment, amount_cents=1, reason="More", by=admin_user, request_key="y"
        )


def test_refund_rejected_by_stripe_is_recorded_and_frees_the_amount(captured, admin_user, committed):
    captured.payment_intent_id = "pi_unknown_to_stripe"
    captured.save()

    with committed():
        txn = services.payment_refund(
            payment=captured, amount_cents=100, reason="Test", by=admin_user, request_key="z"
        )

    txn.refresh_from_db()
    assert txn.status == "failed" and txn.error
    assert services.refundable_cents(captured) == captured.captured_cents


@denied("admin")
def test_only_operations_refund(request, client_name, expected, captured):
    response = request.getfixturevalue(client_name).post(refund_url(captured), refund_form(captured, "1.00"))

    assert response.status_code == expected
    assert not Transaction.objects.filter(kind="refund").exists()


def test_a_payment_of_another_ride_is_not_found(admin_client, captured, ride):
    response = admin_client.post(reverse("billing_ops:refund", args=[ride.pk]), refund_form(captured, "1.00"))

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert not Transaction.objects.filter(kind="refund").exists()


@pytest.mark.django_db(transaction=True)
def test_two_admins_refunding_at_once_cannot_over_refund(captured, admin_user):
    """Each asks for 60% of the fare at the same moment: one refund goes through, one is refused."""
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent transactions need PostgreSQL (CI runs it)")
    amount = captured.captured_cents * 6 // 10
    barrier = threading.Barrier(2)
    outcomes = []

    def refund(key):
        try:
            barrier.wait()
            services.payment_refund(
                payment=captured, amount_cents=amount, reason="Race", by=admin_user, request_key=key
            )
            outcomes.append("ok")
        except DomainError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=refund, args=(key,)) for key in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["ok", "refused"]
    assert Transaction.objects.filter(kind="refund").count() == 1
    captured.refresh_from_db()
    assert captured.refunded_cents == amount <= captured.captured_cents
