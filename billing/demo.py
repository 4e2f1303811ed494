"""Demo payments, made for real at localstripe, every time the demo starts.

`make run` starts localstripe from scratch, so what an earlier run stored there
is gone. For every ride that is on, this puts a fresh hold on the test Visa card
(`pm_card_visa`) unless its current one is still known, so driving a demo ride to
the end captures it, and the receipt, ledger and refunds can be tried at once.
Rides that ended keep what they had (a hold placed after a ride ended is
released, as billing should).

Only ever against localstripe: never on a real Stripe account.
"""

import logging

from django.conf import settings

from billing.gateway import GatewayError, get_gateway
from billing.models import Payment, PaymentStatus, StripeCustomer, Transaction
from billing.services.checkout import payment_place_hold, stripe_customer_for
from bookings.models import Ride, RideStatus

log = logging.getLogger(__name__)

RIDES_ON = [RideStatus.CONFIRMED, RideStatus.ASSIGNED, RideStatus.EN_ROUTE, RideStatus.PICKED_UP]
PS = PaymentStatus


def seed(users) -> None:
    if not settings.STRIPE_USES_LOCALSTRIPE:
        return
    try:
        _forget_customers_localstripe_lost()
        replaced = 0
        for ride in Ride.objects.filter(status__in=RIDES_ON).select_related("customer").order_by("pk"):
            replaced += _secure(ride)
    except GatewayError as exc:
        log.warning("Demo payments skipped: localstripe is not reachable (%s).", exc.message)
        return
    if replaced:
        log.warning("Replaced %s hold(s) that an earlier localstripe run had made.", replaced)


def _forget_customers_localstripe_lost() -> None:
    gateway = get_gateway()
    for customer in StripeCustomer.objects.all():
        if not gateway.customer_exists(customer.customer_id):
            customer.delete()


def _still_held(payment: Payment) -> bool:
    try:
        get_gateway().retrieve_intent(payment.payment_intent_id)
    except GatewayError as exc:
        if exc.transient:
            raise
        return False
    return True


def _secure(ride: Ride) -> int:
    """Put the ride's fare on hold if it has no hold localstripe knows; 1 if one was replaced."""
    live = ride.payments.filter(status__in=[PS.AUTHORIZED, PS.CARD_SAVED]).first()
    replaced = 0
    if live is not None:
        if live.payment_intent_id and _still_held(live):
            return 0
        # Left over from an earlier localstripe: retire it (its ledger rows stay as they were).
        Payment.objects.filter(pk=live.pk).update(
            status=PS.CANCELED, failure_message="localstripe was restarted; a new demo hold replaced it."
        )
        replaced = 1
    elif ride.payments.filter(status__in=[PS.REQUIRES_CARD, PS.REQUIRES_ACTION]).exists():
        return 0  # someone is at checkout
    stripe_customer_for(ride.customer)
    payment = Payment.objects.create(
        ride=ride,
        amount_cents=ride.price_cents,
        currency=ride.currency,
        status=PS.CARD_SAVED,
        payment_method_id="pm_card_visa",
        card_brand="visa",
        card_last4="4242",
    )
    payment_place_hold(payment=payment, source=Transaction.Source.CHECKOUT)
    return replaced
