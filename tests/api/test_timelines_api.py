"""The API's timelines are the portals': a customer's booking reads the customer's timeline
(no flag, dispatch detail, admin name, other driver or anyone's reason but their own);
operations' answers read every event as written."""

from http import HTTPStatus

import pytest

from bookings import services
from fleet.services import AUTO_DISPATCH_FLAG
from tests.factories import NEAR, DriverProfileFactory

pytestmark = pytest.mark.django_db

SECRETS = [
    AUTO_DISPATCH_FLAG,
    "Auto-dispatch: best eligible driver",
    "Dana said the owner was rude",
    "Eli called in sick",
    "Fraud check on the card",
    "Olivia Ops",
    "Dana",
    "Needs attention",
    "Driver declined",
    "Back to dispatch",
]


@pytest.fixture
def handled(ride, driver, other_driver, admin_user):
    services.ride_flag(ride=ride, reason=AUTO_DISPATCH_FLAG)
    services.ride_assign(
        ride=ride, driver=driver, by=None, note="Auto-dispatch: best eligible driver (0.4 mi)."
    )
    services.ride_decline(ride=ride, by=driver, reason="Dana said the owner was rude")
    services.ride_assign(ride=ride, driver=other_driver, by=admin_user)
    services.ride_unassign(ride=ride, by=admin_user, reason="Eli called in sick")
    services.ride_cancel(ride=ride, by=admin_user, reason="Fraud check on the card")
    return ride


def test_a_customers_booking_reads_their_timeline_only(customer_api, handled):
    response = customer_api.get(f"/bookings/{handled.pk}")
    assert response.status_code == HTTPStatus.OK
    text = response.content.decode()
    leaked = [secret for secret in SECRETS if secret in text]
    assert not leaked, leaked
    timeline = response.json()["timeline"]
    assert [(e["action"], e["title"], e["note"]) for e in timeline] == [
        ("assign", "Driver assigned", ""),
        ("decline", "Your driver changed", "We're finding another driver for your ride."),
        ("assign", "Driver assigned", ""),
        ("unassign", "Your driver changed", "We're finding another driver for your ride."),
        ("cancel", "Cancelled", "Our team cancelled this ride."),
    ]


def test_a_customers_own_reason_comes_back_to_them(customer_api, ride):
    assert customer_api.delete(f"/bookings/{ride.pk}?reason=Vet+moved+it").status_code == 200
    [cancel] = customer_api.get(f"/bookings/{ride.pk}").json()["timeline"]
    assert (cancel["title"], cancel["note"]) == ("Cancelled", "Vet moved it")


def test_operations_assign_answer_reads_every_event(admin_api, ride, driver, other_driver):
    for user in (driver, other_driver):
        DriverProfileFactory(user=user, last_lat=NEAR[0], last_lng=NEAR[1])
    services.ride_flag(ride=ride, reason=AUTO_DISPATCH_FLAG)
    admin_api.post(f"/admin/rides/{ride.pk}/assign", {"driver_id": driver.pk})
    response = admin_api.post(
        f"/admin/rides/{ride.pk}/assign", {"driver_id": other_driver.pk, "reason": "Eli is closer"}
    )
    assert response.status_code == HTTPStatus.OK, response.content
    timeline = response.json()["timeline"]
    assert [(e["title"], e["note"]) for e in timeline] == [
        ("Needs attention", AUTO_DISPATCH_FLAG),
        ("Driver assigned", ""),
        ("Driver changed", "Eli is closer"),
    ]
