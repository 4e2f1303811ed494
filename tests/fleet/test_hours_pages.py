"""Working hours and days off on the driver portal (/drive/hours/), operations' driver page
and the API (/drivers/me/hours): the same rules everywhere, and nobody reaches another's."""

from datetime import time, timedelta
from http import HTTPStatus

import pytest

from core.dates import operations_today
from fleet.models import TimeOff, WorkingHours
from tests.api.conftest import ApiClient
from tests.factories import DriverProfileFactory

pytestmark = pytest.mark.django_db

WEEK = {"monday": "07:00-12:00, 13:00-19:00", "tuesday": "07:00-19:00", "wednesday": "", "thursday": "",
        "friday": "06:00-24:00", "saturday": "", "sunday": ""}  # fmt: skip


def rows(profile):
    return list(WorkingHours.objects.filter(driver=profile).values_list("weekday", "starts", "ends"))


def test_a_driver_sets_their_week_on_the_portal(driver_client, fleet_driver):
    page = driver_client.get("/drive/hours/")
    assert page.status_code == HTTPStatus.OK and "Save working hours" in page.content.decode()
    response = driver_client.post("/drive/hours/", WEEK)
    assert response.status_code == HTTPStatus.FOUND
    assert rows(fleet_driver.driver_profile) == [
        (0, time(7), time(12)), (0, time(13), time(19)), (1, time(7), time(19)), (4, time(6), time(0)),
    ]  # fmt: skip
    assert 'value="06:00-24:00"' in driver_client.get("/drive/hours/").content.decode()


@pytest.mark.parametrize(
    ("monday", "message"),
    [
        ("19:00-07:00", "19:00–07:00: the end must be after the start."),
        ("07:00-13:00, 12:00-19:00", "07:00–13:00 and 12:00–19:00 overlap."),
        ("7 till 7", "is not an interval like 07:00-19:00."),
        ("07:00-25:00", "is not an interval like 07:00-19:00."),
    ],
)
def test_bad_hours_are_refused_beside_the_day_and_change_nothing(
    driver_client, fleet_driver, monday, message
):
    before = rows(fleet_driver.driver_profile)
    response = driver_client.post("/drive/hours/", {**WEEK, "monday": monday})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert message in " ".join(response.context["form"].errors["monday"])
    assert message.replace("“", "") in response.content.decode().replace("&ldquo;", "").replace("&rdquo;", "")
    assert rows(fleet_driver.driver_profile) == before


def test_days_off_are_added_and_removed_by_their_driver_only(client, driver_client, fleet_driver):
    first = operations_today() + timedelta(days=5)
    response = driver_client.post(
        "/drive/hours/time-off/", {"starts_on": first, "ends_on": first, "reason": "Vet"}
    )
    assert response.status_code == HTTPStatus.FOUND
    off = TimeOff.objects.get(driver=fleet_driver.driver_profile)
    assert "Vet" in driver_client.get("/drive/hours/").content.decode()
    refused = driver_client.post(
        "/drive/hours/time-off/", {"starts_on": first, "ends_on": first - timedelta(days=1)}
    )
    assert refused.status_code == HTTPStatus.FOUND and TimeOff.objects.count() == 1

    other = DriverProfileFactory()
    theirs = TimeOff.objects.create(driver=other, starts_on=first, ends_on=first, reason="Private")
    assert (
        driver_client.post(f"/drive/hours/time-off/{theirs.pk}/delete/").status_code == HTTPStatus.NOT_FOUND
    )
    assert TimeOff.objects.filter(pk=theirs.pk).exists()
    assert "Private" not in driver_client.get("/drive/hours/").content.decode()
    assert driver_client.post(f"/drive/hours/time-off/{off.pk}/delete/").status_code == HTTPStatus.FOUND
    assert not TimeOff.objects.filter(pk=off.pk).exists()


def test_customers_and_anonymous_visitors_cant_reach_hours_pages(client, customer_client, fleet_driver):
    profile = fleet_driver.driver_profile
    for path in ("/drive/hours/", f"/ops/fleet/drivers/{profile.pk}/hours/"):
        response = customer_client.get(path)
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert "Save working hours" not in response.content.decode()
        assert customer_client.post(path, WEEK).status_code == HTTPStatus.FORBIDDEN
    assert rows(profile) == [(day, time(0), time(0)) for day in range(7)]  # unchanged


def test_a_driver_cant_reach_the_ops_hours_page_of_another(driver_client, fleet_driver):
    other = DriverProfileFactory()
    response = driver_client.post(f"/ops/fleet/drivers/{other.pk}/hours/", WEEK)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert len(rows(other)) == 7


def test_operations_set_a_drivers_hours_from_the_driver_page(admin_client, fleet_driver):
    profile = fleet_driver.driver_profile
    assert (
        "Working hours and days off" in admin_client.get(f"/ops/fleet/drivers/{profile.pk}/").content.decode()
    )
    response = admin_client.post(f"/ops/fleet/drivers/{profile.pk}/hours/", {**WEEK, "tuesday": ""})
    assert response.status_code == HTTPStatus.FOUND
    assert [r[0] for r in rows(profile)] == [0, 0, 4]
    bad = admin_client.post(f"/ops/fleet/drivers/{profile.pk}/hours/", {**WEEK, "friday": "10:00-09:00"})
    assert bad.status_code == HTTPStatus.BAD_REQUEST


# --- API -------------------------------------------------------------------------------------


def test_api_hours_round_trip(fleet_driver):
    api = ApiClient(fleet_driver)
    week = [
        {"weekday": 0, "starts": "07:00", "ends": "19:00"},
        {"weekday": 5, "starts": "18:00", "ends": "24:00"},
    ]
    response = api.put("/drivers/me/hours", {"hours": week})
    assert response.status_code == HTTPStatus.OK, response.content
    assert api.get("/drivers/me/hours").json()["hours"] == week


@pytest.mark.parametrize(
    ("week", "field"),
    [
        ([{"weekday": 0, "starts": "10:00", "ends": "09:00"}], "monday"),
        ([{"weekday": 2, "starts": "07:00", "ends": "13:00"},
          {"weekday": 2, "starts": "12:00", "ends": "19:00"}], "wednesday"),
        ([{"weekday": 0, "starts": "7am", "ends": "19:00"}], "hours.0"),
    ],
)  # fmt: skip
def test_api_hours_are_checked_like_the_form(fleet_driver, week, field):
    api = ApiClient(fleet_driver)
    before = rows(fleet_driver.driver_profile)
    response = api.put("/drivers/me/hours", {"hours": week})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert field in response.json()["errors"]
    assert rows(fleet_driver.driver_profile) == before


def test_api_hours_are_the_callers_only(fleet_driver, customer, admin_user):
    other = DriverProfileFactory()
    first = operations_today() + timedelta(days=2)
    theirs = TimeOff.objects.create(driver=other, starts_on=first, ends_on=first, reason="Private")
    api = ApiClient(fleet_driver)
    assert "Private" not in api.get("/drivers/me/hours").content.decode()
    assert api.delete(f"/drivers/me/time-off/{theirs.pk}").status_code == HTTPStatus.NOT_FOUND
    assert TimeOff.objects.filter(pk=theirs.pk).exists()
    for user in (customer, admin_user):
        response = ApiClient(user).put("/drivers/me/hours", {"hours": []})
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert "hours" not in response.json()
    assert len(rows(other)) == 7


def test_api_time_off(fleet_driver):
    api = ApiClient(fleet_driver)
    first = operations_today() + timedelta(days=2)
    created = api.post(
        "/drivers/me/time-off", {"starts_on": str(first), "ends_on": str(first), "reason": "Vet"}
    )
    assert created.status_code == HTTPStatus.CREATED
    assert [t["reason"] for t in api.get("/drivers/me/hours").json()["time_off"]] == ["Vet"]
    backwards = {"starts_on": str(first), "ends_on": str(first - timedelta(days=1))}
    assert api.post("/drivers/me/time-off", backwards).status_code == HTTPStatus.BAD_REQUEST
    assert api.delete(f"/drivers/me/time-off/{created.json()['id']}").status_code == HTTPStatus.NO_CONTENT
