"""Reminders 24 h and 1 h before pickup: due, not yet due, already sent, late
scheduler, cancelled and rescheduled rides; and the schedule that drives them."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from bookings import services as ride_services
from bookings.models import Ride, RideStatus
from notifications import schedules, services
from notifications.models import Notification, Status
from notifications.triggers import pickup_stamp
from tests.factories import make_ride

pytestmark = pytest.mark.django_db

DAY, HOUR = 1440, 60


def booked_ride(
    pet, *, pickup_in: timedelta, booked_ago=timedelta(days=5), status=RideStatus.CONFIRMED, driver=None
):
    ride = make_ride(pet=pet, status=status, driver=driver, scheduled_at=timezone.now() + pickup_in)
    Ride.objects.filter(pk=ride.pk).update(created_at=timezone.now() - booked_ago)
    return ride


def reminders(ride) -> list[tuple[str, str]]:
    rows = Notification.objects.filter(ride=ride, kind="reminder").order_by("occurrence", "channel")
    return [(row.occurrence.split("@")[0], row.channel) for row in rows]


def sweep(committed, now=None):
    with committed():
        return services.notifications_run_due(now=now)


def test_the_24_hour_reminder_is_sent_when_due(pet, committed, mailoutbox):
    ride = booked_ride(pet, pickup_in=timedelta(hours=23, minutes=50))
    assert sweep(committed)["reminders"] == 2
    assert reminders(ride) == [("1440m", "email"), ("1440m", "sms")]
    assert set(Notification.objects.values_list("status", flat=True)) == {Status.SENT}
    assert mailoutbox[0].subject.startswith(f"Reminder: {pet.name}'s pickup is tomorrow")


def test_not_yet_due(pet, committed):
    ride = booked_ride(pet, pickup_in=timedelta(hours=24, minutes=10))
    assert sweep(committed)["reminders"] == 0
    assert reminders(ride) == []


def test_already_sent_is_not_sent_again_however_often_the_sweep_runs(pet, committed):
    ride = booked_ride(pet, pickup_in=timedelta(hours=20))
    sweep(committed)
    sweep(committed)
    sweep(committed, now=timezone.now() + timedelta(minutes=30))
    assert reminders(ride) == [("1440m", "email"), ("1440m", "sms")]


def test_the_1_hour_reminder_follows(pet, committed, mailoutbox):
    ride = booked_ride(pet, pickup_in=timedelta(hours=23))
    sweep(committed)
    sweep(committed, now=timezone.now() + timedelta(hours=22, minutes=5))
    assert reminders(ride) == [("1440m", "email"), ("1440m", "sms"), ("60m", "email"), ("60m", "sms")]
    assert "in an hour" in mailoutbox[-1].subject


def test_a_late_scheduler_sends_only_the_reminder_still_useful(pet, committed):
    # The scheduler was down for a day: pickup is in 40 minutes, the 24 h reminder is stale.
    ride = booked_ride(pet, pickup_in=timedelta(minutes=40))
    sweep(committed)
    assert reminders(ride) == [("60m", "email"), ("60m", "sms")]


def test_a_ride_booked_inside_the_window_skips_that_reminder(pet, committed):
    ride = booked_ride(pet, pickup_in=timedelta(hours=6), booked_ago=timedelta(minutes=5))
    sweep(committed)
    assert reminders(ride) == []  # the confirmation just told them
    sweep(committed, now=timezone.now() + timedelta(hours=5, minutes=1))
    assert reminders(ride) == [("60m", "email"), ("60m", "sms")]


@pytest.mark.parametrize(
    "status", [RideStatus.PENDING_PAYMENT, RideStatus.CANCELLED, RideStatus.EN_ROUTE, RideStatus.COMPLETED]
)
def test_rides_that_are_not_on_get_no_reminder(pet, committed, status, driver):
    driving = status in (RideStatus.EN_ROUTE, RideStatus.COMPLETED)
    ride = booked_ride(pet, pickup_in=timedelta(hours=20), status=status, driver=driver if driving else None)
    sweep(committed)
    assert reminders(ride) == []


def test_cancelling_a_ride_cancels_its_queued_reminders(pet, customer, committed):
    ride = booked_ride(pet, pickup_in=timedelta(hours=20))
    services.notifications_run_due()  # reminders created; their sends not run yet (no commit)
    assert Notification.objects.filter(kind="reminder", status=Status.QUEUED).count() == 2

    with committed():
        ride_services.ride_cancel(ride=ride, by=customer, reason="Vet closed")

    assert set(Notification.objects.filter(kind="reminder").values_list("status", flat=True)) == {
        Status.CANCELLED
    }
    assert Notification.objects.filter(kind="ride_cancelled", status=Status.SENT).count() == 2


def test_a_reminder_for_a_time_the_ride_no_longer_has_is_not_sent(pet):
    ride = booked_ride(pet, pickup_in=timedelta(hours=20))
    services.notifications_run_due()
    # The ride moved without the cancel step (e.g. a data repair): the send itself checks.
    Ride.objects.filter(pk=ride.pk).update(
        scheduled_at=ride.scheduled_at + timedelta(days=2), ends_at=ride.ends_at + timedelta(days=2)
    )
    sms = Notification.objects.get(kind="reminder", channel="sms")
    assert services.notification_send(notification_id=sms.pk) == "cancelled"
    sms.refresh_from_db()
    assert sms.last_error == "The ride moved to a new time."


def test_a_rescheduled_ride_gets_reminders_for_its_new_time(pet, customer, committed):
    ride = booked_ride(pet, pickup_in=timedelta(hours=20))
    sweep(committed)
    assert reminders(ride) == [("1440m", "email"), ("1440m", "sms")]

    new_time = ride.scheduled_at + timedelta(days=2)
    with committed():
        ride_services.ride_reschedule(ride=ride, by=customer, scheduled_at=new_time)
    sweep(committed)
    assert len(reminders(ride)) == 2  # nothing new yet: the new time is two days away

    sweep(committed, now=new_time - timedelta(hours=23))
    ride.refresh_from_db()
    new = Notification.objects.filter(ride=ride, kind="reminder", occurrence__endswith=pickup_stamp(ride))
    assert sorted(new.values_list("channel", flat=True)) == ["email", "sms"]
    assert set(new.values_list("status", flat=True)) == {Status.SENT}
    assert len(reminders(ride)) == 4


def test_reminder_leads_come_from_settings(pet, committed, settings):
    settings.NOTIFY_REMINDER_LEADS = [timedelta(hours=3)]
    ride = booked_ride(pet, pickup_in=timedelta(hours=2, minutes=30))
    sweep(committed)
    assert reminders(ride) == [("180m", "email"), ("180m", "sms")]


def test_the_schedule_exists_once_after_migrate(db):
    [sweep_schedule] = schedules.SCHEDULES
    name = sweep_schedule.name
    assert Schedule.objects.filter(name=name).count() == 1
    Schedule.objects.filter(name=name).delete()
    Schedule.objects.create(name=name, func="old.path", schedule_type=Schedule.DAILY)
    Schedule.objects.create(name=name, func="old.path", schedule_type=Schedule.DAILY)
    call_command("migrate", verbosity=0)  # post_migrate puts it right
    [schedule] = Schedule.objects.filter(name=name)
    assert schedule.func == "notifications.tasks.run_due"
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 1, -1)
