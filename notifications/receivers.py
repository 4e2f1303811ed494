"""How ride moves and money events reach notifications: each receiver only queues
a task (`handle_occasion`), which calls the entry point `services.notify`. Connected in
NotificationsConfig.ready."""

from notifications.models import Notification, NotificationAttempt, NotificationPreference, Status
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


def on_account_deleted(sender, *, user_id, **kwargs):
    """Inside the account deletion's transaction: the messages we sent (or meant to send) the
    person stay as the audit of what was sent when (kind, channel, status, times, provider id),
    without where they went or what they said. Messages not sent yet are called off; their
    preferences (and any STOP) go with the number."""
    messages = Notification.objects.filter(user_id=user_id)
    messages.filter(status=Status.QUEUED).update(status=Status.CANCELLED)
    messages.update(to="", subject="", message="", message_html="", last_error="")
    # A provider's error may quote the number or address it refused.
    NotificationAttempt.objects.filter(notification__user_id=user_id).exclude(error="").update(error="")
    NotificationPreference.objects.filter(user_id=user_id).delete()
