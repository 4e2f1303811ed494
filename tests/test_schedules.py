"""core.schedules: every app's schedules exist once after each migrate, with the fields in
the code; duplicates are removed and changed fields put right."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django_q.models import Schedule

from core import schedules
from core.schedules import Every

pytestmark = pytest.mark.django_db

EVERY_MINUTES = Schedule.MINUTES
EXPECTED = [  # each on its app's queue (settings.TASK_QUEUES), a cluster of its own
    (
        "billing: expire unpaid bookings",
        "billing.tasks.expire_unpaid_rides",
        EVERY_MINUTES,
        5,
        -1,
        "payments",
    ),
    (
        "billing: place card holds before pickup",
        "billing.tasks.place_due_holds",
        EVERY_MINUTES,
        15,
        -1,
        "payments",
    ),
    (
        "billing: reconcile intents with Stripe",
        "billing.tasks.reconcile_intents",
        EVERY_MINUTES,
        3,
        -1,
        "payments",
    ),
    (
        "billing: retry payment operations",
        "billing.tasks.retry_due_transactions",
        EVERY_MINUTES,
        1,
        -1,
        "payments",
    ),
    (
        "bookings: open returns not called",
        "bookings.tasks.flag_returns_not_called",
        EVERY_MINUTES,
        5,
        -1,
        "dispatch",
    ),
    ("core: outbox relay", "core.outbox.relay", EVERY_MINUTES, 1, -1, None),  # the default cluster
    ("notifications: reminders and retries", "notifications.tasks.run_due", EVERY_MINUTES, 1, -1, "messages"),
]


def rows():
    return sorted(
        Schedule.objects.values_list("name", "func", "schedule_type", "minutes", "repeats", "cluster")
    )


@pytest.fixture
def registry(monkeypatch):
    """The registry as the apps left it, restored after the test."""
    monkeypatch.setattr(schedules, "_registry", dict(schedules._registry))


def test_every_app_schedule_exists_once_and_two_migrates_change_nothing():
    assert rows() == EXPECTED  # written by the test database's migrate
    before = list(Schedule.objects.order_by("pk").values_list("pk", "next_run"))
    call_command("migrate", verbosity=0)
    call_command("migrate", verbosity=0)
    assert rows() == EXPECTED
    assert list(Schedule.objects.order_by("pk").values_list("pk", "next_run")) == before


def test_migrate_removes_duplicates_and_puts_a_changed_interval_right():
    name = "billing: retry payment operations"
    kept = Schedule.objects.get(name=name)
    Schedule.objects.filter(pk=kept.pk).update(minutes=30)
    Schedule.objects.create(name=name, func="billing.tasks.retry_due_transactions", minutes=1)
    Schedule.objects.filter(name="billing: expire unpaid bookings").delete()

    call_command("migrate", verbosity=0)

    assert rows() == EXPECTED
    assert Schedule.objects.get(name=name).pk == kept.pk  # the oldest row stays, with its history


def test_a_registered_schedule_is_created_by_the_next_migrate(registry):
    schedules.register(Every("fleet: nightly check", "fleet.tasks.check", minutes=1440))
    call_command("migrate", verbosity=0)
    row = Schedule.objects.get(name="fleet: nightly check")
    assert (row.func, row.schedule_type, row.minutes, row.repeats) == ("fleet.tasks.check", "I", 1440, -1)


def test_a_schedule_registered_twice_is_there_once(registry):
    again = Every(
        "notifications: reminders and retries", "notifications.tasks.run_due", minutes=1, queue="messages"
    )
    schedules.register(again)
    assert schedules.registered().count(again) == 1


def test_two_schedules_of_one_name_are_refused(registry):
    with pytest.raises(ImproperlyConfigured, match="billing: retry payment operations"):
        schedules.register(Every("billing: retry payment operations", "billing.tasks.other", minutes=1))
