"""Writes for notifications (HackSoft style services), one module per concern:

- `queueing.notify()`: the one entry point for lifecycle events: records each message
  once and queues its sending;
- `sending.notification_send()`: what the Django-Q task runs for one message, with
  retries and back-off; `notification_retry()` for operations;
- `preferences`: SMS choices per kind, STOP/START replies;
- `delivery`: Twilio delivery reports;
- `sweep`: reminders and the periodic sweep.

Exactly once: a notification row is unique per (ride, kind, channel, recipient,
occurrence), and a send first claims its row with a conditional UPDATE
(queued -> sending), so two workers, a re-delivered task or a sweeper that runs
twice never send the same message twice. An attempt whose outcome is unknown (a
timeout after the request went) is reconciled before the next one: an SMS is looked
up at Twilio, an email goes again with the same Message-ID (at least once).
"""

from notifications.services.delivery import notification_status_update
from notifications.services.preferences import (
    preferences_of,
    preferences_update,
    sms_inbound,
    sms_opt_in,
    sms_opt_out,
)
from notifications.services.queueing import enqueue_on_commit, notify, reminders_cancel_outdated
from notifications.services.sending import notification_retry, notification_send
from notifications.services.sweep import (
    notifications_requeue_due,
    notifications_requeue_interrupted,
    notifications_run_due,
    reminders_queue_due,
)

__all__ = [
    "enqueue_on_commit",
    "notification_retry",
    "notification_send",
    "notification_status_update",
    "notifications_requeue_interrupted",
    "notifications_requeue_due",
    "notifications_run_due",
    "notify",
    "preferences_of",
    "preferences_update",
    "reminders_cancel_outdated",
    "reminders_queue_due",
    "sms_inbound",
    "sms_opt_in",
    "sms_opt_out",
]
