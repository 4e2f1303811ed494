"""Billing's recurring Django-Q schedules, kept in code and written after every migrate."""

from django_q.models import Schedule

SCHEDULES = [
    # (name, task, every N minutes)
    ("billing: expire unpaid bookings", "billing.tasks.expire_unpaid_rides", 5),
    ("billing: place card holds before pickup", "billing.tasks.place_due_holds", 15),
    ("billing: retry payment operations", "billing.tasks.retry_due_transactions", 1),
]


def ensure_schedules(**kwargs) -> None:
    for name, func, minutes in SCHEDULES:
        Schedule.objects.update_or_create(
            name=name,
            defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes, "repeats": -1},
        )
