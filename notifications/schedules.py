"""The Django-Q schedule that drives reminders and retries, created idempotently
after every `migrate` (so a fresh database, a deploy or a deleted row all end
with exactly one)."""

from django_q.models import Schedule

NAME = "notifications: reminders and retries"
FUNC = "notifications.tasks.run_due"


def ensure_schedules(**kwargs) -> Schedule:
    schedules = list(Schedule.objects.filter(name=NAME).order_by("pk"))
    for extra in schedules[1:]:
        extra.delete()
    fields = {"func": FUNC, "schedule_type": Schedule.MINUTES, "minutes": 1, "repeats": -1}
    if schedules:
        schedule = schedules[0]
        changed = {name: value for name, value in fields.items() if getattr(schedule, name) != value}
        if changed:
            Schedule.objects.filter(pk=schedule.pk).update(**changed)
        return schedule
    return Schedule.objects.create(name=NAME, **fields)
