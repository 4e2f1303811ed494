"""A rescheduled ride keeps its driver while they are still eligible for the new window
(dispatch's rules: at work then, vehicle fits, no other ride then); otherwise it goes back to
dispatch. Fleet answers through bookings.availability (bookings doesn't import fleet). A
wait-and-return's two legs keep the driver, or go back, together."""

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse

from bookings import services
from bookings.models import RideStatus
from core.dates import operations_today, operations_zone
from fleet.models import TimeOff
from notifications.models import Notification
from tests.factories import DriverProfileFactory, make_ride, make_trip

pytestmark = [pytest.mark.django_db, pytest.mark.availability]

DAY = operations_today() + timedelta(days=3)
ALL_WEEK = {day: [(7 * 60, 20 * 60)] for day in range(7)}


def at(hh: int, mm: int = 0, day=DAY) -> datetime:
    return datetime.combine(day, time(hh, mm), operations_zone())


@pytest.fixture
def held(customer, pet):
    """An assigned ride at 10:00, its driver working 07:00–20:00 every day; another driver too,
    so the fleet can serve the new time even when this one can't."""
    profile = DriverProfileFactory(hours=ALL_WEEK)
    DriverProfileFactory(hours=ALL_WEEK)
    ride = make_ride(pet=pet, status=RideStatus.ASSIGNED, driver=profile.user, scheduled_at=at(10))
    return ride, profile


def test_a_driver_still_free_at_the_new_time_keeps_the_ride(customer, held, committed):
    ride, profile = held
    with committed():
        moved = services.ride_reschedule(ride=ride, by=customer, scheduled_at=at(14))

    moved.refresh_from_db()
    assert (moved.status, moved.driver_id, moved.scheduled_at) == (
        RideStatus.ASSIGNED,
        profile.user_id,
        at(14),
    )
    event = moved.events.get(action="reschedule")
    assert (event.from_status, event.to_status) == (RideStatus.ASSIGNED, RideStatus.ASSIGNED)
    assert Notification.objects.filter(user=customer, kind="ride_rescheduled").exists()  # messages did go
    assert not Notification.objects.filter(user=profile.user, kind="driver_ride_removed").exists()


def test_a_driver_off_that_day_loses_it_to_dispatch(customer, held):
    ride, profile = held
    TimeOff.objects.create(driver=profile, starts_on=DAY + timedelta(days=1), ends_on=DAY + timedelta(days=1))

    moved = services.ride_reschedule(ride=ride, by=customer, scheduled_at=at(10, day=DAY + timedelta(days=1)))

    moved.refresh_from_db()
    assert (moved.status, moved.driver_id) == (RideStatus.CONFIRMED, None)
    assert moved.events.get(action="reschedule").to_status == RideStatus.CONFIRMED


def test_a_driver_with_another_ride_then_loses_it(customer, held):
    ride, profile = held
    make_ride(status=RideStatus.ASSIGNED, driver=profile.user, scheduled_at=at(15))

    moved = services.ride_reschedule(ride=ride, by=customer, scheduled_at=at(15, 15))

    moved.refresh_from_db()
    assert (moved.status, moved.driver_id) == (RideStatus.CONFIRMED, None)


def test_a_driver_not_working_at_the_new_hour_loses_it(customer, held):
    ride, _profile = held
    DriverProfileFactory()  # works at any hour: the fleet serves 21:00
    moved = services.ride_reschedule(ride=ride, by=customer, scheduled_at=at(21))  # after 20:00
    assert (moved.status, moved.driver_id) == (RideStatus.CONFIRMED, None)


def test_moving_a_little_does_not_clash_with_itself(customer, held):
    ride, profile = held
    moved = services.ride_reschedule(ride=ride, by=customer, scheduled_at=at(10, 30))
    assert (moved.status, moved.driver_id) == (RideStatus.ASSIGNED, profile.user_id)


def test_a_wait_and_return_keeps_its_driver_for_both_legs(customer, pet):
    profile = DriverProfileFactory(hours=ALL_WEEK)
    out, back = make_trip(
        pets=[pet], trip="wait_return", wait_minutes=30, scheduled_at=at(10),
        status=RideStatus.ASSIGNED, driver=profile.user, back_driver=profile.user,
    )  # fmt: skip

    services.ride_reschedule(ride=out, by=customer, scheduled_at=at(13))

    out.refresh_from_db()
    back.refresh_from_db()
    assert (out.status, out.driver_id) == (RideStatus.ASSIGNED, profile.user_id)
    assert (back.status, back.driver_id) == (RideStatus.ASSIGNED, profile.user_id)
    assert back.scheduled_at == out.ends_at


def test_a_wait_and_return_goes_back_to_dispatch_together(customer, pet):
    profile = DriverProfileFactory(hours=ALL_WEEK)
    DriverProfileFactory(hours=ALL_WEEK)
    out, back = make_trip(
        pets=[pet], trip="wait_return", wait_minutes=30, scheduled_at=at(10),
        status=RideStatus.ASSIGNED, driver=profile.user, back_driver=profile.user,
    )  # fmt: skip
    make_ride(status=RideStatus.ASSIGNED, driver=profile.user, scheduled_at=at(14))  # inside the new stretch

    services.ride_reschedule(ride=out, by=customer, scheduled_at=at(13))

    out.refresh_from_db()
    back.refresh_from_db()
    assert (out.status, out.driver_id) == (RideStatus.CONFIRMED, None)
    assert (back.status, back.driver_id) == (RideStatus.CONFIRMED, None)


def test_through_the_portal_the_ride_page_still_names_the_driver(customer_client, customer, held):
    ride, profile = held
    page = customer_client.get(reverse("bookings:ride_reschedule", args=[ride.pk])).content.decode()
    assert "keeps your ride if they are free at the new time" in page

    local = at(14).astimezone(operations_zone()).strftime("%Y-%m-%dT%H:%M")
    response = customer_client.post(
        reverse("bookings:ride_reschedule", args=[ride.pk]), {"scheduled_at": local}, follow=True
    )

    ride.refresh_from_db()
    assert (ride.status, ride.driver_id) == (RideStatus.ASSIGNED, profile.user_id)
    assert profile.user.name.split()[0] in response.content.decode()
