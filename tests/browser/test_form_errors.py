"""A field's error goes once the field is fixed, without posting the form again: the live
quote re-validates and puts each field's errors beside it (static/js/app.js)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import CustomerFactory, PetFactory, make_ride

pytestmark = pytest.mark.django_db(transaction=True)

LOS_ANGELES = "200 N Spring St, Los Angeles, CA 90012"
INVALID = re.compile(r"\bis-invalid\b")
OUTSIDE = "We don't drive there yet: we serve within 30 miles of Manhattan."


def local_input(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_booking_errors_follow_the_fields(page, live_server, login):
    customer = CustomerFactory(time_zone="America/New_York")
    PetFactory(owner=customer, name="Biscuit")
    login(page, customer)
    page.goto(f"{live_server.url}/app/rides/new/")
    page.get_by_label("Biscuit").check()
    page.get_by_label("Pickup address").fill("200 Central Park W, New York, NY 10024")
    page.get_by_label("Drop-off address").fill(LOS_ANGELES)
    page.get_by_role("button", name="Continue to payment").click()

    dropoff = page.get_by_label("Drop-off address")
    expect(dropoff).to_have_class(INVALID)
    expect(page.locator("#id_dropoff_address_error")).to_have_text(OUTSIDE)
    expect(page.locator("[data-form-summary]")).to_have_text(
        "Please correct these fields: Drop-off address, Pickup date and time."
    )

    dropoff.fill("510 E 62nd St, New York, NY 10065")
    page.get_by_label("Pickup date and time").fill(local_input(timezone.now() + timedelta(days=2)))
    page.get_by_label("Pickup date and time").dispatch_event("change")

    expect(page.get_by_test_id("quote-total")).to_be_visible()
    expect(page.locator("#id_dropoff_address_error")).to_have_count(0)
    expect(page.locator("#id_scheduled_at_error")).to_have_count(0)
    expect(dropoff).not_to_have_class(INVALID)
    expect(page.locator("[data-form-summary]")).to_be_hidden()


def test_reschedule_time_error_goes_once_the_time_is_good(page, live_server, login):
    customer = CustomerFactory(time_zone="America/New_York")
    ride = make_ride(customer=customer)
    login(page, customer)
    page.goto(f"{live_server.url}/app/rides/{ride.pk}/reschedule/")
    page.get_by_role("button", name="Move my ride").click()
    field = page.get_by_label("New pickup date and time")
    expect(field).to_have_class(INVALID)
    expect(page.locator("#id_scheduled_at_error")).to_have_text("Choose the new pickup date and time.")

    field.fill(local_input(ride.scheduled_at + timedelta(days=1)))
    field.dispatch_event("change")

    expect(page.get_by_test_id("quote-total")).to_be_visible()
    expect(page.locator("#id_scheduled_at_error")).to_have_count(0)
    expect(field).not_to_have_class(INVALID)
    expect(page.locator("#quote")).not_to_contain_text("who is travelling")
