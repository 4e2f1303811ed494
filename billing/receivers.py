"""Billing listens to ride moves: each one that moves money records a settle task in the
move's transaction (core.outbox; connected in BillingConfig.ready)."""

from core import outbox

SETTLED_MOVES = {"complete", "cancel", "expire", "no_show", "reschedule"}


def settle_ride_move(sender, *, ride_id, move, event_id=None, **kwargs):
    if move in SETTLED_MOVES:
        outbox.defer("billing.tasks.settle_ride_move", ride_id, move, event_id, queue="payments")
