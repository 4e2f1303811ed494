"""The whole product through the API alone: a customer registers, confirms the mailed link,
books and pays (against localstripe); a driver, picked by auto-dispatch, drives the ride to
the end; the customer sees it completed and the fare captured."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from bookings.models import Ride
from tests.api.conftest import ApiClient
from tests.factories import NEAR, PNG_BYTES, TEST_PASSWORD, DriverFactory, DriverProfileFactory, pickup_soon
from tests.mail import confirm_mailed_address

pytestmark = pytest.mark.django_db


def ok(response, status=200):
    assert response.status_code == status, response.content
    return response.json()


def test_register_book_pay_drive_and_capture(stripe_js, committed, settings):
    settings.DISPATCH_AUTO = True
    driver = DriverFactory(name="Dana Diaz")
    DriverProfileFactory(user=driver, last_lat=NEAR[0], last_lng=NEAR[1])

    customer = ApiClient()
    ok(
        customer.post(
            "/register",
            {
                "name": "Alice Moreno",
                "email": "alice@example.com",
                "password": "a-long-unusual-pass",
                "phone": "+12125550100",
            },
        ),
        202,
    )
    confirm_mailed_address(Client(), "alice@example.com")  # the link in the mail, in a browser
    customer.token = ok(
        customer.post("/login", {"email": "alice@example.com", "password": "a-long-unusual-pass"})
    )["access"]
    pet = ok(
        customer.post("/pets", {"name": "Biscuit", "type": "dog", "weight_lb": "24", "crate_required": True}),
        201,
    )
    ride_request = {
        "pets": [pet["id"]],
        "pickup_address": "200 Central Park W, New York, NY 10024",
        "dropoff_address": "120 Atlantic Ave, Brooklyn, NY 11201",
        "scheduled_at": (timezone.now() + timedelta(days=2)).isoformat(),
    }
    quote = ok(customer.post("/quotes", ride_request))
    booking = ok(customer.post("/bookings", {**ride_request, "notes": "Ring twice"}), 201)
    assert (booking["status"], booking["price_cents"]) == ("pending_payment", quote["total_cents"])
    assert booking["payment_url"]

    with committed():
        step = ok(customer.post("/payments", {"booking_id": booking["id"]}))
    stripe_js.save_card(step["client_secret"])  # the app confirms the card with Stripe's SDK
    with committed():  # the hold is checked with Stripe, the ride confirmed, auto-dispatch runs
        step = ok(customer.post("/payments", {"booking_id": booking["id"]}))
    assert step["outcome"] == "paid"
    payment_id = step["payment"]["id"]

    driver_api = ApiClient()
    driver_api.token = ok(driver_api.post("/login", {"email": driver.email, "password": TEST_PASSWORD}))[
        "access"
    ]
    assigned = ok(driver_api.get("/rides/assigned"))["items"]
    assert [r["id"] for r in assigned] == [booking["id"]]
    assert assigned[0]["notes"] == "Ring twice"
    path = f"/rides/{booking['id']}/status"
    photo = lambda: SimpleUploadedFile("handover.png", PNG_BYTES, content_type="image/png")  # noqa: E731
    pickup_soon(Ride.objects.get(pk=booking["id"]))  # the day comes: the driver may set off
    with committed():
        for fields, files in (
            ({"action": "accept"}, None),
            ({"action": "start"}, None),
            ({"action": "pickup"}, {"photo": photo()}),
            ({"action": "complete"}, {"photo": photo()}),
        ):
            ok(driver_api.put_form(path, fields, files))

    detail = ok(customer.get(f"/bookings/{booking['id']}"))
    assert detail["status"] == "completed"
    assert [e["action"] for e in detail["timeline"]] == [
        "book",
        "confirm",
        "assign",
        "accept",
        "start",
        "pickup",
        "complete",
    ]
    payment = ok(customer.get(f"/payments/{payment_id}"))
    assert (payment["status"], payment["captured_cents"]) == ("captured", booking["price_cents"])
    assert [(t["kind"], t["status"]) for t in payment["transactions"]] == [
        ("authorization", "succeeded"),
        ("capture", "succeeded"),
    ]
