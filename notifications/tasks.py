"""Django-Q entry points. They take ids, reload rows and are safe to run twice."""

from dataclasses import asdict, fields

from core import outbox
from notifications import services
from notifications.triggers import Occasion


def queue_occasion(occasion: Occasion) -> None:
    """Record, in the current transaction, that a worker must plan this occasion's messages."""
    outbox.defer("notifications.tasks.handle_occasion", queue="messages", **asdict(occasion))


def handle_occasion(**occasion) -> int:
    # Keys an older release queued but Occasion no longer has are dropped: a task queued
    # before a deploy still sends its messages after it.
    known = {field.name for field in fields(Occasion)}
    return len(services.notify(occasion=Occasion(**{k: v for k, v in occasion.items() if k in known})))


def send_notification(notification_id: int) -> str:
    return services.notification_send(notification_id=notification_id)


def run_due() -> dict[str, int]:
    """Every minute (see `notifications.schedules`): reminders, retries, lost and stuck sends."""
    return services.notifications_run_due()
