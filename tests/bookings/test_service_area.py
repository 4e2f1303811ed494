"""Where we drive: both addresses within SERVICE_AREA_RADIUS_MILES of the base, and no ride
longer than BOOKING_MAX_MILES. The rule is in `ride_plan`, so every way of pricing a ride
(the booking form, its live quote, round trips, reschedule, the API) refuses the same."""

import re
from datetime import timedelta
from html import unescape
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings.models import Ride
from bookings.services import ride_plan
from core.errors import DomainError
from tests.api.conftest import ApiClient
from tests.api.test_customer_api import request_body
from tests.bookings.test_views import booking_data, local_input
from tests.factories import DROPOFF, PICKUP, make_ride

pytestmark = pytest.mark.django_db

LOS_ANGELES = "200 N Spring St, Los Angeles, CA 90012"
BROOKLYN = "1 Pierrepont St, Brooklyn, NY 11201"
OUTSIDE = "We don't drive there yet: we serve within 30 miles of Manhattan."


def feedback_beside(page: str, field: str) -> str:
    """The error text crispy shows under the field (its `id_<field>_error` block), or ""."""
    match = re.search(rf'<div id="id_{field}_error"[^>]*>(.*?)</div>', page, re.S)
    return unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip() if match else ""


def test_the_defaults_serve_30_miles_around_manhattan_rides_up_to_60(settings):
    assert settings.SERVICE_AREA_NAME == "Manhattan"
    assert settings.SERVICE_AREA_RADIUS_MILES == 30
    assert settings.BOOKING_MAX_MILES == 60


@pytest.mark.parametrize("field", ["pickup_address", "dropoff_address"])
def test_an_address_outside_the_area_is_refused_beside_it(customer, pet, field):
    addresses = {"pickup_address": PICKUP, "dropoff_address": DROPOFF, field: LOS_ANGELES}
    with pytest.raises(DomainError) as caught:
        ride_plan(customer=customer, pets=[pet], scheduled_at=timezone.now() + timedelta(days=2), **addresses)
    assert caught.value.errors == {field: [OUTSIDE]}


def test_a_ride_longer_than_the_maximum_is_refused(customer, pet, settings):
    settings.BOOKING_MAX_MILES = 5  # 10024 → 11201 is about 9 road miles
    with pytest.raises(DomainError) as caught:
        ride_plan(
            customer=customer,
            pets=[pet],
            pickup_address=PICKUP,
            dropoff_address=BROOKLYN,
            scheduled_at=timezone.now() + timedelta(days=2),
        )
    (message,) = caught.value.errors["dropoff_address"]
    assert "we take rides up to 5 miles" in message


def test_the_booking_form_says_so_beside_the_address_and_books_nothing(customer_client, pet):
    response = customer_client.post(
        reverse("bookings:ride_new"), booking_data(pet, dropoff_address=LOS_ANGELES)
    )
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert feedback_beside(page, "dropoff_address") == OUTSIDE
    assert feedback_beside(page, "pickup_address") == ""
    assert "3,194" not in page and "Continue to payment" in page
    assert not Ride.objects.exists()


def test_the_live_quote_gives_no_price_outside_the_area(customer_client, pet):
    response = customer_client.post(
        reverse("bookings:ride_quote"), booking_data(pet, dropoff_address=LOS_ANGELES)
    )
    page = unescape(response.content.decode())
    assert 'data-testid="quote-total"' not in page
    assert OUTSIDE in page


def test_a_round_trip_to_outside_the_area_is_refused(customer_client, pet):
    data = booking_data(
        pet,
        dropoff_address=LOS_ANGELES,
        trip="round_trip",
        return_mode="at",
        return_at=local_input(timezone.now() + timedelta(days=3)),
    )
    response = customer_client.post(reverse("bookings:ride_new"), data)
    assert feedback_beside(response.content.decode(), "dropoff_address") == OUTSIDE
    assert not Ride.objects.exists()


def test_the_api_refuses_it_with_the_field_error(customer, pet):
    response = ApiClient(customer).post("/bookings", request_body(pet, dropoff_address=LOS_ANGELES))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"]["dropoff_address"] == [OUTSIDE]
    assert not Ride.objects.exists()


def test_a_reschedule_is_planned_by_the_same_rule(customer_client, customer, settings):
    ride = make_ride(customer=customer, dropoff=BROOKLYN)
    settings.BOOKING_MAX_MILES = 5  # the area shrank since it was booked
    response = customer_client.post(
        reverse("bookings:ride_reschedule", args=[ride.pk]),
        {"scheduled_at": local_input(ride.scheduled_at + timedelta(days=1))},
    )
    assert response.status_code == HTTPStatus.OK
    assert "we take rides up to 5 miles" in response.content.decode()


def test_the_landing_page_says_where_we_drive(client):
    page = client.get(reverse("home")).content.decode()
    assert "within 30 miles of Manhattan" in page
    assert "up to 60 miles" in page
