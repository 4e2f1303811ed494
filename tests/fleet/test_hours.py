"""Working hours and days off: what they mean (fleet.hours), the defaults, and dispatch
skipping a driver who is off at a ride's window."""

from datetime import date, datetime, time, timedelta

import pytest

from core.dates import operations_zone
from core.errors import DomainError
from fleet import services
from fleet.dispatch import candidates, eligible_candidates
from fleet.hours import interval_errors, parse_clock, working_time
from fleet.models import TimeOff, WorkingHours
from tests.factories import NEAR, DriverProfileFactory, make_ride, on_duty_driver

pytestmark = pytest.mark.django_db

MONDAY = date(2030, 1, 7)  # a Monday, far enough ahead to book


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), operations_zone())


def reasons_for(driver, ride):
    return next(c for c in candidates(ride) if c.driver.pk == driver.pk).reasons


def test_clock_parsing_takes_24_00_as_the_end_of_the_day():
    assert (parse_clock("07:30"), parse_clock("24:00")) == (450, 1440)
    for bad in ("7", "25:00", "07:60", "24:01", "ab:cd", ""):
        with pytest.raises(ValueError):
            parse_clock(bad)


def test_interval_rules_ends_after_starts_and_no_overlaps():
    assert interval_errors([(420, 720), (720, 1140)]) == []  # touching is fine
    assert interval_errors([(600, 600)]) == ["10:00–10:00: the end must be after the start."]
    assert interval_errors([(420, 800), (720, 1140)]) == ["07:00–13:20 and 12:00–19:00 overlap."]


def test_spans_join_across_midnight_and_days_off_remove_whole_days():
    class H:
        def __init__(self, weekday, s, e):
            self.weekday, self.starts_minute, self.ends_minute = weekday, s, e

    hours = [H(0, 18 * 60, 1440), H(1, 0, 120), H(2, 420, 1140)]
    spans = working_time(hours, [], MONDAY, MONDAY + timedelta(days=2))
    assert spans.covers(at(MONDAY, 23, 30), at(MONDAY + timedelta(days=1), 1))
    assert not spans.covers(at(MONDAY, 17, 30), at(MONDAY, 18, 30))

    class Off:
        starts_on = ends_on = MONDAY + timedelta(days=2)

    spans = working_time(hours, [Off()], MONDAY, MONDAY + timedelta(days=2))
    assert not spans.covers(at(MONDAY + timedelta(days=2), 9), at(MONDAY + timedelta(days=2), 10))


def test_new_drivers_get_the_default_hours_every_day(settings, committed):
    settings.DRIVER_DEFAULT_HOURS = "06:00-22:00"
    vehicle = dict(vehicle_make="Ford", vehicle_model="Transit", plate="NEW1", pet_capacity=2,
                   max_crate_size=3, pet_types=["dog"])  # fmt: skip
    profile = services.driver_create(name="New", email="new@whiskers.example", phone="", vehicle=vehicle)
    rows = list(WorkingHours.objects.filter(driver=profile).values_list("weekday", "starts", "ends"))
    assert rows == [(day, time(6), time(22)) for day in range(7)]


def test_setting_hours_replaces_them_and_bad_hours_change_nothing():
    profile = DriverProfileFactory()
    services.driver_set_hours(profile=profile, hours={0: [(420, 720), (780, 1140)], 4: [(420, 1140)]})
    assert [str(h) for h in profile.working_hours.all()] == [
        "Monday 07:00–12:00", "Monday 13:00–19:00", "Friday 07:00–19:00"
    ]  # fmt: skip
    with pytest.raises(DomainError) as refused:
        services.driver_set_hours(profile=profile, hours={0: [(420, 800), (720, 1140)], 1: [(600, 500)]})
    assert set(refused.value.errors) == {"monday", "tuesday"}
    assert profile.working_hours.count() == 3


def test_dispatch_skips_a_driver_off_at_the_rides_window(customer):
    ride = make_ride(customer=customer, scheduled_at=at(MONDAY, 20))
    late = on_duty_driver("Late Larry", NEAR)
    early = DriverProfileFactory(user__name="Early Erin", hours={0: [(6 * 60, 19 * 60)]}).user
    until_20_10 = DriverProfileFactory(user__name="Short Sam", hours={0: [(6 * 60, 20 * 60 + 10)]}).user
    assert reasons_for(early, ride) == ("Not working then (hours or day off)",)
    assert reasons_for(until_20_10, ride) == ("Not working then (hours or day off)",)  # window runs past
    assert [c.driver for c in eligible_candidates(ride)] == [late]


def test_dispatch_skips_a_driver_on_a_day_off(customer, admin_user):
    ride = make_ride(customer=customer, scheduled_at=at(MONDAY, 10))
    driver = on_duty_driver("Dana Diaz", NEAR)
    TimeOff.objects.create(driver=driver.driver_profile, starts_on=MONDAY, ends_on=MONDAY, reason="Vet")
    assert "Not working then (hours or day off)" in reasons_for(driver, ride)
    with pytest.raises(DomainError, match="not working then"):
        services.dispatch_assign(ride=ride, driver=driver, by=admin_user)
