"""On a phone: a driver sets their working week; a customer asks for a time nobody can serve,
is offered the nearest free times, taps one, and books it."""

import re
from datetime import datetime, time, timedelta

import pytest
from playwright.sync_api import expect

from bookings.models import Ride, RideStatus
from core.dates import operations_today, operations_zone
from tests.factories import DriverProfileFactory, PetFactory, make_ride

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.availability]

HOME = "200 Central Park W, New York, NY 10024"
VET = "510 E 62nd St, New York, NY 10065"


def test_a_driver_sets_their_week_and_a_customer_books_a_suggested_time(
    page, live_server, login, shot, customer
):
    day = operations_today() + timedelta(days=3)
    profile = DriverProfileFactory(hours={weekday: [(8 * 60, 18 * 60)] for weekday in range(7)})

    login(page, profile.user)
    page.goto(f"{live_server.url}/drive/hours/")
    page.get_by_label(day.strftime("%A")).fill("08:00-19:00, 18:30-20:00")  # overlapping: refused
    page.get_by_role("button", name="Save working hours").click()
    expect(page.get_by_text("08:00–19:00 and 18:30–20:00 overlap.")).to_be_visible()
    page.get_by_label(day.strftime("%A")).fill("08:00-12:00, 13:00-18:00")
    shot(page, "working-hours")
    page.get_by_role("button", name="Save working hours").click()
    expect(page.get_by_label(day.strftime("%A"))).to_have_value("08:00-12:00, 13:00-18:00")

    # The only driver is already taken at 10:00 that day.
    make_ride(
        status=RideStatus.ASSIGNED,
        driver=profile.user,
        scheduled_at=datetime.combine(day, time(10), operations_zone()),
    )
    PetFactory(owner=customer, name="Biscuit")
    page.context.clear_cookies()
    login(page, customer)
    page.goto(f"{live_server.url}/app/rides/new/")
    page.get_by_label("Biscuit").check()
    page.get_by_label("Pickup address").fill(HOME)
    page.get_by_label("Drop-off address").fill(VET)
    wanted = datetime.combine(day, time(10, 5), customer.tzinfo)
    page.get_by_label("Pickup date and time").fill(wanted.strftime("%Y-%m-%dT%H:%M"))
    expect(page.get_by_test_id("unservable")).to_be_visible()
    suggestions = page.get_by_test_id("suggested-time")
    expect(suggestions.first).to_be_visible()
    shot(page, "suggested-times")
    suggestions.first.click()
    expect(page.get_by_test_id("servable")).to_be_visible()
    chosen = page.get_by_label("Pickup date and time").input_value()
    assert chosen != wanted.strftime("%Y-%m-%dT%H:%M")
    page.get_by_role("button", name="Continue to payment").click()
    expect(page).to_have_url(re.compile(r"/app/rides/\d+/pay/$"))
    booked = Ride.objects.get(customer=customer)
    assert booked.scheduled_at.astimezone(customer.tzinfo).strftime("%Y-%m-%dT%H:%M") == chosen
