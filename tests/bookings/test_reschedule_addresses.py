"""Rescheduling may also change a one-way ride's addresses (issue 13, point 4): re-quoted under
the same rules, the saved place's notes dropped for a stop that moves; a round trip's legs keep
their shared addresses."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings import services
from bookings.models import RideEvent
from core.errors import DomainError
from tests.factories import DROPOFF, make_ride, make_trip

pytestmark = pytest.mark.django_db

FAR_VET = "1 Main St, Brooklyn, NY 11201"


def test_a_new_drop_off_is_re_quoted_and_drops_the_old_places_notes(customer):
    ride = make_ride(customer=customer, dropoff_notes="Side door")
    old_price, old_miles = ride.price_cents, ride.distance_miles
    moved = services.ride_reschedule(
        ride=ride, by=customer, scheduled_at=ride.scheduled_at, dropoff_address=FAR_VET
    )
    assert moved.dropoff_address == FAR_VET and moved.dropoff_notes == ""
    assert moved.distance_miles != old_miles and moved.price_cents != old_price
    assert moved.scheduled_at == ride.scheduled_at
    assert f"Drop-off now {FAR_VET}." in RideEvent.objects.get(ride=ride, action="reschedule").note


def test_a_bad_new_address_changes_nothing(customer):
    ride = make_ride(customer=customer)
    with pytest.raises(DomainError) as excinfo:
        services.ride_reschedule(
            ride=ride, by=customer, scheduled_at=ride.scheduled_at, pickup_address="Nowhere without a zip"
        )
    assert "pickup_address" in excinfo.value.errors
    ride.refresh_from_db()
    assert ride.dropoff_address == DROPOFF and not ride.events.filter(action="reschedule").exists()


def test_a_round_trips_legs_keep_their_addresses(customer):
    outbound, _back = make_trip(customer=customer)
    with pytest.raises(DomainError) as excinfo:
        services.ride_reschedule(
            ride=outbound, by=customer, scheduled_at=outbound.scheduled_at, dropoff_address=FAR_VET
        )
    assert "share their addresses" in excinfo.value.errors["dropoff_address"][0]


def test_the_reschedule_page_moves_the_addresses(customer_client, customer):
    ride = make_ride(customer=customer)
    page = customer_client.get(reverse("bookings:ride_reschedule", args=[ride.pk])).content.decode()
    assert 'name="dropoff_address"' in page and DROPOFF in page
    when = timezone.localtime(ride.scheduled_at + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = customer_client.post(
        reverse("bookings:ride_reschedule", args=[ride.pk]),
        {"scheduled_at": when, "pickup_address": ride.pickup_address, "dropoff_address": FAR_VET},
    )
    assert response.status_code == HTTPStatus.FOUND
    ride.refresh_from_db()
    assert ride.dropoff_address == FAR_VET
