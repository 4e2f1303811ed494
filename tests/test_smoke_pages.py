from http import HTTPStatus

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name",
    [
        "bookings:ride_list",
        "bookings:ride_new",
        "bookings:pet_list",
        "bookings:pet_create",
        "bookings:place_list",
        "bookings:place_create",
        "accounts:profile",
    ],
)
def test_customer_pages_render(customer_client, pet, ride, name):
    assert customer_client.get(reverse(name)).status_code == HTTPStatus.OK


def test_ride_pages_render(customer_client, ride):
    for name in ["bookings:ride_detail", "bookings:ride_reschedule", "bookings:ride_cancel"]:
        assert customer_client.get(reverse(name, args=[ride.pk])).status_code == HTTPStatus.OK


def test_ops_pages_render(admin_client, ride):
    for url in [
        reverse("ops_home"),
        reverse("bookings_ops:ride_list"),
        reverse("bookings_ops:ride_detail", args=[ride.pk]),
    ]:
        assert admin_client.get(url).status_code == HTTPStatus.OK


def test_public_pages_render(client):
    for name in ["home", "account_login", "account_signup", "account_reset_password"]:
        assert client.get(reverse(name)).status_code == HTTPStatus.OK
