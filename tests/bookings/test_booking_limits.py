"""Bookings are limited per customer and per IP address, in the portal and the API alike:
an unpaid booking holds a driver's slot until it lapses. Over a limit: a clear error (429)
and nothing written."""

from http import HTTPStatus

import pytest
from django.urls import reverse

from bookings.models import Ride, RideEvent
from core.ratelimit import parse_rates
from tests.api.conftest import ApiClient
from tests.api.test_customer_api import request_body
from tests.bookings.test_views import booking_data
from tests.factories import CustomerFactory, PetFactory

pytestmark = pytest.mark.django_db

TOO_MANY = "You have made too many bookings in a short time. Try again in"


@pytest.fixture
def two_an_hour(settings):
    settings.BOOKING_RATE_PER_USER = parse_rates("2/h")


def test_the_booking_form_refuses_a_customer_over_the_limit(customer_client, pet, two_an_hour):
    answers = [customer_client.post(reverse("bookings:ride_new"), booking_data(pet)) for _ in range(3)]
    assert [a.status_code for a in answers] == [
        HTTPStatus.FOUND,
        HTTPStatus.FOUND,
        HTTPStatus.TOO_MANY_REQUESTS,
    ]
    page = answers[2].content.decode()
    assert TOO_MANY in page and 'role="alert"' in page
    assert answers[2].context["form"]["pickup_address"].value()  # what they typed is still there
    assert Ride.objects.count() == 2 and RideEvent.objects.count() == 2


def test_the_api_refuses_a_customer_over_the_limit(customer, pet, two_an_hour):
    api = ApiClient(customer)
    answers = [api.post("/bookings", request_body(pet)) for _ in range(3)]
    assert [a.status_code for a in answers] == [
        HTTPStatus.CREATED,
        HTTPStatus.CREATED,
        HTTPStatus.TOO_MANY_REQUESTS,
    ]
    assert answers[2].json()["detail"].startswith(TOO_MANY)
    assert Ride.objects.count() == 2


def test_portal_and_api_share_one_budget(customer_client, customer, pet, two_an_hour):
    customer_client.post(reverse("bookings:ride_new"), booking_data(pet))
    ApiClient(customer).post("/bookings", request_body(pet))
    response = customer_client.post(reverse("bookings:ride_new"), booking_data(pet))
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert Ride.objects.count() == 2


def test_many_accounts_from_one_address_are_limited_too(client, settings):
    settings.BOOKING_RATE_PER_IP = parse_rates("2/h")
    answers = []
    for _ in range(3):
        pet = PetFactory(owner=CustomerFactory())
        client.force_login(pet.owner)
        answers.append(
            client.post(reverse("bookings:ride_new"), booking_data(pet), REMOTE_ADDR="203.0.113.9")
        )
    assert [a.status_code for a in answers] == [
        HTTPStatus.FOUND,
        HTTPStatus.FOUND,
        HTTPStatus.TOO_MANY_REQUESTS,
    ]
    assert "Too many bookings were made from your network in a short time." in answers[2].content.decode()
    assert Ride.objects.count() == 2
    # Another address books.
    response = client.post(reverse("bookings:ride_new"), booking_data(pet), REMOTE_ADDR="198.51.100.4")
    assert response.status_code == HTTPStatus.FOUND


def test_the_default_limits(settings):
    assert [(r.count, r.seconds) for r in settings.BOOKING_RATE_PER_USER] == [(10, 3600)]
    assert [(r.count, r.seconds) for r in settings.BOOKING_RATE_PER_IP] == [(30, 3600)]
