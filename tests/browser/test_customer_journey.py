"""A new customer on a phone: sign up, confirm the mailed link, add a pet, book with a live
quote, pay, find the ride, filter, open it, reschedule it, cancel it."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bookings.models import Ride, RideStatus
from tests.billing.fixtures import GOOD_CARD
from tests.browser.conftest import type_card
from tests.mail import link_in_mail

pytestmark = pytest.mark.django_db(transaction=True)


def local_input(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_customer_books_pays_reschedules_and_cancels(page, live_server, shot, stripe_server, caplog):
    caplog.set_level("INFO", logger="notifications.sms")  # the development SMS backend prints texts
    url = live_server.url
    page.goto(f"{url}/")
    shot(page, "landing")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Your name").fill("Alice Moreno")
    page.get_by_label("Email").fill("alice@example.com")
    page.get_by_label("Mobile phone (optional)").fill("+1 212 555 0100")
    page.get_by_label("Password").first.fill("a-long-unusual-pass")
    page.get_by_label("Password (again)").fill("a-long-unusual-pass")
    shot(page, "signup")
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()
    shot(page, "check-your-inbox")
    page.goto(url + link_in_mail("alice@example.com", "/accounts/confirm-email/"))
    page.get_by_role("button", name="Confirm").click()

    # A number given at signup is texted nothing until its owner types back our code.
    expect(page).to_have_url(f"{url}/accounts/profile/#phone")
    panel = page.locator("#phone")
    expect(panel).to_contain_text("Verify (212) 555-0100")
    panel.get_by_role("button", name="Text me a code").click()
    expect(panel).to_contain_text("We are texting a code to (212) 555-0100.")
    code = re.search(r"your code is (\d{6})\.", caplog.text)[1]
    panel.get_by_label("Code from the text").fill(code)
    shot(page, "verify-phone")
    panel.get_by_role("button", name="Verify my number").click()
    expect(panel).to_contain_text("Your number is verified")
    expect(panel.get_by_text("Verified", exact=True)).to_be_visible()

    page.get_by_role("button", name="Open menu").click()
    page.get_by_role("link", name="My rides").click()
    expect(page).to_have_url(f"{url}/app/")
    expect(page.get_by_text("No upcoming rides.")).to_be_visible()

    # Booking without a pet sends the customer to add one first.
    page.get_by_role("link", name="Book a ride").first.click()
    expect(page.get_by_role("heading", name="Add a pet")).to_be_visible()
    page.get_by_label("Name").fill("Biscuit")
    page.get_by_label("Type").select_option("dog")
    page.get_by_label("Breed").fill("Beagle")
    page.get_by_label("Weight (lb)").fill("24")
    page.get_by_label("Travels in a crate").check()
    shot(page, "add-pet")
    page.get_by_role("button", name="Add pet").click()
    expect(page.get_by_text("Biscuit is added")).to_be_visible()
    shot(page, "pets")

    page.get_by_role("link", name="Book a ride for Biscuit").click()
    expect(page.get_by_label("Biscuit")).to_be_checked()  # the pet the link was for
    quote = page.locator("#quote")
    expect(quote).to_contain_text("to see the price")
    page.get_by_label("Pickup address").fill("200 Central Park W, New York, NY 10024")
    page.get_by_label("Drop-off address").fill("Brooklyn Dog Spa, 120 Atlantic Ave, Brooklyn, NY 11201")
    # Two days ahead (four over a weekend): inside the card-hold window, so checkout holds the fare.
    when = timezone.localtime(timezone.now() + timedelta(days=2)).replace(hour=10, minute=0)
    while when.weekday() >= 5:  # a weekday morning: no surcharges in the first quote
        when += timedelta(days=1)
    page.get_by_label("Pickup date and time").fill(local_input(when))
    page.get_by_label("Pickup date and time").dispatch_event("change")
    total = page.get_by_test_id("quote-total")
    expect(total).to_be_visible()
    expect(quote).to_contain_text("Crate handling")
    first_total = total.inner_text()
    shot(page, "quote")

    # Moving the pickup to Saturday night changes the price, live.
    saturday_night = when + timedelta(days=(5 - when.weekday()))
    page.get_by_label("Pickup date and time").fill(local_input(saturday_night.replace(hour=21)))
    page.get_by_label("Pickup date and time").dispatch_event("change")
    expect(quote).to_contain_text("Weekend +15%")
    expect(total).not_to_have_text(first_total)
    page.get_by_label("Pickup date and time").fill(local_input(when))
    page.get_by_label("Pickup date and time").dispatch_event("change")
    expect(total).to_have_text(first_total)

    page.get_by_role("button", name="Continue to payment").click()
    expect(page).to_have_url(re.compile(r"/app/rides/\d+/pay/$"))
    pay = page.get_by_role("button", name=re.compile(r"Hold \$[\d.]+ and book"))
    expect(pay).to_be_enabled()  # Stripe.js has loaded and mounted the card field
    type_card(page, GOOD_CARD)
    pay.click()
    expect(page.get_by_text("Biscuit's ride is booked.")).to_be_visible()
    expect(page.locator("#ride-status")).to_contain_text("Confirmed")
    shot(page, "ride-detail")
    ride = Ride.objects.get()

    # The list, and the status filter swapped in place by HTMX.
    page.get_by_role("link", name="← My rides").click()
    card = page.get_by_role("article").filter(has_text="Biscuit")
    expect(card).to_be_visible()
    page.get_by_role("link", name="Completed").click()
    expect(page).to_have_url(re.compile(r"status=completed"))
    expect(page.get_by_text("No rides here yet.")).to_be_visible()
    page.get_by_role("link", name="All").click()
    expect(card).to_be_visible()
    shot(page, "ride-list")
    card.get_by_role("link").click()

    # Reschedule a day later, with the new price shown before committing.
    page.get_by_role("link", name="Reschedule").click()
    later = when + timedelta(days=1)
    page.get_by_label("New pickup date and time").fill(local_input(later))
    page.get_by_label("New pickup date and time").dispatch_event("change")
    expect(page.locator("#quote")).to_contain_text("Total")
    shot(page, "reschedule")
    page.get_by_role("button", name="Move my ride").click()
    expect(page.get_by_text("Ride moved.")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text("Rescheduled")
    ride.refresh_from_db()
    assert timezone.localtime(ride.scheduled_at).strftime("%Y-%m-%dT%H:%M") == local_input(later)

    # Cancel, after seeing the terms.
    page.get_by_role("link", name="Cancel ride").click()
    expect(page.get_by_text("Cancelling now is free")).to_be_visible()
    shot(page, "cancel-confirm")
    page.get_by_role("button", name="Yes, cancel the ride").click()
    expect(page.locator("#ride-status")).to_contain_text("Cancelled")
    shot(page, "cancelled")
    ride.refresh_from_db()
    assert ride.status == RideStatus.CANCELLED
