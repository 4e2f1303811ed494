"""How ride moves and money events reach notifications: each receiver only queues
a task (`handle_occasion`), which calls the entry point `services.notify`. Connected in
NotificationsConfig.ready."""

from notifications.tasks import queue_occasion
from notifications.triggers import PLANNERS, Occasion

PAYMENT_KINDS_WITH_MESSAGES = {"captured", "refunded", "action_required"}


def on_ride_moved(sender, *, ride_id, move, event_id=None, **kwargs):
    if move in PLANNERS:
        queue_occasion(Occasion(name=move, ride_id=ride_id, event_id=event_id))


def on_payment_changed(sender, *, ride_id, kind, transaction_id=None, **kwargs):
    if kind in PAYMENT_KINDS_WITH_MESSAGES:
        queue_occasion(
            Occasion(
                name=f"payment:{kind}",
                ride_id=ride_id,
                transaction_id=transaction_id,
            )
        )
