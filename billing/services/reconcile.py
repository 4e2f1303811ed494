"""Stripe's side of the story: webhooks (and the expiry job's look-ups) reconcile our records.

Each event is stored once (its id is unique) in the same database transaction as
its effects, so a replay changes nothing and a failure rolls both back (Stripe
then sends it again). Payment states only move forward — requires_card/action
-> authorized -> captured/voided — so events arriving out of order, or after
the checkout's own verification, cannot undo what is already known; both paths
settle the same pending ledger rows through the same `ledger` outcome functions.

A signature proves Stripe sent an event, not that the intent in it is the one we asked
for: every intent must match its payment (`ledger.intent_mismatch`: ride and payment in
its metadata, currency, amount) before it changes anything, and a capture may not take
more than was held. A mismatch is stored as the event's outcome and flagged for operations.
"""

import dataclasses
import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from billing.gateway import GatewayError, Intent, get_gateway
from billing.models import Payment, PaymentStatus, StripeCustomer, Transaction, WebhookEvent
from billing.services import ledger
from core.money import format_money

log = logging.getLogger(__name__)

PS = PaymentStatus
Kind, Status = Transaction.Kind, Transaction.Status
WAITING = [PS.REQUIRES_CARD, PS.REQUIRES_ACTION, PS.CARD_SAVED]


def webhook_process(event: dict) -> str:
    """Apply one verified Stripe event, once. Returns what happened (stored with the event)."""
    event_id, event_type = event.get("id"), event.get("type", "")
    if not event_id:
        return "ignored: no event id"
    with transaction.atomic():
        try:
            with transaction.atomic():
                stored = WebhookEvent.objects.create(event_id=event_id, type=event_type, payload=event)
        except IntegrityError:
            return "duplicate: already processed"
        handler = HANDLERS.get(event_type)
        obj = (event.get("data") or {}).get("object") or {}
        outcome = handler(obj, event_id) if handler else "ignored: not an event we use"
        WebhookEvent.objects.filter(pk=stored.pk).update(outcome=outcome[:255])
    return outcome


def _payment_for(intent_id: str, metadata: dict) -> Payment | None:
    payment = Payment.objects.filter(payment_intent_id=intent_id).first() if intent_id else None
    if payment is None and str(metadata.get("payment_id", "")).isdigit():
        # The event can beat our own write of the intent id: find the payment by what we sent.
        payment = Payment.objects.filter(pk=int(metadata["payment_id"]), payment_intent_id="").first()
        if payment:
            Payment.objects.filter(pk=payment.pk, payment_intent_id="").update(payment_intent_id=intent_id)
            payment.payment_intent_id = intent_id
    return payment


def _record(payment: Payment, kind: str, amount: int, intent: Intent, reason: str) -> Transaction:
    """A money movement Stripe reports that we did not start (or whose row we never wrote)."""
    return ledger.open_transaction(
        payment=payment,
        kind=kind,
        amount_cents=amount,
        key=f"stripe-{intent.id}-{kind}",
        source=Transaction.Source.WEBHOOK,
        reason=reason,
    )


def _pending(payment: Payment, *kinds: str) -> Transaction | None:
    return (
        payment.transactions.select_related("payment")
        .filter(kind__in=kinds, status=Status.PENDING)
        .order_by("created_at")
        .first()
    )


def apply_intent(*, intent: Intent, event_id: str = "") -> str:
    payment = _payment_for(intent.id, intent.metadata)
    if payment is None:
        return "ignored: unknown payment intent"
    handler = {
        "requires_capture": _authorized,
        "succeeded": _captured,
        "canceled": _canceled,
        "requires_payment_method": _failed,
    }.get(intent.status)
    if handler is None:
        return f"ignored: intent is {intent.status}"
    if problem := ledger.intent_mismatch(payment, intent):
        return ledger.refuse_intent(payment, intent, problem)
    return handler(payment, intent)


def _authorized(payment: Payment, intent: Intent) -> str:
    if payment.status not in WAITING + [PS.FAILED, PS.CANCELED]:
        return "no change: already past the hold"
    txn = _pending(payment, Kind.AUTHORIZATION) or _record(
        payment, Kind.AUTHORIZATION, intent.amount, intent, "Hold reported by Stripe"
    )
    ledger.hold_succeeded(txn, intent)
    payment.refresh_from_db()
    return "hold released: not needed" if payment.status == PS.RELEASING else "authorized"


def _captured(payment: Payment, intent: Intent) -> str:
    if payment.status in WAITING + [PS.FAILED, PS.CANCELED]:
        # The capture overtook the hold's own event: record the hold first.
        _authorized(payment, dataclasses.replace(intent, status="requires_capture"))
        payment.refresh_from_db()
    if payment.status not in (PS.AUTHORIZED, PS.RELEASING):
        return "no change: already settled"
    received = intent.amount_received or intent.amount
    txn = _pending(payment, Kind.CAPTURE, Kind.FEE)
    if received > payment.amount_cents or (txn and received != txn.amount_cents):
        asked = format_money(txn.amount_cents if txn else payment.amount_cents, payment.currency)
        return ledger.refuse_intent(
            payment, intent, f"it captured {format_money(received, payment.currency)}, not {asked}"
        )
    ledger.capture_succeeded(txn or _record(payment, Kind.CAPTURE, received, intent, "Captured in Stripe"))
    return "captured"


def _canceled(payment: Payment, intent: Intent) -> str:
    if payment.status in (PS.REQUIRES_CARD, PS.REQUIRES_ACTION):
        if txn := _pending(payment, Kind.AUTHORIZATION):
            ledger.hold_failed(txn, "The payment was cancelled.")
        return "attempt cancelled"
    if payment.status not in (PS.AUTHORIZED, PS.RELEASING):
        return "no change: already settled"
    was_holding = payment.status == PS.AUTHORIZED
    txn = _pending(payment, Kind.VOID) or _record(
        payment,
        Kind.VOID,
        payment.amount_cents,
        intent,
        "Hold released by Stripe (expired or cancelled there)",
    )
    ledger.void_succeeded(txn)
    if was_holding and payment.ride.is_open:
        ledger.sync_secured(payment.ride_id)
        ledger.flag(
            payment.ride_id, "the card hold was released by Stripe. The customer is asked to pay again."
        )
        ledger.announce("action_required", txn, payment.ride_id)
    return "voided"


def _failed(payment: Payment, intent: Intent) -> str:
    if payment.status not in WAITING:
        return "no change: not waiting for a hold"
    txn = _pending(payment, Kind.AUTHORIZATION)
    if txn is None or txn.provider_id not in ("", intent.id):
        return "no change: no hold attempt for this intent"
    ledger.hold_failed(txn, ledger.customer_message(intent))
    return "failed"


def _on_intent_event(obj: dict, event_id: str) -> str:
    return apply_intent(intent=Intent.from_stripe(obj), event_id=event_id)


def _on_charge_refunded(charge: dict, event_id: str) -> str:
    """Refunds made outside the app (e.g. the Stripe dashboard) join the ledger.

    Compared by amount: Stripe counts the uncaptured part of a partial capture
    as refunded on the charge, so that part is taken off first.
    """
    intent_id = _intent_of_charge(charge)
    payment = _payment_for(intent_id, charge.get("metadata") or {})
    if payment is None:
        return "ignored: unknown payment intent"
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.captured_cents == 0:
            return "no change: nothing captured"
        amount = int(charge.get("amount") or 0)
        captured = int(charge.get("amount_captured") or payment.captured_cents)
        refunded_at_stripe = int(charge.get("amount_refunded") or 0) - (amount - captured)
        ours = payment.refunded_cents + (
            payment.transactions.filter(kind=Kind.REFUND, status=Status.PENDING).aggregate(
                s=Sum("amount_cents")
            )["s"]
            or 0
        )
        missing = min(refunded_at_stripe - ours, payment.captured_cents - payment.refunded_cents)
        if missing <= 0:
            return "no change: refunds already recorded"
        txn = ledger.open_transaction(
            payment=payment,
            kind=Kind.REFUND,
            amount_cents=missing,
            key=f"stripe-{charge.get('id')}-refunded-{refunded_at_stripe}",
            source=Transaction.Source.WEBHOOK,
            reason="Refunded outside Whiskers & Wheels (Stripe dashboard)",
        )
    ledger.refund_succeeded(txn, charge.get("id") or "")
    return f"refund of {missing} recorded"


def _intent_of_charge(charge: dict) -> str:
    intent = charge.get("payment_intent")
    return intent.get("id", "") if isinstance(intent, dict) else intent or ""


HANDLERS = {
    "payment_intent.amount_capturable_updated": _on_intent_event,
    "payment_intent.succeeded": _on_intent_event,
    "payment_intent.payment_failed": _on_intent_event,
    "payment_intent.canceled": _on_intent_event,
    "charge.refunded": _on_charge_refunded,
}


# --- Intents at Stripe that we never recorded ------------------------------------------------

# An intent younger than this may still be on its way into our database (the request that
# created it is recording it now): the sweep leaves it for its next run.
ORPHAN_GRACE = timedelta(minutes=2)
# How far back the sweep looks at Stripe (a hold lasts about 7 days; the sweep runs every few minutes).
ORPHAN_LOOKBACK = timedelta(days=1)


def reconcile_intents(*, now=None) -> dict[str, int]:
    """Compare Stripe's recent PaymentIntents with our ledger; adopt or release the ones we lost.

    An intent whose metadata names one of our payments that has no record of it is an orphan
    (a process died between Stripe's answer and our commit). If that payment is still waiting
    for exactly this hold (the pending hold row named in the metadata, no intent recorded), it
    is adopted as that row's hold, as the checkout would have done; otherwise it is cancelled
    at Stripe and an "orphaned hold released" ledger row says so. Intents with no or foreign
    metadata are not ours and are left alone. Safe to run twice and on two hosts at once:
    adopting and closing are conditional updates, the release row's key is unique."""
    now = now or timezone.now()
    old_enough = (now - ORPHAN_GRACE).timestamp()
    intents = get_gateway().recent_intents(since=int((now - ORPHAN_LOOKBACK).timestamp()))
    holds = [i for i in intents if i.status == "requires_capture" and i.created <= old_enough]
    canceled = [i for i in intents if i.status == "canceled"]
    # Three queries for all of them: nearly every intent is one we know.
    hold_ids, canceled_ids = [i.id for i in holds], [i.id for i in canceled]
    known = {
        *Payment.objects.filter(payment_intent_id__in=hold_ids).values_list("payment_intent_id", flat=True),
        *Transaction.objects.filter(kind=Kind.AUTHORIZATION, provider_id__in=hold_ids).values_list(
            "provider_id", flat=True
        ),
    }
    releasing = set(
        Transaction.objects.filter(
            kind=Kind.ORPHAN_VOID, status=Status.PENDING, provider_id__in=canceled_ids
        ).values_list("provider_id", flat=True)
    )
    counts = {"adopted": 0, "released": 0}
    for intent in canceled:
        if intent.id in releasing and (payment := _payment_named_by(intent)):
            counts["released"] += _finish_release(payment, intent)  # a sweep that died mid-release
    for intent in holds:
        if intent.id in known or (payment := _payment_named_by(intent)) is None:
            continue
        if _is_known(payment, intent):  # recorded since the look above
            continue
        if _adopt(payment, intent):
            counts["adopted"] += 1
        else:
            counts["released"] += _release_orphan(payment, intent)
    return counts


def _payment_named_by(intent: Intent) -> Payment | None:
    ride_id, payment_id = intent.metadata.get("ride_id", ""), intent.metadata.get("payment_id", "")
    if not (str(ride_id).isdigit() and str(payment_id).isdigit()):
        return None
    # And for that ride's customer: a staging database on the same Stripe account has its own
    # payment ids, but never our customers.
    return Payment.objects.filter(
        pk=int(payment_id),
        ride_id=int(ride_id),
        ride__customer_id__in=StripeCustomer.objects.filter(customer_id=intent.customer).values("user_id"),
    ).first()


def _is_known(payment: Payment, intent: Intent) -> bool:
    return (
        payment.payment_intent_id == intent.id
        or payment.transactions.filter(kind=Kind.AUTHORIZATION, provider_id=intent.id).exists()
    )


def _attempt_named_by(payment: Payment, intent: Intent) -> Transaction | None:
    """The pending hold row whose attempt created `intent` and that recorded no intent."""
    txn_id = intent.metadata.get("transaction_id", "")
    if not txn_id.isdigit():
        return None
    return (
        payment.transactions.select_related("payment", "ride")
        .filter(pk=int(txn_id), kind=Kind.AUTHORIZATION, status=Status.PENDING, provider_id="")
        .first()
    )


def _adopt(payment: Payment, intent: Intent) -> bool:
    """Record the orphan as the hold its payment still waits for; False if it waits for none."""
    txn = _attempt_named_by(payment, intent)
    if txn is None or payment.status not in WAITING or payment.payment_intent_id:
        return False
    if ledger.intent_mismatch(payment, intent) or not ledger.remember_intent(txn, intent.id):
        return False
    log.warning("Adopted orphaned Stripe hold %s for payment %s", intent.id, payment.pk)
    ledger.apply_hold(txn, intent)
    return True


def _orphan_key(intent: Intent) -> str:
    return f"stripe-{intent.id}-orphan-release"


def _release_orphan(payment: Payment, intent: Intent) -> int:
    """Cancel a hold nobody will use, with a ledger row written before (pending) and closed after."""
    Transaction.objects.get_or_create(
        idempotency_key=_orphan_key(intent),
        defaults={
            "ride_id": payment.ride_id,
            "payment": payment,
            "kind": Kind.ORPHAN_VOID,
            "amount_cents": intent.amount,
            "currency": intent.currency,
            "provider_id": intent.id,
            "source": Transaction.Source.RECONCILE,
            "reason": f"Orphaned hold released: Stripe held {format_money(intent.amount, intent.currency)} "
            f"for payment #{payment.pk} that no record of ours knew of.",
            # Never for the retry schedule: this sweep finishes it, from Stripe's state.
            "next_attempt_at": None,
        },
    )
    try:
        get_gateway().cancel(intent_id=intent.id, key=_orphan_key(intent))
    except GatewayError as exc:
        # Another host cancelled it a moment ago (Stripe refuses a second cancel), or Stripe
        # could not be reached: the next run sees the intent as it is then.
        if exc.transient or get_gateway().retrieve_intent(intent.id).status != "canceled":
            log.warning("Could not release orphaned hold %s: %s", intent.id, exc.message)
            return 0
    log.warning("Released orphaned Stripe hold %s (payment %s)", intent.id, payment.pk)
    payment.refresh_from_db(fields=["status"])
    if payment.status not in WAITING and (txn := _attempt_named_by(payment, intent)):
        # The attempt's payment ended meanwhile: no retry of it may place another hold.
        ledger.abandon(txn, "Its hold reached Stripe unrecorded and was released; the payment had ended.")
    return _finish_release(payment, intent)


def _finish_release(payment: Payment, intent: Intent) -> int:
    """Close the intent's pending release row (1), if it has one still open."""
    return Transaction.objects.filter(
        idempotency_key=_orphan_key(intent), payment=payment, status=Status.PENDING
    ).update(status=Status.SUCCEEDED, completed_at=timezone.now())
