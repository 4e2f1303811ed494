"""Billing listens to ride moves: each one that moves money queues a settle task."""

from django.db import transaction
from django.dispatch import receiver
from django_q.tasks import async_task

from bookings.signals import ride_moved

SETTLED_MOVES = {"complete", "cancel", "expire", "no_show", "reschedule"}


@receiver(ride_moved, dispatch_uid="billing.settle_ride_move")
def queue_settlement(sender, *, ride_id, move, event_id=None, **kwargs):
    if move in SETTLED_MOVES:
        transaction.on_commit(lambda: async_task("billing.tasks.settle_ride_move", ride_id, move, event_id))
