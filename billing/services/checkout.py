"""Securing a ride's fare: checkout, holds placed later, unpaid bookings expiring.

Checkout works the same for every ride: the browser saves the card with a
SetupIntent (`confirmCardSetup`, the card Element call that both Stripe.js and
localstripe's fake Stripe.js implement), then the server looks the SetupIntent
up at Stripe (never trusting the browser) and either
- holds the fare at once with a PaymentIntent (manual capture, confirmed on the
  server with the saved card; 3-D Secure goes back to the browser's
  `confirmCardPayment`, and the server looks at the intent again), or
- for rides further ahead than BILLING_HOLD_MAX_DAYS (a hold lasts only ~5-7
  days) keeps the saved card; `place_due_holds` places the hold off-session
  BILLING_HOLD_LEAD before pickup.

These calls run inside the customer's request because the customer waits for
the answer; everything else money does runs in Django-Q tasks.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from billing.gateway import GatewayError, get_gateway
from billing.models import (
    CHECKOUT_STATUSES,
    LIVE_PAYMENT_STATUSES,
    SECURED_STATUSES,
    Payment,
    PaymentStatus,
    StripeCustomer,
    Transaction,
)
from billing.services import ledger
from billing.services.reconcile import apply_intent
from bookings.models import OPEN_STATUSES, Ride, RideStatus
from bookings.services import ride_expire, ride_flag
from core.errors import DomainError
from core.money import format_money
from core.tasks import enqueue

PS = PaymentStatus
UNAVAILABLE = "We can't reach our payment provider right now. Please try again in a minute."


def stripe_customer_for(user) -> str:
    """The user's Stripe Customer id, created on first use."""
    existing = StripeCustomer.objects.filter(user=user).values_list("customer_id", flat=True).first()
    if existing:
        return existing
    customer_id = get_gateway().create_customer(
        email=user.email, name=user.name, user_id=user.pk, key=f"customer-{user.pk}"
    )
    try:
        with transaction.atomic():
            StripeCustomer.objects.create(user=user, customer_id=customer_id)
    except IntegrityError:  # a parallel request won; real Stripe returned it the same customer
        return StripeCustomer.objects.get(user=user).customer_id
    return customer_id


def hold_later(ride: Ride, now=None) -> bool:
    """Too far ahead for a hold to last until the ride: save the card, hold later."""
    return ride.scheduled_at - (now or timezone.now()) > settings.BILLING_HOLD_MAX_DAYS


def ride_needs_payment(ride: Ride, payments: list[Payment] | None = None) -> bool:
    """The customer should pay: a booking waiting for payment, an open ride whose hold failed,
    or one moved to a pricier time whose new hold failed (its old hold stays until they pay)."""
    if ride.status not in OPEN_STATUSES:
        return False
    payments = list(ride.payments.all()) if payments is None else payments
    if any(payment.status == PS.CARD_SAVED for payment in payments):
        return False  # secured by a saved card, or a hold is being placed now
    current = next((p for p in payments if p.status == PS.AUTHORIZED and not p.replacing_id), None)
    if current is not None:
        if current.amount_cents >= ride.price_cents:
            return False
        # The fare went up: billing tries a new hold first; the customer pays if that fails.
        replacements = [p for p in payments if p.replacing_id == current.pk]
        return bool(replacements) and replacements[-1].status in (PS.FAILED, *CHECKOUT_STATUSES)
    return ride.status == RideStatus.PENDING_PAYMENT or bool(payments)


@dataclass(frozen=True)
class CheckoutStep:
    """Where the customer is: "card" (enter a card), "action" (confirm with the bank),
    "paid" (done) or "closed" (nothing to pay: the ride ended or is secured)."""

    outcome: str
    payment: Payment | None = None
    client_secret: str = ""
    message: str = ""


def checkout_open(*, ride: Ride) -> CheckoutStep:
    if not ride_needs_payment(ride):
        return _settled_step(ride)
    payment = ride.payments.filter(status__in=CHECKOUT_STATUSES).first()
    try:
        if payment and payment.status == PS.REQUIRES_ACTION:
            intent = get_gateway().retrieve_intent(payment.payment_intent_id)
            if intent.status == "requires_action":
                return CheckoutStep("action", payment, intent.client_secret)
            return checkout_submit(ride=ride, by=ride.customer)  # settled elsewhere: apply it
        payment = payment or _new_payment(ride)
        setup = _setup_intent(payment)
        if setup.status == "succeeded":  # saved earlier, but the browser never came back
            return checkout_submit(ride=ride, by=ride.customer)
        return CheckoutStep("card", payment, setup.client_secret)
    except GatewayError as exc:
        raise DomainError(UNAVAILABLE, code="unavailable") from exc


def _new_payment(ride: Ride) -> Payment:
    # A ride that still holds an older, smaller fare keeps that hold until this one is secured.
    held = ride.payments.filter(status=PS.AUTHORIZED, replacing__isnull=True).first()
    try:
        with transaction.atomic():
            return Payment.objects.create(
                ride=ride, amount_cents=ride.price_cents, currency=ride.currency, replacing=held
            )
    except IntegrityError:  # another tab started this checkout a moment ago
        return ride.payments.get(status__in=CHECKOUT_STATUSES)


def _setup_intent(payment: Payment):
    gateway = get_gateway()
    if payment.setup_intent_id:
        return gateway.retrieve_setup_intent(payment.setup_intent_id)
    setup = gateway.create_setup_intent(
        customer=stripe_customer_for(payment.ride.customer),
        metadata={"ride_id": str(payment.ride_id), "payment_id": str(payment.pk)},
        key=ledger.key_for(payment, "setup"),
    )
    Payment.objects.filter(pk=payment.pk, setup_intent_id="").update(setup_intent_id=setup.id)
    payment.setup_intent_id = setup.id
    return setup


def checkout_submit(*, ride: Ride, by) -> CheckoutStep:
    """The browser says the card is saved (or the bank check is done): look at Stripe and act."""
    payment = ride.payments.filter(status__in=CHECKOUT_STATUSES).first()
    if payment is None:
        return _settled_step(ride) if not ride_needs_payment(ride) else CheckoutStep("card")
    try:
        if payment.status == PS.REQUIRES_CARD:
            txn = _use_saved_card(ride, payment, by)
        else:
            txn = payment.transactions.filter(kind=Transaction.Kind.AUTHORIZATION, status="pending").first()
        if txn is not None:
            ledger.execute(txn_id=txn.pk)
        step = _step_after(ride, Payment.objects.get(pk=payment.pk))
    except GatewayError as exc:
        raise DomainError(UNAVAILABLE, code="unavailable") from exc
    if step.outcome == "paid":
        secure_return_leg(payment_id=payment.pk)  # while the customer waits, not after
    return step


def _use_saved_card(ride: Ride, payment: Payment, by) -> Transaction | None:
    gateway = get_gateway()
    setup = gateway.retrieve_setup_intent(payment.setup_intent_id) if payment.setup_intent_id else None
    if setup is None or setup.status != "succeeded" or not setup.payment_method:
        return None
    customer = stripe_customer_for(ride.customer)
    if setup.customer and setup.customer != customer:
        raise DomainError("This card was saved for another customer.", code="not_allowed")
    card = gateway.card_of(setup.payment_method)
    if card.customer and card.customer != customer:
        raise DomainError("This card was saved for another customer.", code="not_allowed")
    if not card.customer:  # so the customer sees it among their saved cards (and can remove it)
        gateway.attach_card(setup.payment_method, customer=customer, key=f"attach-{setup.payment_method}")
    with transaction.atomic():
        locked = Payment.objects.select_for_update().select_related("ride").get(pk=payment.pk)
        if locked.status != PS.REQUIRES_CARD:
            return None  # a parallel submit (or a webhook) got here first
        locked.payment_method_id = setup.payment_method
        locked.card_brand, locked.card_last4 = card.brand, card.last4
        locked.amount_cents = locked.ride.price_cents
        if hold_later(locked.ride):
            locked.status = PS.CARD_SAVED
            locked.save()
            if ledger.secure_ride(locked, "Card saved; the hold follows before pickup."):
                locked.status = PS.CANCELED
                locked.save(update_fields=["status", "updated_at"])
            return None
        locked.save()
        return ledger.open_transaction(
            payment=locked,
            kind=Transaction.Kind.AUTHORIZATION,
            amount_cents=locked.amount_cents,
            key=ledger.key_for(locked, "authorize"),
            source=Transaction.Source.CHECKOUT,
            by=by,
            reason="Fare held at booking",
        )


def _step_after(ride: Ride, payment: Payment) -> CheckoutStep:
    ride.refresh_from_db()
    amount = format_money(payment.amount_cents, payment.currency)
    if payment.status == PS.AUTHORIZED:
        return CheckoutStep(
            "paid", payment, message=f"{amount} is held on {payment.card_label}. We charge it after the ride."
        )
    if payment.status == PS.CARD_SAVED:
        lead = int(settings.BILLING_HOLD_LEAD.total_seconds() // 3600)
        return CheckoutStep(
            "paid",
            payment,
            message=f"Your card is saved. We hold {amount} on it about {lead} hours before pickup.",
        )
    if payment.status == PS.REQUIRES_ACTION:
        intent = get_gateway().retrieve_intent(payment.payment_intent_id)
        return CheckoutStep("action", payment, intent.client_secret)
    if payment.status == PS.REQUIRES_CARD:
        return CheckoutStep("card", payment, message="Your card isn't saved yet. Please enter it again.")
    if payment.status == PS.FAILED or ride_needs_payment(ride):  # e.g. the fare changed meanwhile
        return CheckoutStep(
            "card", None, message=payment.failure_message or "The payment did not go through."
        )
    return CheckoutStep(
        "closed",
        payment,
        message="This booking ended before the payment went through. Nothing was charged; "
        "any hold on your card is released.",
    )


def _settled_step(ride: Ride) -> CheckoutStep:
    secured = ride.payments.filter(status__in=SECURED_STATUSES, replacing__isnull=True).last()
    if secured:
        return _step_after(ride, secured)
    return CheckoutStep(
        "closed", message=f"This ride is {ride.get_status_display().lower()}: nothing to pay."
    )


def saved_card_payment(*, ride: Ride, card: Payment, **fields) -> Payment:
    """A new payment of `ride`'s fare on the card another payment saved, its hold to follow
    off-session (a ride moved to a pricier time, a round trip's return)."""
    return Payment.objects.create(
        ride=ride,
        status=PS.CARD_SAVED,
        amount_cents=ride.price_cents,
        currency=ride.currency,
        payment_method_id=card.payment_method_id,
        card_brand=card.card_brand,
        card_last4=card.card_last4,
        **fields,
    )


# --- A round trip's return leg (bookings.trips) ------------------------------------------


def secure_return_leg(*, payment_id: int) -> Payment | None:
    """A round trip's checkout secures both legs: once the outbound's payment (`payment_id`) is
    secured, the return's fare goes on the same card, as its own payment — held now,
    off-session, or saved for a hold before its pickup when that is beyond a hold's life. (One
    hold per leg: Stripe captures a hold once, and each leg ends, is charged or is cancelled on
    its own.) Safe to run twice: a return that already has a live payment is left alone; a
    hold that fails leaves the return waiting for payment on its own page."""
    payment = Payment.objects.select_related("ride").filter(pk=payment_id).first()
    if payment is None or payment.status not in SECURED_STATUSES or not payment.payment_method_id:
        return None
    back = Ride.objects.filter(outbound_id=payment.ride_id, status=RideStatus.PENDING_PAYMENT).first()
    if back is None or back.payments.filter(status__in=LIVE_PAYMENT_STATUSES).exists():
        return None
    try:
        with transaction.atomic():
            leg = saved_card_payment(ride=back, card=payment)
            if hold_later(back):
                if ledger.secure_ride(leg, "Card saved; the hold follows before pickup."):
                    leg.status = PS.CANCELED
                    leg.save(update_fields=["status", "updated_at"])
                return leg
    except IntegrityError:  # a parallel run created it a moment ago
        return None
    try:
        leg = payment_place_hold(payment=leg, source=Transaction.Source.SCHEDULE)
    except GatewayError:
        return leg  # a pending hold: the ledger's retries finish it
    if leg.status not in SECURED_STATUSES:  # declined, or the bank wants the customer there
        ride_flag(
            ride=back,
            reason="The return's card hold failed: the customer pays for it on its page. Check they can.",
        )
    return leg


# --- Holds placed later, off-session -------------------------------------------------------


def payment_place_hold(*, payment: Payment, source: str, amount_cents: int | None = None) -> Payment:
    """Hold the fare (or `amount_cents`) on a saved card without the customer present."""
    with transaction.atomic():
        locked = Payment.objects.select_for_update().select_related("ride").get(pk=payment.pk)
        if locked.status != PS.CARD_SAVED:
            return locked
        amount = amount_cents or locked.ride.price_cents
        if locked.amount_cents != amount:
            locked.amount_cents = amount
            locked.save(update_fields=["amount_cents", "updated_at"])
        txn = ledger.open_transaction(
            payment=locked,
            kind=Transaction.Kind.AUTHORIZATION,
            amount_cents=amount,
            key=ledger.key_for(locked, "authorize"),
            source=source,
            reason="Hold placed before pickup" if source == Transaction.Source.SCHEDULE else "Hold to charge",
        )
    ledger.execute(txn_id=txn.pk)
    return Payment.objects.get(pk=payment.pk)


def place_due_holds(*, now=None) -> int:
    """Queue the off-session hold for every saved-card ride within BILLING_HOLD_LEAD of pickup."""
    now = now or timezone.now()
    due = list(
        Payment.objects.filter(
            status=PS.CARD_SAVED,
            ride__status__in=OPEN_STATUSES,
            ride__scheduled_at__lte=now + settings.BILLING_HOLD_LEAD,
        ).values_list("pk", flat=True)
    )
    for payment_id in due:
        enqueue("billing.tasks.place_hold", payment_id, queue="payments")
    return len(due)


# --- Unpaid bookings ---------------------------------------------------------------------------


def expire_unpaid_rides(*, now=None) -> int:
    """Release the slots of bookings not paid within BILLING_PAYMENT_WINDOW (or whose time has come)."""
    now = now or timezone.now()
    # A return whose ride out is on keeps its slot until its own time: the pets are out and
    # need a way home (a failed hold on it is flagged for operations).
    no_ride_out_on = Q(outbound__isnull=True) | Q(
        outbound__status__in=[RideStatus.PENDING_PAYMENT, RideStatus.CANCELLED, RideStatus.NO_SHOW]
    )
    stale = Ride.objects.filter(status=RideStatus.PENDING_PAYMENT).filter(
        Q(no_ride_out_on, created_at__lt=now - settings.BILLING_PAYMENT_WINDOW) | Q(scheduled_at__lt=now)
    )
    expired = 0
    for ride in stale.order_by("created_at")[:200]:
        expired += ride_expire_unpaid(ride=ride)
    return expired


def ride_expire_unpaid(*, ride: Ride) -> bool:
    """Expire one unpaid booking, unless Stripe says the hold went through after all."""
    payment = ride.payments.filter(status=PS.REQUIRES_ACTION).exclude(payment_intent_id="").first()
    if payment:
        try:
            apply_intent(intent=get_gateway().retrieve_intent(payment.payment_intent_id))
        except GatewayError:
            return False  # can't tell whether they paid: try again next round
    try:
        ride_expire(ride=ride)
    except DomainError:
        return False  # paid (or cancelled) meanwhile
    return True
