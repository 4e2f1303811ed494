"""Billing's writes. Views, tasks and webhooks call these; see each module's docstring.

- `checkout`: the customer pays (card saved, fare held), holds placed later, unpaid bookings expire
- `settlement`: a ride's moves settle its money (capture, fees, releases), refunds
- `reconcile`: Stripe's webhooks, and a sweep of its recent intents, reconcile our records
- `ledger`: the engine every money operation runs through
- `cards`: the customer's saved cards (listed from Stripe) and removing one
"""

from billing.services.cards import CustomerCard, card_remove, customer_cards
from billing.services.checkout import (
    CheckoutStep,
    checkout_open,
    checkout_submit,
    expire_unpaid_rides,
    payment_place_hold,
    place_due_holds,
    ride_needs_payment,
    secure_return_leg,
    stripe_customer_for,
)
from billing.services.ledger import execute, retry_due_transactions
from billing.services.reconcile import apply_intent, reconcile_intents, webhook_process
from billing.services.settlement import capture_retry, payment_refund, refundable_cents, settle_ride_move

__all__ = [
    "CheckoutStep",
    "CustomerCard",
    "card_remove",
    "customer_cards",
    "apply_intent",
    "capture_retry",
    "checkout_open",
    "checkout_submit",
    "execute",
    "expire_unpaid_rides",
    "payment_place_hold",
    "payment_refund",
    "place_due_holds",
    "reconcile_intents",
    "refundable_cents",
    "retry_due_transactions",
    "ride_needs_payment",
    "secure_return_leg",
    "settle_ride_move",
    "stripe_customer_for",
    "webhook_process",
]
