"""The customer's ride page while the ride is under way (issue 13, point 13): the status is
the headline, the steps show as a progress bar, and the customer can call or text the driver."""

import pytest
from django.urls import reverse

from bookings.models import RideStatus
from bookings.selectors import ride_progress
from tests.factories import make_ride, on_duty_driver

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (RideStatus.CONFIRMED, ["current", "todo", "todo", "todo", "todo"]),
        (RideStatus.EN_ROUTE, ["done", "done", "current", "todo", "todo"]),
        (RideStatus.COMPLETED, ["done"] * 5),
        (RideStatus.CANCELLED, []),
        (RideStatus.PENDING_PAYMENT, []),
    ],
)
def test_the_progress_bar_marks_each_step(customer, status, expected):
    driver = on_duty_driver("Dana Diaz")
    ride = make_ride(
        customer=customer, status=status, driver=driver if status != RideStatus.PENDING_PAYMENT else None
    )
    assert [state for _label, state in ride_progress(ride)] == expected


def test_under_way_the_status_leads_the_page_and_the_driver_can_be_reached(customer_client, customer):
    driver = on_duty_driver("Dana Diaz")
    driver.phone = "+12125550188"
    driver.save()
    ride = make_ride(customer=customer, status=RideStatus.EN_ROUTE, driver=driver)
    html = customer_client.get(reverse("bookings:ride_detail", args=[ride.pk])).content.decode()
    assert f"Dana is on the way to pick up {ride.pet_names}" in html
    assert 'aria-current="step"' in html and "Now: </span>On the way" in html
    assert 'href="tel:+12125550188"' in html and 'href="sms:+12125550188"' in html


def test_the_drivers_number_is_not_shown_once_the_ride_is_over(customer_client, customer):
    driver = on_duty_driver("Dana Diaz")
    driver.phone = "+12125550188"
    driver.save()
    ride = make_ride(customer=customer, status=RideStatus.COMPLETED, driver=driver)
    html = customer_client.get(reverse("bookings:ride_detail", args=[ride.pk])).content.decode()
    assert "+12125550188" not in html
