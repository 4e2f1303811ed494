"""The customer's ride page follows the ride live (HTMX polling) and shows the driver's panel."""

from decimal import Decimal
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings.models import RideStatus
from fleet.models import DriverProfile
from tests.factories import make_ride

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def ride_url(ride):
    return reverse("bookings:ride_detail", args=[ride.pk])


def test_an_open_ride_page_polls_and_the_poll_returns_only_the_live_region(customer_client, ride):
    page = customer_client.get(ride_url(ride)).content.decode()
    assert 'id="ride-live" hx-get="' in page and 'hx-trigger="every 10s' in page

    poll = customer_client.get(ride_url(ride), **HTMX)
    body = poll.content.decode()
    assert body.lstrip().startswith('<div id="ride-live"') and "<html" not in body
    assert "Timeline" in body and "Confirmed" in body
    assert "HX-Request" in poll["Vary"]


@pytest.mark.parametrize("status", [RideStatus.COMPLETED, RideStatus.CANCELLED, RideStatus.NO_SHOW])
def test_polling_stops_once_the_ride_has_ended(status, customer_client, customer, fleet_driver):
    ride = make_ride(customer=customer, status=status, driver=fleet_driver)
    poll = customer_client.get(ride_url(ride), **HTMX).content.decode()
    assert poll.lstrip().startswith('<div id="ride-live">')
    assert "hx-trigger" not in poll


def test_another_customers_ride_is_404_for_the_poll_too(client, other_customer, ride):
    client.force_login(other_customer)
    assert client.get(ride_url(ride), **HTMX).status_code == HTTPStatus.NOT_FOUND


def test_the_driver_panel_shows_who_is_coming(customer_client, customer, fleet_driver):
    ride = make_ride(customer=customer, status=RideStatus.ASSIGNED, driver=fleet_driver)
    body = customer_client.get(ride_url(ride), **HTMX).content.decode()
    profile = fleet_driver.driver_profile
    assert "Your driver" in body and fleet_driver.name in body and f"plate {profile.plate}" in body
    assert "Waiting for Dana to confirm." in body


def test_the_last_position_shows_only_while_this_ride_is_under_way(customer_client, customer, fleet_driver):
    ride = make_ride(customer=customer, status=RideStatus.EN_ROUTE, driver=fleet_driver)
    DriverProfile.objects.filter(pk=fleet_driver.pk).update(
        last_lat=Decimal("40.781234"),
        last_lng=Decimal("-73.971234"),
        position_at=timezone.now(),
        position_ride=ride,
    )
    body = customer_client.get(ride_url(ride), **HTMX).content.decode()
    assert "Last seen" in body and "mlat=40.781234&amp;mlon=-73.971234" in body

    # A position reported for another ride is not this customer's to see.
    other = make_ride(customer=customer, status=RideStatus.COMPLETED, driver=fleet_driver)
    DriverProfile.objects.filter(pk=fleet_driver.pk).update(position_ride=other)
    body = customer_client.get(ride_url(ride), **HTMX).content.decode()
    assert "Last seen" not in body and "position shows here once" in body

    # Nor is it shown once the ride is over.
    DriverProfile.objects.filter(pk=fleet_driver.pk).update(position_ride=ride)
    ride.status = RideStatus.COMPLETED
    ride.save()
    assert "Last seen" not in customer_client.get(ride_url(ride), **HTMX).content.decode()


def test_the_poll_is_a_handful_of_queries(
    customer_client, customer, fleet_driver, django_assert_max_num_queries
):
    ride = make_ride(customer=customer, status=RideStatus.EN_ROUTE, driver=fleet_driver)
    # session, user, ride, its pets, driver profile, billing's panel (payments, transactions), timeline
    with django_assert_max_num_queries(8):
        customer_client.get(ride_url(ride), **HTMX)
