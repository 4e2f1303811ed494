"""Django-Q entry points. They take ids, reload rows and are safe to run twice."""

from dataclasses import asdict

from django.db import transaction
from django_q.tasks import async_task

from notifications import services
from notifications.triggers import Occasion


def queue_occasion(occasion: Occasion) -> None:
    """Hand an occasion to a worker once the current transaction (if any) commits."""
    kwargs = asdict(occasion)
    transaction.on_commit(lambda: async_task("notifications.tasks.handle_occasion", **kwargs))


def handle_occasion(**occasion) -> int:
    return len(services.notify(occasion=Occasion(**occasion)))


def send_notification(notification_id: int) -> str:
    return services.notification_send(notification_id=notification_id)


def run_due() -> dict[str, int]:
    """Every minute (see `notifications.schedules`): reminders, retries, lost and stuck sends."""
    return services.notifications_run_due()
