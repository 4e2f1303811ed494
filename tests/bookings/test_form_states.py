"""The booking and reschedule forms stay in step with their live price: each quote re-validates
the form and carries every filled-in field's errors as they are now (applied beside the fields
by static/js/app.js; tests/browser/test_form_errors.py walks that), and the summary above the
form names the fields to fix."""

import json
import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.bookings.test_service_area import LOS_ANGELES, OUTSIDE, feedback_beside
from tests.bookings.test_views import booking_data, local_input

pytestmark = pytest.mark.django_db


def live_errors(page: str) -> dict:
    match = re.search(r'<script id="quote-field-errors" type="application/json">(.*?)</script>', page, re.S)
    assert match, "the quote carries no field errors"
    return json.loads(match.group(1))


def summary(page: str) -> str:
    match = re.search(r"<div [^>]*data-form-summary[^>]*>(.*?)</div>", page, re.S)
    return unescape(match.group(1)).strip()


def test_a_refused_booking_names_the_fields_to_correct(customer_client, pet):
    data = booking_data(pet, dropoff_address=LOS_ANGELES, scheduled_at="")
    page = customer_client.post(reverse("bookings:ride_new"), data).content.decode()

    assert summary(page) == "Please correct these fields: Drop-off address, Pickup date and time."
    assert "Please correct the highlighted fields." not in page
    assert feedback_beside(page, "dropoff_address") == OUTSIDE
    assert feedback_beside(page, "scheduled_at") == "This field is required."


def test_a_missing_time_alone_is_named_not_a_bare_please_correct(customer_client, pet):
    page = customer_client.post(
        reverse("bookings:ride_new"), booking_data(pet, scheduled_at="")
    ).content.decode()

    assert summary(page) == "Please correct this field: Pickup date and time."
    assert 'role="alert" data-form-summary hidden' not in page


def test_the_live_quote_clears_the_errors_of_fields_now_fixed(customer_client, pet):
    page = customer_client.post(reverse("bookings:ride_quote"), booking_data(pet)).content.decode()

    live = live_errors(page)
    assert live["summary"] == ""
    for name in ("pets", "pickup_address", "dropoff_address", "scheduled_at"):
        assert live["fields"][name] == [], name
    assert 'data-testid="quote-total"' in page


def test_the_live_quote_gives_the_errors_of_filled_fields_only(customer_client, pet):
    data = booking_data(pet, dropoff_address=LOS_ANGELES, scheduled_at="")
    live = live_errors(customer_client.post(reverse("bookings:ride_quote"), data).content.decode())

    assert live["fields"]["dropoff_address"] == [OUTSIDE]
    assert live["fields"]["pickup_address"] == []
    assert "scheduled_at" not in live["fields"]  # not filled in yet: the page keeps what it shows
    assert live["summary"] == "Please correct this field: Drop-off address."


def test_an_empty_reschedule_says_what_to_do_and_the_panel_speaks_of_time_only(customer_client, ride):
    page = customer_client.post(reverse("bookings:ride_reschedule", args=[ride.pk]), {"scheduled_at": ""})
    page = page.content.decode()

    assert feedback_beside(page, "scheduled_at") == "Choose the new pickup date and time."
    assert "This field is required." not in page
    assert summary(page) == "Please correct this field: New pickup date and time."
    assert "Pick a new time to see the price." in page
    assert "who is travelling" not in page and "both addresses" not in page


def test_the_reschedule_quote_clears_the_time_error_once_the_time_is_good(customer_client, ride):
    url = reverse("bookings:ride_reschedule_quote", args=[ride.pk])
    bad = customer_client.post(url, {"scheduled_at": "2020-05-05T10:00"}).content.decode()
    assert live_errors(bad)["fields"]["scheduled_at"] == ["That time has already passed."]
    assert "who is travelling" not in bad

    good = customer_client.post(url, {"scheduled_at": local_input(ride.scheduled_at + timedelta(days=1))})
    good = good.content.decode()

    assert live_errors(good) == {"fields": {"scheduled_at": []}, "summary": ""}
    assert 'data-testid="quote-total"' in good and "New price" in good


def test_a_reschedule_refused_as_a_whole_is_said_above_the_form(customer_client, customer):
    from tests.factories import make_ride

    ride = make_ride(customer=customer, scheduled_at=timezone.now() + timedelta(minutes=90))
    page = customer_client.post(
        reverse("bookings:ride_reschedule", args=[ride.pk]),
        {"scheduled_at": local_input(timezone.now() + timedelta(days=2))},
    ).content.decode()

    assert summary(page).startswith("Rides can be moved up to 2 hours before pickup.")
    assert feedback_beside(page, "scheduled_at") == ""
