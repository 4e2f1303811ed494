"""On a phone: a customer saves home and the vet, books two pets on a round trip between
them, pays once in the real (localstripe) checkout, and sees both legs, each held."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from billing.models import PaymentStatus
from bookings.models import Ride, RideStatus
from tests.billing.fixtures import GOOD_CARD
from tests.browser.conftest import type_card
from tests.factories import CustomerFactory, PetFactory

pytestmark = pytest.mark.django_db(transaction=True)

HOME = "200 Central Park W, New York, NY 10024"
VET = "510 E 62nd St, New York, NY 10065"


def save_place(page, live_server, label, kind, address):
    page.goto(f"{live_server.url}/app/places/new/")
    page.get_by_label("Label").fill(label)
    page.get_by_label("Kind").select_option(kind)
    page.get_by_label("Address").fill(address)
    page.get_by_role("button", name="Save place").click()
    expect(page.get_by_text("is saved. Pick it on the booking form.")).to_be_visible()


def test_two_pets_on_a_round_trip_between_saved_places(page, live_server, login, shot, stripe_server):
    customer = CustomerFactory(name="Alice Moreno", time_zone="America/New_York")
    PetFactory(owner=customer, name="Biscuit")
    PetFactory(owner=customer, name="Rex")
    login(page, customer)
    save_place(page, live_server, "Home", "home", HOME)
    save_place(page, live_server, "Dr. Patel's clinic", "vet", VET)

    page.goto(f"{live_server.url}/app/rides/new/")
    page.get_by_label("Biscuit").check()
    page.get_by_label("Rex").check()
    page.get_by_label("Pick up from a saved place or a recent address").select_option(label=f"Home · {HOME}")
    page.get_by_label("Drop off at a saved place or a recent address").select_option(
        label=f"Dr. Patel's clinic · {VET}"
    )
    day = timezone.localtime(timezone.now() + timedelta(days=2))
    page.get_by_label("Pickup date and time").fill(day.replace(hour=10, minute=0).strftime("%Y-%m-%dT%H:%M"))
    # The return's fields show once "Round trip" is chosen.
    expect(page.get_by_label("Return date and time")).to_be_hidden()
    page.get_by_label("Round trip").check()
    page.get_by_label("At a time I choose").check()
    page.get_by_label("Return date and time").fill(day.replace(hour=13, minute=0).strftime("%Y-%m-%dT%H:%M"))
    expect(page.get_by_test_id("quote-leg")).to_have_count(2)
    expect(page.locator("#quote")).to_contain_text("Total for both rides")
    expect(page.locator("#quote")).to_contain_text("Extra pet: Rex")
    shot(page, "round-trip-quote")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    page.get_by_role("button", name="Continue to payment").click()
    expect(page).to_have_url(re.compile(r"/app/rides/\d+/pay/$"))
    outbound = Ride.objects.get(outbound__isnull=True)
    back = outbound.return_leg
    total = (outbound.price_cents + back.price_cents) / 100
    pay = page.get_by_role("button", name=f"Hold ${total:,.2f} and book")
    expect(pay).to_be_enabled()
    shot(page, "round-trip-checkout")
    type_card(page, GOOD_CARD)
    pay.click()

    # Two holds at localstripe (the ride out, then the return) while the customer waits.
    expect(page).to_have_url(f"{live_server.url}/app/rides/{outbound.pk}/", timeout=20_000)
    expect(page.get_by_text("Biscuit and Rex's round trip is booked.")).to_be_visible()
    expect(page.get_by_test_id("other-leg")).to_contain_text(f"Return #{back.pk}")
    shot(page, "round-trip-booked")
    page.get_by_test_id("other-leg").get_by_role("link").click()
    expect(page.get_by_role("heading", name="Biscuit and Rex's return")).to_be_visible()
    expect(page.locator("#ride-status")).to_contain_text("Confirmed")
    expect(page.get_by_role("link", name="Cancel the return only")).to_be_visible()
    shot(page, "round-trip-return")

    for ride in (outbound, back):
        ride.refresh_from_db()
        assert ride.status == RideStatus.CONFIRMED
        assert ride.payments.get().status == PaymentStatus.AUTHORIZED
    assert (back.pickup_address, back.dropoff_address) == (VET, HOME)
    assert [p.name for p in back.party_pets] == ["Biscuit", "Rex"]
