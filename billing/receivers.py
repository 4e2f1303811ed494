"""Billing listens to ride moves: each one that moves money queues a settle task
(connected in BillingConfig.ready)."""

from django.db import transaction

from core.tasks import enqueue

SETTLED_MOVES = {"complete", "cancel", "expire", "no_show", "reschedule"}


def settle_ride_move(sender, *, ride_id, move, event_id=None, **kwargs):
    if move in SETTLED_MOVES:
        transaction.on_commit(
            lambda: enqueue("billing.tasks.settle_ride_move", ride_id, move, event_id, queue="payments")
        )
