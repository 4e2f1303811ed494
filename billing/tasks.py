"""Django-Q entry points. Each takes ids, loads fresh rows and calls a service;
all are safe to run twice (ledger rows are claimed once and settled once)."""

from billing import services
from billing.models import Payment, Transaction


def execute_transaction(transaction_id: int) -> str:
    txn = services.execute(txn_id=transaction_id)
    return f"{txn.kind} {txn.status}" if txn else "not due"


def settle_ride_move(ride_id: int, move: str, event_id: int | None = None) -> None:
    services.settle_ride_move(ride_id=ride_id, move=move, event_id=event_id)


def place_hold(payment_id: int) -> str:
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None:
        return "gone"
    return services.payment_place_hold(payment=payment, source=Transaction.Source.SCHEDULE).status


def secure_return_leg(payment_id: int) -> str:
    leg = services.secure_return_leg(payment_id=payment_id)
    return leg.status if leg else "nothing to do"


# --- Schedules (see billing/schedules.py) ---------------------------------------------


def expire_unpaid_rides() -> int:
    return services.expire_unpaid_rides()


def place_due_holds() -> int:
    return services.place_due_holds()


def retry_due_transactions() -> int:
    return services.retry_due_transactions()


def reconcile_intents() -> str:
    counts = services.reconcile_intents()
    return f"{counts['adopted']} adopted, {counts['released']} released"
