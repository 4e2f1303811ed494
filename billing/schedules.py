"""Billing's recurring Django-Q schedules (registered in BillingConfig.ready, see core.schedules)."""

from core.schedules import Every

SCHEDULES = [
    Every(
        "billing: expire unpaid bookings", "billing.tasks.expire_unpaid_rides", minutes=5, queue="payments"
    ),
    Every(
        "billing: place card holds before pickup",
        "billing.tasks.place_due_holds",
        minutes=15,
        queue="payments",
    ),
    # Holds Stripe placed that we never recorded: adopted or released within minutes.
    Every(
        "billing: reconcile intents with Stripe",
        "billing.tasks.reconcile_intents",
        minutes=3,
        queue="payments",
    ),
    Every(
        "billing: retry payment operations",
        "billing.tasks.retry_due_transactions",
        minutes=1,
        queue="payments",
    ),
]
