"""What a ride's moves mean for its money, and refunds.

- complete: capture the fare (at most what is held).
- cancel by the customer: capture the fee `bookings.services.ride_cancel` recorded on the
  event (`bookings.pricing.cancellation_terms` at that moment; Stripe releases the rest), or
  release the hold when it is free.
- cancel by operations, or an unpaid booking expiring: release the hold, never a charge.
- no_show: capture the fee.
- reschedule: keep the hold if it still covers the new price and lasts until the new
  time; otherwise secure the new fare first (a replacement Payment: held at once if pickup
  is near, else the saved card) and release the old hold only once that succeeded. A
  replacement that fails leaves the old hold, and the customer is asked to pay.

Terms are those at the moment of the move, not when the task runs. A replacement still
being placed when the ride ends is dropped (a hold that lands later is released). A ride
with no Payment row has no money to move and is left alone.
"""

from django.conf import settings
from django.db import transaction
from django.db.models import Sum

from billing.models import CHECKOUT_STATUSES, LIVE_PAYMENT_STATUSES, Payment, PaymentStatus, Transaction
from billing.services import ledger
from billing.services.checkout import hold_later, payment_place_hold, saved_card_payment
from bookings.models import Ride, RideEvent
from bookings.pricing import cancellation_terms
from core.errors import DomainError
from core.money import format_money

PS = PaymentStatus
Kind, Status, Source = Transaction.Kind, Transaction.Status, Transaction.Source


def _live_payment(ride: Ride) -> Payment | None:
    """The ride's payment (a replacement becomes it only once secured)."""
    return ride.payments.filter(status__in=LIVE_PAYMENT_STATUSES, replacing__isnull=True).first()


def _replacement(ride: Ride) -> Payment | None:
    return ride.payments.filter(status__in=LIVE_PAYMENT_STATUSES, replacing__isnull=False).first()


def settle_ride_move(*, ride_id: int, move: str, event_id: int | None) -> None:
    ride = Ride.objects.select_related("customer").get(pk=ride_id)
    event = RideEvent.objects.filter(pk=event_id).first() if event_id else None
    if move != "reschedule" and (replacement := _replacement(ride)):
        # Dropped before the ride's payment is settled, so a replacement secured meanwhile is
        # the one settled (it is then the ride's payment).
        _release(replacement, reason="The ride ended before the new hold was needed.")
    if move == "complete":
        settle_completion(ride=ride)
    elif move in ("cancel", "expire"):
        settle_cancellation(ride=ride, event=event)
    elif move == "no_show":
        settle_no_show(ride=ride, event=event)
    elif move == "reschedule":
        settle_reschedule(ride=ride)


def _take(*, payment: Payment, amount: int, kind: str, reason: str) -> None:
    """Capture `amount` of the hold (placing the hold first when only the card was saved)."""
    if payment.status == PS.CARD_SAVED:
        payment = payment_place_hold(payment=payment, source=Source.RIDE, amount_cents=amount)
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status != PS.AUTHORIZED:
            return  # the hold failed (already flagged) or money was settled before
        txn = ledger.open_transaction(
            payment=locked,
            kind=kind,
            amount_cents=min(amount, locked.amount_cents),
            key=ledger.key_for(locked, kind),
            source=Source.RIDE,
            reason=reason,
        )
    ledger.execute(txn_id=txn.pk)


def _release(payment: Payment, *, reason: str) -> None:
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status == PS.AUTHORIZED:
            ledger.release(locked, reason=reason, source=Source.RIDE)
        elif locked.status in (PS.REQUIRES_CARD, PS.REQUIRES_ACTION, PS.CARD_SAVED):
            # Nothing is held. A hold still in flight is released when it lands (see hold_succeeded).
            locked.status = PS.CANCELED
            locked.save(update_fields=["status", "updated_at"])
            waiting = locked.transactions.filter(
                kind=Kind.AUTHORIZATION, status=Status.PENDING, next_attempt_at__isnull=True
            ).first()
            if waiting:  # a 3-D Secure check the customer never finished
                ledger.abandon(waiting, "The booking ended before the bank check was finished.")


def settle_completion(*, ride: Ride) -> None:
    payment = _live_payment(ride)
    if payment is None:
        if ride.payments.exists():
            ledger.flag(ride.pk, "the ride is done but no card payment is secured. Collect the fare.")
        return
    if payment.status not in (PS.AUTHORIZED, PS.CARD_SAVED):
        ledger.flag(ride.pk, "the ride is done but the customer never finished paying.")
        return
    _take(payment=payment, amount=ride.price_cents, kind=Kind.CAPTURE, reason="Ride completed")
    payment.refresh_from_db()
    if payment.status == PS.CAPTURED and payment.captured_cents < ride.price_cents:
        ledger.flag(
            ride.pk,
            f"captured {format_money(payment.captured_cents, ride.currency)} of "
            f"{format_money(ride.price_cents, ride.currency)}: the hold was smaller than the fare.",
        )


def _fee(ride: Ride, event: RideEvent | None) -> int:
    return cancellation_terms(ride=ride, now=event.created_at if event else None).fee_cents


def settle_cancellation(*, ride: Ride, event: RideEvent | None) -> None:
    payment = _live_payment(ride)
    if payment is None:
        return
    data = (event.data or {}) if event and event.action == "cancel" else {}
    cancelled_by = data.get("cancelled_by")
    # The fee ride_cancel decided and recorded (cancellations recorded before it did: the terms then).
    fee = 0
    if cancelled_by == "customer":
        fee = data["fee_cents"] if "fee_cents" in data else _fee(ride, event)
    if fee:
        _take(payment=payment, amount=fee, kind=Kind.FEE, reason="Late cancellation")
    elif cancelled_by == "admin":
        _release(payment, reason="Cancelled by operations: no charge")
    elif cancelled_by == "customer":
        _release(payment, reason="Cancelled in time: free")
    else:
        _release(payment, reason="Booking expired unpaid")


def settle_no_show(*, ride: Ride, event: RideEvent | None) -> None:
    payment = _live_payment(ride)
    if payment is None:
        return
    if fee := _fee(ride, event):
        _take(payment=payment, amount=fee, kind=Kind.FEE, reason="No-show")
    else:
        _release(payment, reason="No-show: no fee under the current terms")


def settle_reschedule(*, ride: Ride) -> None:
    """Keep the hold if it still covers the ride; otherwise secure the new fare before the old
    hold goes (documented in the README)."""
    payment = _live_payment(ride)
    if not ride.is_open or payment is None or payment.status not in (PS.AUTHORIZED, PS.CARD_SAVED):
        return  # checkout uses the ride's current price when it places the hold
    if payment.status == PS.CARD_SAVED:  # no hold yet: the saved card takes any fare
        if hold_later(ride):
            Payment.objects.filter(pk=payment.pk, status=PS.CARD_SAVED).update(amount_cents=ride.price_cents)
            ledger.sync_secured(ride.pk)
        else:  # near enough for a hold to last: place it now, as at booking
            payment_place_hold(payment=payment, source=Source.SCHEDULE)
        return
    replacement = _replacement(ride)
    still_valid = ride.scheduled_at <= payment.authorized_at + settings.BILLING_HOLD_MAX_DAYS
    if ride.price_cents <= payment.amount_cents and still_valid:
        if replacement:  # asked for by an earlier move; this hold covers the ride again
            _release(replacement, reason="Not needed: the ride's hold covers its fare again.")
        return  # capture takes the new (lower or equal) price and releases the rest
    if replacement:
        if replacement.status in CHECKOUT_STATUSES:
            return  # the customer is paying at checkout, which holds the fare as it is then
        _release(replacement, reason="Replaced: the ride moved again.")
    replacement = saved_card_payment(
        ride=ride, card=payment, replacing=payment, setup_intent_id=payment.setup_intent_id
    )
    if hold_later(ride):
        # Beyond a hold's life: the saved card secures the ride, and the old hold can't last anyway.
        with transaction.atomic():
            locked = Payment.objects.select_for_update().get(pk=replacement.pk)
            if ledger.secure_ride(locked, "Card saved; the hold follows before pickup."):
                _release(locked, reason="The ride ended before the new card payment was needed.")
    else:  # the old hold is released only once this one is held (ledger.secure_ride)
        payment_place_hold(payment=replacement, source=Source.SCHEDULE)


# --- Refunds and retries from operations ----------------------------------------------------------


def refundable_cents(payment: Payment) -> int:
    """Captured, minus refunded, minus refunds still in flight."""
    pending = (
        payment.transactions.filter(kind=Kind.REFUND, status=Status.PENDING).aggregate(s=Sum("amount_cents"))[
            "s"
        ]
        or 0
    )
    return payment.captured_cents - payment.refunded_cents - pending


def payment_refund(*, payment: Payment, amount_cents: int, reason: str, by, request_key: str) -> Transaction:
    """Refund part or all of a captured payment.

    `request_key` (one per rendered form) makes a double submit refund once."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why you refund.", errors={"reason": ["Say why you refund."]})
    if amount_cents <= 0:
        raise DomainError("Enter an amount above zero.", errors={"amount": ["Enter an amount above zero."]})
    with transaction.atomic():
        # Two admins refunding at once queue here, and the second sees the first's refund.
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        key = f"ride-{locked.ride_id}-refund-{request_key}"
        if existing := Transaction.objects.filter(idempotency_key=key).first():
            return existing
        available = refundable_cents(locked)
        if amount_cents > available:
            message = (
                f"You can refund at most {format_money(available, locked.currency)}."
                if available > 0
                else "Nothing is left to refund on this payment."
            )
            raise DomainError(message, code="conflict", errors={"amount": [message]})
        txn = ledger.open_transaction(
            payment=locked,
            kind=Kind.REFUND,
            amount_cents=amount_cents,
            key=key,
            source=Source.OPS,
            by=by,
            reason=reason,
        )
        ledger.queue(txn)
    return txn


def capture_retry(*, payment: Payment, by) -> Transaction:
    """Operations try a failed capture again (a new ledger row, a new idempotency key)."""
    with transaction.atomic():
        locked = Payment.objects.select_for_update().select_related("ride").get(pk=payment.pk)
        if locked.status != PS.AUTHORIZED or not locked.ride.is_ended:
            raise DomainError("There is no held payment to capture on this ride.", code="conflict")
        failed = locked.transactions.filter(kind__in=[Kind.CAPTURE, Kind.FEE], status=Status.FAILED)
        last = failed.order_by("-created_at").first()
        running = locked.transactions.filter(kind__in=[Kind.CAPTURE, Kind.FEE], status=Status.PENDING)
        if last is None or running.exists():
            raise DomainError("A capture is already running or has not failed.", code="conflict")
        txn = ledger.open_transaction(
            payment=locked,
            kind=last.kind,
            amount_cents=last.amount_cents,
            key=f"{ledger.key_for(locked, last.kind)}-retry-{failed.count()}",
            source=Source.OPS,
            by=by,
            reason=f"{last.reason} (retried by operations)",
        )
        ledger.queue(txn)
    return txn
