"""Recurring Django-Q schedules, declared in code by each app and written after every migrate.

Each app lists its schedules in its `schedules.py` and registers them in its
AppConfig.ready():

    schedules.register(*SCHEDULES)

After every `migrate`, each registered schedule exists exactly once with the fields
written here: a fresh database, a deploy that changed an interval, a row deleted or
duplicated by hand all end the same way. Rows the code no longer names are left alone.
"""

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django_q.models import Schedule


@dataclass(frozen=True)
class Every:
    """Run `func` (a dotted path) every `minutes`, for ever; `name` identifies the row."""

    name: str
    func: str
    minutes: int
    queue: str | None = None  # settings.TASK_QUEUES; None: the default cluster

    def fields(self) -> dict:
        return {
            "func": self.func,
            "schedule_type": Schedule.MINUTES,
            "minutes": self.minutes,
            "repeats": -1,
            "cluster": self.queue,
        }


_registry: dict[str, Every] = {}


def register(*schedules: Every) -> None:
    for schedule in schedules:
        known = _registry.setdefault(schedule.name, schedule)
        if known != schedule:
            raise ImproperlyConfigured(f"Two schedules are named {schedule.name!r}: {known} and {schedule}.")


def registered() -> list[Every]:
    return list(_registry.values())


def ensure_schedules(*, using: str = "default", **kwargs) -> None:
    """The post_migrate receiver: every registered schedule once, with its fields.

    Only the fields that differ are updated, so an unchanged schedule keeps its next run."""
    rows = Schedule.objects.using(using)
    for schedule in registered():
        existing = list(rows.filter(name=schedule.name).order_by("pk"))
        for extra in existing[1:]:
            extra.delete()
        wanted = schedule.fields()
        if not existing:
            rows.create(name=schedule.name, **wanted)
            continue
        changed = {field: value for field, value in wanted.items() if getattr(existing[0], field) != value}
        if changed:
            rows.filter(pk=existing[0].pk).update(**changed)
