"""Stripe webhooks: signatures checked on the raw body, each event applied once, any order.

Payloads are signed with `stripe.WebhookSignature.generate_signature_header`, shaped as
real Stripe sends them (latest_charge as an id) - localstripe never sends most of these.
"""

import json
import time
import urllib.request
import uuid
from http import HTTPStatus

import pytest
import stripe
from django.urls import reverse

from billing import services
from billing.gateway import get_gateway
from billing.models import PaymentStatus, Transaction, WebhookEvent
from bookings.models import RideStatus
from tests.billing.fixtures import NEEDS_3DS, WEBHOOK_SECRET

pytestmark = pytest.mark.django_db

PS = PaymentStatus
URL = reverse("billing_webhooks:stripe")


def event(type_: str, obj: dict, event_id: str | None = None) -> dict:
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:16]}",
        "object": "event",
        "type": type_,
        "created": int(time.time()),
        "livemode": False,
        "api_version": "2025-03-31.basil",
        "data": {"object": obj},
    }


def intent_payload(payment, status: str, **extra) -> dict:
    amount = payment.amount_cents
    return {
        "id": payment.payment_intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": amount if status == "requires_capture" else 0,
        "amount_received": amount if status == "succeeded" else 0,
        "currency": "usd",
        "status": status,
        "capture_method": "manual",
        "latest_charge": "ch_real_stripe_sends_an_id",
        "metadata": {"ride_id": str(payment.ride_id), "payment_id": str(payment.pk)},
        "last_payment_error": None,
        **extra,
    }


def deliver(
    client, payload: dict, secret: str = WEBHOOK_SECRET, signature: str | None = None, timestamp=None
):
    body = json.dumps(payload)
    if signature is None:
        signature = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp)
    headers = {"HTTP_STRIPE_SIGNATURE": signature} if signature else {}
    return client.post(URL, data=body, content_type="application/json", **headers)


@pytest.fixture
def held_ride(pending_ride, pay):
    pay(pending_ride)
    return pending_ride


@pytest.fixture
def waiting_for_bank(pending_ride, stripe_js):
    """A checkout stopped at 3-D Secure; the customer then passes the bank's check at Stripe."""
    step = services.checkout_open(ride=pending_ride)
    stripe_js.save_card(step.client_secret, NEEDS_3DS)
    services.checkout_submit(ride=pending_ride, by=pending_ride.customer)
    payment = pending_ride.payments.get()
    assert payment.status == PS.REQUIRES_ACTION
    return payment


# --- Signatures -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "signature", "timestamp"),
    [
        (WEBHOOK_SECRET, "", None),  # missing
        ("whsec_somebody_else", None, None),  # wrong secret
        (WEBHOOK_SECRET, "t=1,v1=deadbeef", None),  # garbage
        (WEBHOOK_SECRET, None, int(time.time()) - 3600),  # replayed an hour later: too old
    ],
    ids=["missing", "wrong-secret", "garbage", "stale"],
)
def test_bad_signatures_are_refused_and_change_nothing(
    client, waiting_for_bank, secret, signature, timestamp
):
    payload = event(
        "payment_intent.amount_capturable_updated", intent_payload(waiting_for_bank, "requires_capture")
    )

    response = deliver(client, payload, secret=secret, signature=signature, timestamp=timestamp)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not WebhookEvent.objects.exists()
    waiting_for_bank.refresh_from_db()
    assert waiting_for_bank.status == PS.REQUIRES_ACTION
    assert waiting_for_bank.ride.status == RideStatus.PENDING_PAYMENT


@pytest.mark.parametrize("field", ["signature", "event"])
def test_events_stamped_in_the_future_are_refused(client, waiting_for_bank, field):
    """A timestamp an hour ahead would keep a captured request replayable for that long."""
    payload = event(
        "payment_intent.amount_capturable_updated", intent_payload(waiting_for_bank, "requires_capture")
    )
    in_an_hour = int(time.time()) + 3600
    if field == "event":
        payload["created"] = in_an_hour

    response = deliver(client, payload, timestamp=in_an_hour if field == "signature" else None)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not WebhookEvent.objects.exists()
    waiting_for_bank.refresh_from_db()
    assert (waiting_for_bank.status, waiting_for_bank.ride.status) == (PS.REQUIRES_ACTION, "pending_payment")


def test_a_tampered_body_is_refused(client, waiting_for_bank):
    payload = event("payment_intent.canceled", intent_payload(waiting_for_bank, "canceled"))
    body = json.dumps(payload)
    signature = stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)

    tampered = body.replace('"canceled"', '"succeeded"', 1)
    response = client.post(
        URL, data=tampered, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not WebhookEvent.objects.exists()


def test_signed_garbage_is_refused(client):
    body = "not json"
    signature = stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)

    response = client.post(URL, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)

    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_only_post(client):
    assert client.get(URL).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_unknown_event_types_are_acknowledged_and_ignored(client, stripe_server):
    payload = event("customer.created", {"id": "cus_123", "object": "customer"})

    response = deliver(client, payload)

    assert response.status_code == HTTPStatus.OK
    stored = WebhookEvent.objects.get()
    assert (stored.event_id, stored.type) == (payload["id"], "customer.created")
    assert stored.outcome.startswith("ignored")


# --- Webhook and checkout agree, whichever comes first --------------------------------------------


def test_webhook_before_the_browser_confirms_the_ride(client, waiting_for_bank, stripe_js, customer_client):
    intent = get_gateway().retrieve_intent(waiting_for_bank.payment_intent_id)
    stripe_js.confirm_payment(intent.client_secret)  # bank check passed at Stripe...

    payload = event(
        "payment_intent.amount_capturable_updated", intent_payload(waiting_for_bank, "requires_capture")
    )
    response = deliver(client, payload)  # ...Stripe tells us before the browser does

    assert response.json()["outcome"] == "authorized"
    waiting_for_bank.refresh_from_db()
    assert waiting_for_bank.status == PS.AUTHORIZED
    assert waiting_for_bank.ride.status == RideStatus.CONFIRMED

    # Then the browser posts back: the checkout agrees, nothing is recorded twice.
    page = customer_client.post(reverse("billing:checkout", args=[waiting_for_bank.ride_id]))
    assert page.url == reverse("bookings:ride_detail", args=[waiting_for_bank.ride_id])
    assert waiting_for_bank.transactions.get().status == "succeeded"


# --- The intent must be the one we asked for ------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"amount": 1}, "it is for $0.01, not $"),  # a one-cent hold on the whole fare
        ({"currency": "eur"}, "it is in EUR, not USD"),
        ({"metadata": {"ride_id": "999999", "payment_id": "999999"}}, "it names ride 999999"),
    ],
    ids=["amount", "currency", "another-ride"],
)
def test_a_signed_hold_that_does_not_match_the_payment_confirms_nothing(
    client, waiting_for_bank, payment_events, committed, change, problem
):
    payload = event(
        "payment_intent.amount_capturable_updated",
        intent_payload(waiting_for_bank, "requires_capture", **change),
    )

    with committed():
        response = deliver(client, payload)

    assert response.status_code == HTTPStatus.OK  # acknowledged (Stripe would retry it forever), not applied
    assert response.json()["outcome"].startswith("refused: ") and problem in response.json()["outcome"]
    waiting_for_bank.refresh_from_db()
    ride = waiting_for_bank.ride
    assert (waiting_for_bank.status, ride.status) == (PS.REQUIRES_ACTION, RideStatus.PENDING_PAYMENT)
    assert waiting_for_bank.transactions.get().status == "pending"
    assert ride.attention.startswith("Payment: Stripe's payment pi_") and problem in ride.attention
    assert ride.payment_secured_cents == 0
    assert payment_events == []
    assert WebhookEvent.objects.get().outcome.startswith("refused")


def test_a_capture_event_for_more_than_was_held_is_refused(client, held_ride):
    payment = held_ride.payments.get()
    payload = intent_payload(payment, "succeeded", amount_received=payment.amount_cents + 1)

    assert deliver(client, event("payment_intent.succeeded", payload)).json()["outcome"].startswith("refused")

    payment.refresh_from_db()
    assert (payment.status, payment.captured_cents) == (PS.AUTHORIZED, 0)
    assert not payment.transactions.filter(kind="capture").exists()


def test_webhook_after_the_checkout_changes_nothing(client, held_ride):
    payment = held_ride.payments.get()
    payload = event("payment_intent.amount_capturable_updated", intent_payload(payment, "requires_capture"))

    response = deliver(client, payload)

    assert response.json()["outcome"].startswith("no change")
    assert payment.transactions.count() == 1


def test_replayed_event_is_applied_once(client, held_ride, payment_events, committed):
    payment = held_ride.payments.get()
    payload = event("payment_intent.canceled", intent_payload(payment, "canceled"))

    with committed():
        first = deliver(client, payload)
        second = deliver(client, payload)

    assert first.json()["outcome"] == "voided"
    assert second.json()["outcome"].startswith("duplicate")
    assert WebhookEvent.objects.count() == 1
    assert payment.transactions.filter(kind="void").count() == 1
    assert [kind for kind, *_ in payment_events].count("voided") == 1


def test_out_of_order_events_never_go_backwards(client, held_ride, payment_events, committed):
    """The hold expires at Stripe (canceled); an older "capturable" event arrives after it."""
    payment = held_ride.payments.get()
    older = event("payment_intent.amount_capturable_updated", intent_payload(payment, "requires_capture"))
    newer = event("payment_intent.canceled", intent_payload(payment, "canceled"))

    with committed():
        assert deliver(client, newer).json()["outcome"] == "voided"
        assert deliver(client, older).json()["outcome"].startswith("no change")

    payment.refresh_from_db()
    held_ride.refresh_from_db()
    assert payment.status == PS.VOIDED
    void = payment.transactions.get(kind="void")
    assert (void.source, void.status) == ("webhook", "succeeded")
    # The ride is still on but nothing is held: operations and the customer are told.
    assert held_ride.attention.startswith("Payment: the card hold was released by Stripe")
    assert ("action_required", held_ride.pk, void.pk) in payment_events


def test_capture_event_before_the_hold_event_records_both(client, waiting_for_bank):
    payload = event("payment_intent.succeeded", intent_payload(waiting_for_bank, "succeeded"))

    assert deliver(client, payload).json()["outcome"] == "captured"

    waiting_for_bank.refresh_from_db()
    assert waiting_for_bank.status == PS.CAPTURED
    kinds = list(waiting_for_bank.transactions.values_list("kind", "status"))
    assert kinds == [("authorization", "succeeded"), ("capture", "succeeded")]


def test_capture_event_settles_our_pending_capture(client, held_ride):
    payment = held_ride.payments.get()
    capture = Transaction.objects.create(
        ride=held_ride,
        payment=payment,
        kind="capture",
        amount_cents=payment.amount_cents,
        idempotency_key="ride-x-capture",
        source="ride",
        attempts=1,
    )  # fmt: skip  (our call reached Stripe; its answer never reached us)

    deliver(client, event("payment_intent.succeeded", intent_payload(payment, "succeeded")))

    capture.refresh_from_db()
    assert capture.status == "succeeded"
    assert payment.transactions.filter(kind="capture").count() == 1


def test_payment_failed_event_fails_the_waiting_attempt(client, waiting_for_bank):
    failed = intent_payload(
        waiting_for_bank,
        "requires_payment_method",
        last_payment_error={"code": "payment_intent_authentication_failure", "message": "Failed."},
    )

    assert deliver(client, event("payment_intent.payment_failed", failed)).json()["outcome"] == "failed"

    waiting_for_bank.refresh_from_db()
    assert waiting_for_bank.status == PS.FAILED
    assert "bank could not confirm" in waiting_for_bank.failure_message
    assert waiting_for_bank.ride.status == RideStatus.PENDING_PAYMENT


def test_events_for_unknown_intents_are_ignored(client, stripe_server):
    payload = event(
        "payment_intent.succeeded",
        {
            "id": "pi_not_ours",
            "object": "payment_intent",
            "amount": 100,
            "status": "succeeded",
            "metadata": {},
        },
    )

    assert deliver(client, payload).json()["outcome"] == "ignored: unknown payment intent"


# --- charge.refunded: refunds made outside the app ----------------------------------------


def charge_payload(payment, *, captured: int, refunded: int) -> dict:
    return {
        "id": "ch_123",
        "object": "charge",
        "amount": payment.amount_cents,
        "amount_captured": captured,
        "amount_refunded": refunded,
        "payment_intent": payment.payment_intent_id,
        "metadata": {},
    }


@pytest.fixture
def captured_payment(held_ride, driver, photo, committed):
    from tests.billing.test_settlement import drive_to

    with committed():
        drive_to(held_ride, RideStatus.COMPLETED, driver, photo)
    return held_ride.payments.get()


def test_refund_made_in_the_stripe_dashboard_joins_the_ledger(client, captured_payment):
    payload = charge_payload(captured_payment, captured=captured_payment.captured_cents, refunded=500)

    first = deliver(client, event("charge.refunded", payload))
    again = deliver(client, event("charge.refunded", payload))  # a second event, same totals

    assert first.json()["outcome"] == "refund of 500 recorded"
    assert again.json()["outcome"].startswith("no change")
    refund = captured_payment.transactions.get(kind="refund")
    assert (refund.amount_cents, refund.status, refund.source) == (500, "succeeded", "webhook")
    captured_payment.refresh_from_db()
    assert captured_payment.refunded_cents == 500


def test_released_part_of_a_partial_capture_is_not_a_refund(client, captured_payment):
    """Stripe counts the uncaptured rest of a partial capture as refunded on the charge."""
    captured_payment.amount_cents = captured_payment.captured_cents + 700  # held more than taken
    captured_payment.save()
    payload = charge_payload(captured_payment, captured=captured_payment.captured_cents, refunded=700)

    assert deliver(client, event("charge.refunded", payload)).json()["outcome"].startswith("no change")
    assert not captured_payment.transactions.filter(kind="refund").exists()


# --- Real delivery: localstripe signs and sends payment_intent.succeeded ------------------------


@pytest.mark.django_db(transaction=True)
def test_localstripe_delivers_a_signed_event_we_accept(live_server, stripe_server, pay, pet, driver, photo):
    from tests.billing.test_settlement import drive_to
    from tests.factories import make_ride

    def configure(events):
        body = json.dumps(
            {"url": f"{live_server.url}{URL}", "secret": WEBHOOK_SECRET, "events": events}
        ).encode()
        urllib.request.urlopen(urllib.request.Request(f"{stripe_server}/_config/webhooks/tests", data=body))

    ride = make_ride(pet=pet, status=RideStatus.PENDING_PAYMENT)
    pay(ride)
    intent_id = ride.payments.get().payment_intent_id
    ours = WebhookEvent.objects.filter(payload__data__object__id=intent_id)
    configure(["payment_intent.succeeded"])
    try:
        drive_to(ride, RideStatus.COMPLETED, driver, photo)  # captures, and localstripe sends the event
        deadline = time.monotonic() + 10
        while not ours.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        configure(["tests.disabled"])  # later tests' events go nowhere

    received = ours.get()  # (earlier tests' captures may arrive too; they are not ours)
    assert received.type == "payment_intent.succeeded"
    assert received.outcome == "no change: already settled"  # our own capture got there first
    assert ride.transactions.filter(kind="capture", status="succeeded").count() == 1
