"""A customer on a phone saves a place, picks it on the booking form (the script fills the
address and the live quote follows), books, and the ride carries the place's notes."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bookings.models import Ride
from tests.factories import CustomerFactory, PetFactory

pytestmark = pytest.mark.django_db(transaction=True)

HOME = "200 Central Park W, New York, NY 10024"
VET = "510 E 62nd St, New York, NY 10065"


def test_customer_saves_a_place_and_books_from_it(page, live_server, login, shot):
    customer = CustomerFactory(name="Alice Moreno", time_zone="America/New_York")
    PetFactory(owner=customer, name="Biscuit")
    login(page, customer)

    page.get_by_role("button", name="Open menu").click()
    page.get_by_role("link", name="My places").click()
    expect(page.get_by_role("heading", name="My places")).to_be_visible()
    page.get_by_role("link", name="Add your first place").click()
    page.get_by_label("Label").fill("Dr. Patel's clinic")
    page.get_by_label("Kind").select_option("vet")
    page.get_by_label("Address").fill("510 E 62nd St, New York")  # no ZIP code: refused
    page.get_by_role("button", name="Save place").click()
    expect(page.get_by_text("Add the 5-digit ZIP code so we can find this address.")).to_be_visible()
    page.get_by_label("Address").fill(VET)
    page.get_by_label("Notes for the driver").fill("Park behind the building, side door.")
    shot(page, "add-place")
    page.get_by_role("button", name="Save place").click()
    expect(page.get_by_text("is saved. Pick it on the booking form.")).to_be_visible()
    expect(page.get_by_role("heading", name="Dr. Patel's clinic")).to_be_visible()
    shot(page, "places")

    page.goto(f"{live_server.url}/app/rides/new/")
    page.get_by_label("Biscuit").check()
    page.get_by_label("Pickup address").fill(HOME)
    page.get_by_label("Drop off at a saved place or a recent address").select_option(
        label=f"Dr. Patel's clinic · {VET}"
    )
    expect(page.get_by_label("Drop-off address")).to_have_value(VET)
    when = timezone.localtime(timezone.now() + timedelta(days=2)).replace(hour=10, minute=0)
    page.get_by_label("Pickup date and time").fill(when.strftime("%Y-%m-%dT%H:%M"))
    expect(page.get_by_test_id("quote-total")).to_have_text(re.compile(r"\$\d+"))
    shot(page, "book-from-place")
    # Typing another address clears the place, so its notes only go with its own address.
    page.get_by_label("Drop-off address").fill("1 Other St, New York, NY 10001")
    expect(page.get_by_label("Drop off at a saved place or a recent address")).to_have_value("")
    page.get_by_label("Drop off at a saved place or a recent address").select_option(
        label=f"Dr. Patel's clinic · {VET}"
    )
    page.get_by_role("button", name="Continue to payment").click()
    expect(page).to_have_url(re.compile(r"/app/rides/\d+/pay/$"))
    ride = Ride.objects.get()
    assert (ride.dropoff_address, ride.dropoff_notes) == (VET, "Park behind the building, side door.")
