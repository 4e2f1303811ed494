"""The ledger engine: how every money operation runs.

1. `open_transaction` writes a pending Transaction with its idempotency key,
   derived from the ride and the operation, so asking twice finds the same row.
2. `execute` claims one attempt with a conditional UPDATE and a lease
   (`core.retry`: two workers never run the same row at once) and makes the Stripe call with that key.
3. The outcome closes the row once (`_close` only changes a pending row) and
   updates the Payment under its row lock, in the same database transaction.
4. A transient error leaves the row pending with a back-off time; the
   `retry_due_transactions` schedule picks it up. A retry first asks Stripe
   whether the earlier attempt went through, because localstripe ignores
   idempotency keys (real Stripe would replay the first answer).

The outcome functions (`hold_succeeded`, `capture_succeeded`, ...) are also what
webhooks call, so our own calls and Stripe's events agree whichever comes first.
Before a hold counts, the intent must match the payment (`intent_mismatch`: metadata,
currency, amount) and cover the ride's fare (`secure_ride`).

Bookings keeps billing's word on what is secured (`Ride.payment_secured_cents`, through
`sync_secured`): dispatch gives no driver a ride whose fare it does not cover.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, TextField, Value, When
from django.db.models.functions import Concat
from django.utils import timezone

from billing.gateway import GatewayError, Intent, get_gateway
from billing.models import (
    LIVE_PAYMENT_STATUSES,
    SECURED_STATUSES,
    Payment,
    PaymentStatus,
    StripeCustomer,
    Transaction,
)
from billing.signals import payment_changed
from bookings.models import Ride, RideStatus
from bookings.services import ride_clear_flag, ride_confirm, ride_flag, ride_set_payment_secured
from core import outbox
from core.errors import DomainError
from core.money import format_money
from core.retry import Backoff, claim_due_row, due_rows
from core.tasks import enqueue, enqueue_on_commit

log = logging.getLogger(__name__)

PS = PaymentStatus
Kind, Status, Source = Transaction.Kind, Transaction.Status, Transaction.Source
LEASE = timedelta(minutes=5)  # how long one attempt may run before another may take over
FLAG_PREFIX = "Payment: "  # ride.attention set by billing; cleared once the customer pays (or by ops)


def announce(kind: str, txn: Transaction | None, ride_id: int) -> None:
    """Tell the apps above billing (notifications), inside the transaction that records it."""
    payment_changed.send(
        sender=Transaction, ride_id=ride_id, kind=kind, transaction_id=txn.pk if txn else None
    )


def flag(ride_id: int, message: str) -> None:
    ride_flag(ride=Ride(pk=ride_id), reason=FLAG_PREFIX + message)


def key_for(payment: Payment, operation: str) -> str:
    """Idempotency keys name the ride, the operation and the payment attempt."""
    return f"ride-{payment.ride_id}-{operation}-{payment.pk}"


def stripe_customer_id(user_id: int) -> str:
    return StripeCustomer.objects.values_list("customer_id", flat=True).get(user_id=user_id)


# --- Writing and running ledger rows ------------------------------------------------


def open_transaction(
    *, payment: Payment, kind: str, amount_cents: int, key: str, source: str, by=None, reason: str = ""
) -> Transaction:
    txn, _created = Transaction.objects.get_or_create(
        idempotency_key=key,
        defaults={
            "ride_id": payment.ride_id,
            "payment": payment,
            "kind": kind,
            "amount_cents": amount_cents,
            "currency": payment.currency,
            "source": source,
            "initiated_by": by,
            "reason": reason[:500],
            "next_attempt_at": timezone.now(),
        },
    )
    return txn


def queue(txn: Transaction) -> None:
    """Run the row in a worker once the current database transaction commits."""
    # The row is its own outbox item: retry_due_transactions finds it if this never reaches a worker.
    enqueue_on_commit("billing.tasks.execute_transaction", txn.pk, queue="payments")


def _claim(txn_id: int) -> Transaction | None:
    """A pending row whose time has come (or that waits for no time), leased to this attempt."""
    if not claim_due_row(
        Transaction.objects, pk=txn_id, waiting_status=Status.PENDING, now=timezone.now(), lease=LEASE
    ):
        return None
    return Transaction.objects.select_related("payment", "ride").get(pk=txn_id)


def execute(*, txn_id: int) -> Transaction | None:
    """One attempt at a pending row. Safe to call twice: a settled or running row is left alone."""
    txn = _claim(txn_id)
    if txn is None:
        return None
    backoff = Backoff(settings.BILLING_RETRY_DELAYS)
    try:
        if txn.attempts > backoff.max_attempts:  # claims by workers that died mid-attempt count too
            raise GatewayError(f"Gave up after {backoff.max_attempts} attempts.")
        OPERATIONS[txn.kind](txn)
    except GatewayError as exc:
        retry_at = backoff.next_attempt_at(attempts=txn.attempts, now=timezone.now())
        if exc.transient and retry_at:
            _postpone(txn, exc.message, retry_at)
        else:
            log.info("Payment operation %s failed: %s", txn.idempotency_key, exc.message)
            FAILURES[txn.kind](txn, exc.message)
    return Transaction.objects.get(pk=txn.pk)


def _with_error(message: str):
    """The row's error text with `message` added: earlier attempts' errors are kept."""
    return Case(
        When(error="", then=Value(message)),
        default=Concat(F("error"), Value("\n" + message), output_field=TextField()),
        output_field=TextField(),
    )


def _postpone(txn: Transaction, message: str, retry_at: datetime) -> None:
    Transaction.objects.filter(pk=txn.pk, status=Status.PENDING).update(
        error=_with_error(f"Attempt {txn.attempts}: {message}"), next_attempt_at=retry_at
    )


def _close(txn: Transaction, *, status: str, provider_id: str = "", error: str = "", then=None) -> bool:
    """Settle a pending row once and apply `then(payment)` with the payment locked.

    Returns False (and changes nothing) when the row was settled already."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=txn.payment_id)
        fields = {"status": status, "completed_at": timezone.now(), "next_attempt_at": None}
        if provider_id:
            fields["provider_id"] = provider_id
        if error:
            fields["error"] = _with_error(error)
        if not Transaction.objects.filter(pk=txn.pk, status=Status.PENDING).update(**fields):
            return False
        txn.refresh_from_db(fields=list(fields))
        if then:
            then(payment)
    return True


def remember_intent(txn: Transaction, intent_id: str) -> bool:
    """Record `intent_id` as the row's intent, unless another one was recorded first (then
    this one is an orphan the reconciliation sweep releases). True if it is the row's."""
    with transaction.atomic():
        if not Transaction.objects.filter(pk=txn.pk, provider_id__in=("", intent_id)).update(
            provider_id=intent_id
        ):
            return False
        Payment.objects.filter(pk=txn.payment_id, payment_intent_id="").update(payment_intent_id=intent_id)
    txn.provider_id = intent_id
    return True


def _metadata(txn: Transaction) -> dict:
    return {"ride_id": str(txn.ride_id), "payment_id": str(txn.payment_id), "transaction_id": str(txn.pk)}


# --- Holds --------------------------------------------------------------------------


def _customer_present(txn: Transaction) -> bool:
    return txn.source == Source.CHECKOUT


def intent_mismatch(payment: Payment, intent: Intent) -> str:
    """Why `intent` can't be this payment's (empty when it can): its metadata must name the
    payment and its ride, and its currency and amount be those we asked Stripe for. A signed
    event or a looked-up intent that disagrees confirms nothing."""
    ride_id, payment_id = intent.metadata.get("ride_id"), intent.metadata.get("payment_id")
    if (ride_id, payment_id) != (str(payment.ride_id), str(payment.pk)):
        return f"it names ride {ride_id or '?'} and payment {payment_id or '?'}"
    if intent.currency.lower() != payment.currency.lower():
        return f"it is in {intent.currency.upper()}, not {payment.currency.upper()}"
    if intent.amount != payment.amount_cents:
        asked = format_money(payment.amount_cents, payment.currency)
        return f"it is for {format_money(intent.amount, intent.currency)}, not {asked}"
    return ""


def sync_secured(ride_id: int) -> None:
    """Tell bookings how much of the ride's fare its payment secures now."""
    current = Payment.objects.filter(
        ride_id=ride_id, status__in=SECURED_STATUSES, replacing__isnull=True
    ).first()
    ride_set_payment_secured(ride_id=ride_id, amount_cents=current.amount_cents if current else 0)


def secure_ride(payment: Payment, note: str) -> str:
    """The payment (locked by the caller) secures the fare: confirm a waiting booking, release
    the hold it replaces, clear billing's flag and tell bookings. Returns why not instead (and
    changes nothing) when the ride no longer wants it or the hold does not cover the fare."""
    ride = Ride.objects.get(pk=payment.ride_id)
    if not ride.is_open:
        return "The booking ended before the payment went through."
    if payment.status == PS.AUTHORIZED and payment.amount_cents < ride.price_cents:
        return (
            f"The fare changed to {format_money(ride.price_cents, ride.currency)} while the card "
            "was being held. Please pay again."
        )
    if payment.replacing_id:
        _retire_replaced(payment)
    # Before confirming, so a booking's dispatch is queued once (by "confirm"), not twice.
    sync_secured(ride.pk)
    if ride.status == RideStatus.PENDING_PAYMENT:
        try:
            ride_confirm(ride=ride, by=None, note=note)
        except DomainError:  # expired or cancelled a moment ago
            ride_set_payment_secured(ride_id=ride.pk, amount_cents=0)
            return "The booking ended before the payment went through."
        if ride.is_trip_leg and not ride.is_return_leg:
            # However the outbound got secured (checkout, a webhook, reconciling), so is its return.
            outbox.defer("billing.tasks.secure_return_leg", payment.pk, queue="payments")
    elif ride.attention.startswith(FLAG_PREFIX):
        ride_clear_flag(ride=ride, by=None)
    return ""


def _retire_replaced(payment: Payment) -> None:
    """A replacement is secured: only now is the hold it replaces released."""
    old = Payment.objects.select_for_update().get(pk=payment.replacing_id)
    if old.status == PS.AUTHORIZED:
        new = format_money(payment.amount_cents, payment.currency)
        release(old, reason=f"Replaced by a hold of {new} for the ride's new fare", source=Source.RIDE)
    payment.replacing = None
    payment.save(update_fields=["replacing", "updated_at"])


def release(payment: Payment, *, reason: str, source: str, by=None) -> Transaction:
    """Give a hold back (the payment must be locked by the caller)."""
    payment.status = PS.RELEASING
    payment.save(update_fields=["status", "amount_cents", "authorized_at", "updated_at"])
    txn = open_transaction(
        payment=payment,
        kind=Kind.VOID,
        amount_cents=payment.amount_cents,
        key=key_for(payment, "void"),
        source=source,
        by=by,
        reason=reason,
    )
    queue(txn)
    return txn


def hold_succeeded(txn: Transaction, intent: Intent) -> None:
    def then(payment: Payment):
        if payment.status in (PS.FAILED, PS.CANCELED):
            # We had given up on this attempt; the money must not stay held.
            payment.amount_cents, payment.authorized_at = intent.amount, timezone.now()
            release(payment, reason="Hold arrived after the attempt was abandoned.", source=txn.source)
            return
        if payment.status not in LIVE_PAYMENT_STATUSES or payment.status == PS.AUTHORIZED:
            return
        payment.status = PS.AUTHORIZED
        payment.amount_cents = intent.amount
        payment.authorized_at = timezone.now()
        payment.failure_message = ""
        payment.save(
            update_fields=["status", "amount_cents", "authorized_at", "failure_message", "updated_at"]
        )
        if txn.source == Source.RIDE:
            return  # a hold placed to take a fee or the fare right away; settlement captures it next
        note = f"{format_money(intent.amount, payment.currency)} held on {payment.card_label}."
        if refusal := secure_ride(payment, note):
            payment.failure_message = refusal
            payment.save(update_fields=["failure_message", "updated_at"])
            release(payment, reason=refusal, source=txn.source)
        else:
            announce("authorized", txn, payment.ride_id)

    _close(txn, status=Status.SUCCEEDED, provider_id=intent.id, then=then)


def hold_failed(txn: Transaction, message: str) -> None:
    def then(payment: Payment):
        if payment.status in (PS.REQUIRES_CARD, PS.REQUIRES_ACTION, PS.CARD_SAVED):
            payment.status = PS.FAILED
            payment.failure_message = message[:500]
            payment.save(update_fields=["status", "failure_message", "updated_at"])
        if _customer_present(txn):
            return  # the customer sees the message at checkout and tries again
        ride = Ride.objects.only("status").get(pk=txn.ride_id)
        amount = format_money(txn.amount_cents, txn.currency)
        if ride.is_open:
            sync_secured(ride.pk)
            flag(
                ride.pk, f"card hold of {amount} failed: {message} The customer is asked to pay on the site."
            )
            announce("action_required", txn, ride.pk)
        else:
            flag(ride.pk, f"could not charge {amount}: {message}")

    _close(txn, status=Status.FAILED, error=message, then=then)


def abandon(txn: Transaction, message: str) -> None:
    """Close a hold attempt nobody will finish (the booking ended first)."""
    _close(txn, status=Status.FAILED, error=message)


def _await_customer(txn: Transaction) -> None:
    """3-D Secure: the customer must confirm with their bank in the browser."""
    with transaction.atomic():
        Payment.objects.filter(pk=txn.payment_id, status=PS.REQUIRES_CARD).update(
            status=PS.REQUIRES_ACTION, updated_at=timezone.now()
        )
        # Not for the retry schedule: the customer's next visit to checkout looks again.
        Transaction.objects.filter(pk=txn.pk, status=Status.PENDING).update(next_attempt_at=None)


AUTH_FAILED_CODES = {"payment_intent_authentication_failure", "authentication_required"}


def customer_message(intent_or_error) -> str:
    code = getattr(intent_or_error, "error_code", "") or getattr(intent_or_error, "code", "")
    if code in AUTH_FAILED_CODES:
        return "Your bank could not confirm this payment. Please try again, or use another card."
    if code == "card_declined":
        return "Your card was declined. Please try another card."
    return (
        getattr(intent_or_error, "error", "")
        or getattr(intent_or_error, "message", "")
        or ("The payment did not go through. Please try another card.")
    )


def refuse_intent(payment: Payment, intent: Intent, problem: str) -> str:
    """An intent that does not match its payment: nothing is confirmed; operations are told."""
    log.warning("Refused Stripe intent %s for payment %s: %s", intent.id, payment.pk, problem)
    flag(payment.ride_id, f"Stripe's payment {intent.id} was refused: {problem}.")
    return f"refused: {problem}"


def apply_hold(txn: Transaction, intent: Intent) -> None:
    if problem := intent_mismatch(txn.payment, intent):
        # Never ours to keep: release whatever it holds, and the customer tries again.
        refuse_intent(txn.payment, intent, problem)
        _cancel_quietly(intent.id, f"{txn.idempotency_key}-refused")
        hold_failed(txn, "The payment did not go through. Please try again.")
    elif intent.status == "requires_capture":
        hold_succeeded(txn, intent)
    elif intent.status == "requires_action":
        if _customer_present(txn):
            _await_customer(txn)
        else:
            # Off-session (real Stripe raises authentication_required; localstripe answers
            # requires_action): the customer must pay on the site, so drop this intent.
            _cancel_quietly(intent.id, f"{txn.idempotency_key}-cancel")
            hold_failed(txn, "Your bank asks you to confirm this payment.")
    elif intent.status in ("requires_payment_method", "canceled"):
        hold_failed(txn, customer_message(intent))
    else:  # processing: look again later
        raise GatewayError(f"The payment is {intent.status}.", transient=True)


def _cancel_quietly(intent_id: str, key: str) -> None:
    try:
        get_gateway().cancel(intent_id=intent_id, key=key)
    except GatewayError as exc:
        log.warning("Could not cancel intent %s: %s", intent_id, exc.message)


def _authorize(txn: Transaction) -> None:
    gateway = get_gateway()
    payment = txn.payment
    if txn.provider_id:  # a later attempt, or the customer back from their bank: look, don't create
        intent = gateway.retrieve_intent(txn.provider_id)
    elif txn.attempts > 1 and (intent := _earlier_intent(txn)):
        # An earlier attempt died after Stripe placed the hold but before we recorded it.
        # Real Stripe would replay it for the same idempotency key; localstripe ignores keys.
        if not remember_intent(txn, intent.id):
            return
    else:
        try:
            intent = gateway.create_hold(
                amount=txn.amount_cents,
                currency=txn.currency,
                customer=stripe_customer_id(txn.ride.customer_id),
                payment_method=payment.payment_method_id,
                off_session=not _customer_present(txn),
                metadata=_metadata(txn),
                key=txn.idempotency_key,
            )
        except GatewayError as exc:
            if exc.intent_id:
                remember_intent(txn, exc.intent_id)
            if not exc.transient:
                exc.message = customer_message(exc) if _customer_present(txn) else exc.message
            raise
        if not remember_intent(txn, intent.id):
            return  # the sweep adopted an earlier intent meanwhile; this one it releases
    apply_hold(txn, intent)


def _earlier_intent(txn: Transaction) -> Intent | None:
    """A live intent an earlier attempt at this row placed: its metadata names the row and it is
    for the ride's customer (ids alone could come from another database on the same account)."""
    since = int((txn.created_at - timedelta(minutes=1)).timestamp())
    customer = stripe_customer_id(txn.ride.customer_id)
    for intent in get_gateway().recent_intents(since=since):
        ours = (intent.metadata.get("transaction_id"), intent.customer) == (str(txn.pk), customer)
        if ours and intent.status != "canceled":
            return intent
    return None


# --- Captures, voids, refunds ------------------------------------------------------------


def capture_succeeded(txn: Transaction) -> None:
    def then(payment: Payment):
        if payment.status in (PS.AUTHORIZED, PS.RELEASING):
            payment.status = PS.CAPTURED
            payment.captured_cents = txn.amount_cents
            payment.save(update_fields=["status", "captured_cents", "updated_at"])
        # A capture that failed earlier flagged the ride; taken now, the flag has no cause left.
        _clear_flag_about(payment.ride_id, f"{_capture_word(txn)} of ")
        announce("captured", txn, payment.ride_id)

    _close(txn, status=Status.SUCCEEDED, provider_id=txn.payment.payment_intent_id, then=then)


def _capture_word(txn: Transaction) -> str:
    return "fee" if txn.kind == Kind.FEE else "capture"


def _clear_flag_about(ride_id: int, subject: str) -> None:
    """Clear the ride's billing flag if it is about `subject` (another flag stays)."""
    ride = Ride.objects.filter(pk=ride_id, attention__startswith=FLAG_PREFIX + subject).first()
    if ride is not None:
        ride_clear_flag(ride=ride, by=None)


def capture_failed(txn: Transaction, message: str) -> None:
    what = _capture_word(txn)
    _close(
        txn,
        status=Status.FAILED,
        error=message,
        then=lambda payment: flag(
            txn.ride_id, f"{what} of {format_money(txn.amount_cents, txn.currency)} failed: {message}"
        ),
    )


def void_succeeded(txn: Transaction) -> None:
    def then(payment: Payment):
        if payment.status in (PS.AUTHORIZED, PS.RELEASING):
            payment.status = PS.VOIDED
            payment.save(update_fields=["status", "updated_at"])
        announce("voided", txn, payment.ride_id)

    _close(txn, status=Status.SUCCEEDED, provider_id=txn.payment.payment_intent_id, then=then)


def void_failed(txn: Transaction, message: str) -> None:
    amount = format_money(txn.amount_cents, txn.currency)
    _close(
        txn,
        status=Status.FAILED,
        error=message,
        then=lambda payment: flag(txn.ride_id, f"could not release the hold of {amount}: {message}"),
    )


def refund_succeeded(txn: Transaction, refund_id: str) -> None:
    def then(payment: Payment):
        payment.refunded_cents = F("refunded_cents") + txn.amount_cents
        payment.save(update_fields=["refunded_cents", "updated_at"])
        announce("refunded", txn, payment.ride_id)

    _close(txn, status=Status.SUCCEEDED, provider_id=refund_id, then=then)


def refund_failed(txn: Transaction, message: str) -> None:
    _close(txn, status=Status.FAILED, error=message)


def _intent_is(txn: Transaction, status: str) -> bool:
    return get_gateway().retrieve_intent(txn.payment.payment_intent_id).status == status


def _capture(txn: Transaction) -> None:
    # Look first: an earlier attempt may have captured already (localstripe ignores idempotency
    # keys), and a hold released at Stripe must not be captured (localstripe would allow it).
    intent = get_gateway().retrieve_intent(txn.payment.payment_intent_id)
    if intent.status == "succeeded":
        return capture_succeeded(txn)
    if intent.status != "requires_capture":
        raise GatewayError(f"There is no card hold to capture (the payment is {intent.status}).")
    try:
        get_gateway().capture(intent_id=intent.id, amount=txn.amount_cents, key=txn.idempotency_key)
    except GatewayError as exc:
        if exc.transient or not _intent_is(txn, "succeeded"):
            raise
    capture_succeeded(txn)


def _void(txn: Transaction) -> None:
    if txn.attempts > 1 and _intent_is(txn, "canceled"):
        return void_succeeded(txn)
    try:
        get_gateway().cancel(intent_id=txn.payment.payment_intent_id, key=txn.idempotency_key)
    except GatewayError as exc:
        if exc.transient or not _intent_is(txn, "canceled"):
            raise
    void_succeeded(txn)


def _refund(txn: Transaction) -> None:
    gateway = get_gateway()
    intent_id = txn.payment.payment_intent_id
    if txn.attempts > 1:
        for refund in gateway.refunds_of(intent_id):
            if refund.metadata.get("transaction_id") == str(txn.pk):
                return refund_succeeded(txn, refund.id)
    refund = gateway.refund(
        intent_id=intent_id,
        amount=txn.amount_cents,
        metadata={**_metadata(txn), "reason": txn.reason[:400]},
        key=txn.idempotency_key,
    )
    if refund.status not in ("succeeded", "pending"):  # pending: accepted, the bank settles it later
        raise GatewayError(f"The refund is {refund.status}.")
    refund_succeeded(txn, refund.id)


OPERATIONS = {
    Kind.AUTHORIZATION: _authorize,
    Kind.CAPTURE: _capture,
    Kind.FEE: _capture,
    Kind.VOID: _void,
    Kind.REFUND: _refund,
}
FAILURES = {
    Kind.AUTHORIZATION: hold_failed,
    Kind.CAPTURE: capture_failed,
    Kind.FEE: capture_failed,
    Kind.VOID: void_failed,
    Kind.REFUND: refund_failed,
}


def retry_due_transactions(*, now=None, limit: int = 200) -> int:
    """Queue every pending row whose back-off (or a crashed worker's lease) has run out."""
    rows = due_rows(Transaction.objects, waiting_status=Status.PENDING, now=now or timezone.now())
    due = list(rows.values_list("pk", flat=True)[:limit])
    for txn_id in due:
        enqueue("billing.tasks.execute_transaction", txn_id, queue="payments")
    return len(due)
