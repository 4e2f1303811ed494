"""Drivers' endpoints and operations' assignment through the API."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from bookings.models import Ride, RideStatus
from fleet.models import DriverProfile
from tests.factories import NEAR, PNG_BYTES, DriverProfileFactory, make_ride, soon

pytestmark = pytest.mark.django_db


@pytest.fixture
def vehicle(driver):
    return DriverProfileFactory(user=driver, last_lat=NEAR[0], last_lng=NEAR[1])


@pytest.fixture
def assigned(pet, driver, vehicle):
    """Picked up soon: its driver may set off now."""
    return make_ride(pet=pet, status=RideStatus.ASSIGNED, driver=driver, scheduled_at=soon())


def png(name="handover.png"):
    return SimpleUploadedFile(name, PNG_BYTES, content_type="image/png")


def test_assigned_rides_lists_mine_with_what_i_can_do(driver_api, assigned, other_driver):
    make_ride(status=RideStatus.ASSIGNED, driver=other_driver)
    body = driver_api.get("/rides/assigned").json()
    assert [item["id"] for item in body["items"]] == [assigned.pk]
    item = body["items"][0]
    assert item["allowed_actions"] == ["accept", "decline", "start"]
    assert (item["pets"][0]["name"], item["owner"]["phone"]) == ("Biscuit", "+12125550123")


def test_assigned_rides_filters_by_day_and_status(driver_api, driver, vehicle, pet):
    today = make_ride(
        pet=pet, status=RideStatus.ASSIGNED, driver=driver, scheduled_at=timezone.now() + timedelta(days=2)
    )
    later = make_ride(
        pet=pet, status=RideStatus.EN_ROUTE, driver=driver, scheduled_at=timezone.now() + timedelta(days=5)
    )
    day = timezone.localtime(today.scheduled_at, driver.tzinfo).date().isoformat()
    assert [r["id"] for r in driver_api.get("/rides/assigned", data={"day": day}).json()["items"]] == [
        today.pk
    ]
    assert [
        r["id"] for r in driver_api.get("/rides/assigned", data={"status": "en_route"}).json()["items"]
    ] == [later.pk]
    assert driver_api.get("/rides/assigned", data={"status": "flying"}).status_code == 422


@pytest.mark.parametrize("count", [5, 40])
def test_assigned_rides_query_count_is_flat(
    driver_api, driver, vehicle, count, django_assert_max_num_queries
):
    for n in range(count):
        make_ride(
            status=RideStatus.ASSIGNED,
            driver=driver,
            scheduled_at=timezone.now() + timedelta(days=2, hours=3 * n),
        )
    with django_assert_max_num_queries(4):
        assert driver_api.get("/rides/assigned", data={"page_size": 100}).status_code == 200


def test_setting_off_days_early_is_refused_with_when_it_opens(driver_api, driver, vehicle, pet, settings):
    settings.RIDE_START_WINDOW = timedelta(minutes=90)
    pickup = timezone.now() + timedelta(days=2)
    ride = make_ride(pet=pet, status=RideStatus.ASSIGNED, driver=driver, scheduled_at=pickup)
    path = f"/rides/{ride.pk}/status"
    assert driver_api.put_form(path, {"action": "accept"}).json()["allowed_actions"] == []
    response = driver_api.put_form(path, {"action": "start"})
    assert response.status_code == HTTPStatus.CONFLICT
    opens = timezone.localtime(pickup - timedelta(minutes=90))
    message = response.json()["detail"]
    assert message == (
        f"You can set off from {opens:%a %-d %b}, {opens:%-I:%M %p}, 90 minutes before pickup."
    ), message
    ride.refresh_from_db()
    assert ride.status == RideStatus.ASSIGNED and not ride.events.filter(action="start").exists()


def test_driver_steps_a_ride_to_completed_with_photos(driver_api, assigned):
    path = f"/rides/{assigned.pk}/status"
    assert driver_api.put_form(path, {"action": "accept"}).json()["allowed_actions"] == ["start"]
    assert driver_api.put_form(path, {"action": "start"}).json()["status"] == "en_route"
    assert driver_api.post("/drivers/me/position", {"lat": 40.78, "lng": -73.97}).json() == {
        "ride_id": assigned.pk
    }
    response = driver_api.put_form(path, {"action": "pickup", "note": "Happy dog"}, {"photo": png()})
    assert response.json()["status"] == "picked_up", response.content
    response = driver_api.put_form(path, {"action": "complete"}, {"photo": png()})
    assert response.json()["status"] == "completed"
    assert assigned.events.exclude(photo="").count() == 2


def test_pickup_without_photo_or_with_a_fake_one_is_refused(driver_api, driver, vehicle, pet):
    ride = make_ride(pet=pet, status=RideStatus.EN_ROUTE, driver=driver)
    path = f"/rides/{ride.pk}/status"
    response = driver_api.put_form(path, {"action": "pickup"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "photo" in response.json()["errors"]
    fake = SimpleUploadedFile("cat.jpg", b"just text, not a picture", content_type="image/jpeg")
    response = driver_api.put_form(path, {"action": "pickup"}, {"photo": fake})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "photo" in response.json()["errors"]
    ride.refresh_from_db()
    assert ride.status == RideStatus.EN_ROUTE


def test_illegal_steps_are_409_and_unknown_actions_400(driver_api, assigned):
    path = f"/rides/{assigned.pk}/status"
    response = driver_api.put_form(path, {"action": "complete"}, {"photo": png()})
    assert response.status_code == HTTPStatus.CONFLICT
    assert driver_api.put_form(path, {"action": "teleport"}).json()["errors"] == {
        "action": ["Choose one of: accept, decline, start, pickup, complete, no_show."]
    }
    assert driver_api.put_form(path, {}).status_code == 422
    assigned.refresh_from_db()
    assert assigned.status == RideStatus.ASSIGNED


def test_no_show_needs_a_reason(driver_api, driver, vehicle, pet):
    ride = make_ride(pet=pet, status=RideStatus.EN_ROUTE, driver=driver)
    assert driver_api.put_form(f"/rides/{ride.pk}/status", {"action": "no_show"}).status_code == 400
    response = driver_api.put_form(f"/rides/{ride.pk}/status", {"action": "no_show", "reason": "Nobody home"})
    assert response.json()["status"] == "no_show"


def test_decline_hands_the_ride_back(driver_api, assigned, auto_dispatch_off):
    refused = driver_api.put_form(f"/rides/{assigned.pk}/status", {"action": "decline"})
    assert refused.status_code == HTTPStatus.BAD_REQUEST and "reason" in refused.json()["errors"]
    response = driver_api.put_form(f"/rides/{assigned.pk}/status", {"action": "decline", "reason": "Too far"})
    assert response.status_code == HTTPStatus.OK
    assigned.refresh_from_db()
    assert (assigned.status, assigned.driver) == (RideStatus.CONFIRMED, None)


@pytest.fixture
def auto_dispatch_off(settings):
    settings.DISPATCH_AUTO = False


def test_another_drivers_ride_is_404(request, assigned, other_driver):
    from tests.api.conftest import ApiClient

    other = ApiClient(other_driver)
    assert other.put_form(f"/rides/{assigned.pk}/status", {"action": "accept"}).status_code == 404
    assigned.refresh_from_db()
    assert assigned.accepted_at is None


@pytest.mark.parametrize("role_api", ["customer_api", "admin_api"])
def test_driver_endpoints_are_for_drivers(request, role_api, assigned):
    api = request.getfixturevalue(role_api)
    assert api.get("/rides/assigned").status_code == HTTPStatus.FORBIDDEN
    assert (
        api.put_form(f"/rides/{assigned.pk}/status", {"action": "accept"}).status_code == HTTPStatus.FORBIDDEN
    )
    assert api.put("/drivers/me/duty", {"on_duty": False}).status_code == HTTPStatus.FORBIDDEN
    assert api.post("/drivers/me/position", {"lat": 1, "lng": 2}).status_code == HTTPStatus.FORBIDDEN


def test_driver_endpoints_need_a_token(anon_api, assigned):
    assert anon_api.get("/rides/assigned").status_code == HTTPStatus.UNAUTHORIZED
    assert anon_api.put_form(f"/rides/{assigned.pk}/status", {"action": "accept"}).status_code == 401
    assert anon_api.put("/drivers/me/duty", {"on_duty": False}).status_code == 401
    assert anon_api.post("/drivers/me/position", {"lat": 1, "lng": 2}).status_code == 401


def test_duty(driver_api, vehicle):
    assert driver_api.put("/drivers/me/duty", {"on_duty": False}).json() == {"on_duty": False}
    assert DriverProfile.objects.get(pk=vehicle.pk).on_duty is False
    assert driver_api.put("/drivers/me/duty", {"on_duty": "maybe"}).status_code == 422


def test_duty_without_a_vehicle_is_refused(driver_api):
    assert driver_api.put("/drivers/me/duty", {"on_duty": True}).status_code == HTTPStatus.BAD_REQUEST


def test_position_only_during_a_ride_and_in_range(driver_api, vehicle):
    assert driver_api.post("/drivers/me/position", {"lat": 40.7, "lng": -73.9}).status_code == 409
    response = driver_api.post("/drivers/me/position", {"lat": 91, "lng": 0})
    assert response.status_code == 422 and "lat" in response.json()["errors"]


# --- Operations ----------------------------------------------------------------------


def test_admin_assigns_then_reassigns_with_a_reason(admin_api, ride, driver, vehicle, other_driver):
    DriverProfileFactory(user=other_driver, last_lat=NEAR[0], last_lng=NEAR[1])
    response = admin_api.post(f"/admin/rides/{ride.pk}/assign", {"driver_id": driver.pk})
    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["driver"]["id"] == driver.pk
    assert admin_api.post(f"/admin/rides/{ride.pk}/assign", {"driver_id": other_driver.pk}).status_code == 400
    response = admin_api.post(
        f"/admin/rides/{ride.pk}/assign", {"driver_id": other_driver.pk, "reason": "Closer"}
    )
    assert response.json()["driver"]["id"] == other_driver.pk


def test_admin_assign_refuses_ineligible_and_overlapping(admin_api, ride, driver, vehicle, pet):
    make_ride(pet=pet, status=RideStatus.ASSIGNED, driver=driver, scheduled_at=ride.scheduled_at)
    response = admin_api.post(f"/admin/rides/{ride.pk}/assign", {"driver_id": driver.pk})
    assert response.status_code == HTTPStatus.CONFLICT
    ride.refresh_from_db()
    assert ride.driver is None


def test_admin_assign_bad_input_and_denials(admin_api, customer_api, driver_api, anon_api, ride, customer):
    path = f"/admin/rides/{ride.pk}/assign"
    assert admin_api.post(path, {"driver_id": customer.pk}).json()["errors"] == {
        "driver_id": ["Choose a driver."]
    }
    assert admin_api.post(path, {}).status_code == 422
    assert admin_api.post("/admin/rides/999999/assign", {"driver_id": 1}).status_code == 404
    assert customer_api.post(path, {"driver_id": 1}).status_code == 403
    assert driver_api.post(path, {"driver_id": 1}).status_code == 403
    assert anon_api.post(path, {"driver_id": 1}).status_code == 401
    assert Ride.objects.get(pk=ride.pk).driver is None
