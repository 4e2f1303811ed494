"""Round trips through the API: quotes with the return leg, booking both legs, the legs
linked both ways, calling an open return, cancelling both or one."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.conf import settings
from django.utils import timezone

from bookings.models import Ride, RideStatus
from tests.factories import DROPOFF, PICKUP, make_open_return, make_trip

pytestmark = pytest.mark.django_db


def at(hours: float) -> str:
    moment = timezone.localtime(timezone.now() + timedelta(days=3)).replace(hour=9, minute=0, second=0)
    return (moment + timedelta(hours=hours)).isoformat()


def request_body(pet, **overrides):
    return {
        "pets": [pet.pk],
        "pickup_address": PICKUP,
        "dropoff_address": DROPOFF,
        "scheduled_at": at(0),
        **overrides,
    }


def test_a_quote_for_a_round_trip_has_the_return_leg_and_the_total(customer_api, pet):
    one_way = customer_api.post("/quotes", request_body(pet)).json()
    body = customer_api.post("/quotes", request_body(pet, trip="round_trip", return_at=at(4))).json()

    assert body["trip"] == "round_trip"
    assert body["total_cents"] == one_way["total_cents"]  # the top level is the ride out
    back = body["return_leg"]
    assert back["total_cents"] == one_way["total_cents"]  # same way back, same time of day
    assert body["trip_total_cents"] == 2 * one_way["total_cents"]
    assert back["availability"] == {"servable": True, "suggested_times": []}
    assert one_way["return_leg"] is None and one_way["trip_total_cents"] == one_way["total_cents"]


def test_a_wait_and_return_quote_charges_the_wait_on_the_way_back(customer_api, pet):
    one_way = customer_api.post("/quotes", request_body(pet)).json()["total_cents"]
    body = customer_api.post("/quotes", request_body(pet, trip="wait_return", wait_minutes=45)).json()
    wait = [line for line in body["return_leg"]["lines"] if line["kind"] == "wait"]
    assert wait == [{"kind": "wait", "label": "Waiting 45 min (15 free, 2 × 15 min)", "cents": 1200}]
    assert body["trip_total_cents"] == 2 * one_way + 1200


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"trip": "round_trip"}, "return_at"),
        ({"trip": "round_trip", "return_at": at(0.1)}, "return_at"),
        ({"trip": "wait_return", "wait_minutes": 25}, "wait_minutes"),
    ],
)
def test_an_incomplete_trip_is_a_400_beside_its_field(customer_api, pet, overrides, field):
    response = customer_api.post("/bookings", request_body(pet, **overrides))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert field in response.json()["errors"]
    assert not Ride.objects.exists()


def test_an_unknown_trip_is_a_422(customer_api, pet):
    response = customer_api.post("/bookings", request_body(pet, trip="there_and_back"))
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert not Ride.objects.exists()


def test_booking_a_round_trip_links_both_legs(customer_api, pet):
    created = customer_api.post("/bookings", request_body(pet, trip="round_trip", return_on_call=True))
    assert created.status_code == HTTPStatus.CREATED
    outbound = created.json()
    assert (outbound["trip"], outbound["leg"], outbound["outbound_id"]) == ("round_trip", "outbound", None)
    back = customer_api.get(f"/bookings/{outbound['return_id']}").json()
    assert (back["leg"], back["outbound_id"], back["return_id"]) == ("return", outbound["id"], None)
    assert back["on_call_until"] is not None
    assert (back["pickup_address"], back["dropoff_address"]) == (DROPOFF, PICKUP)
    listed = customer_api.get("/bookings?status=all").json()["items"]
    assert {(r["id"], r["leg"]) for r in listed} == {(outbound["id"], "outbound"), (back["id"], "return")}


def test_the_booking_list_reads_the_legs_without_a_query_per_ride(
    customer_api, customer, django_assert_max_num_queries
):
    for _ in range(3):
        make_trip(customer=customer)
    with django_assert_max_num_queries(8):
        items = customer_api.get("/bookings?status=all").json()["items"]
    assert len(items) == 6 and sum(1 for r in items if r["return_id"]) == 3


def test_calling_an_open_return(customer_api, customer):
    outbound, back = make_open_return(customer=customer)
    before = timezone.now()
    response = customer_api.post(f"/bookings/{back.pk}/call-return")
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["on_call_until"] is None
    assert timezone.datetime.fromisoformat(body["scheduled_at"]) >= before + settings.TRIP_CALL_NOTICE
    again = customer_api.post(f"/bookings/{back.pk}/call-return")
    assert again.status_code == HTTPStatus.CONFLICT


def test_operations_call_a_return_through_the_admin_api(admin_api, customer):
    _outbound, back = make_open_return(customer=customer, outbound_status=RideStatus.PICKED_UP)
    response = admin_api.post(f"/admin/rides/{back.pk}/call-return")
    assert response.status_code == HTTPStatus.OK and response.json()["on_call_until"] is None


def test_another_customers_legs_are_404_and_unchanged(other_customer_api, customer):
    outbound, back = make_trip(customer=customer, on_call=True)
    assert other_customer_api.post(f"/bookings/{back.pk}/call-return").status_code == HTTPStatus.NOT_FOUND
    assert other_customer_api.get(f"/bookings/{back.pk}").status_code == HTTPStatus.NOT_FOUND
    assert other_customer_api.delete(f"/bookings/{outbound.pk}").status_code == HTTPStatus.NOT_FOUND
    assert set(Ride.objects.values_list("status", flat=True)) == {RideStatus.CONFIRMED}


def test_cancelling_the_ride_out_answers_for_both_legs(customer_api, customer):
    outbound, back = make_trip(customer=customer)
    body = customer_api.delete(f"/bookings/{outbound.pk}").json()
    assert (body["id"], body["status"], body["fee_cents"]) == (outbound.pk, "cancelled", 0)
    assert body["return_leg"] == {
        "id": back.pk,
        "status": "cancelled",
        "fee_cents": 0,
        "currency": "usd",
        "return_leg": None,
    }


def test_cancelling_the_return_keeps_the_ride_out(customer_api, customer):
    outbound, back = make_trip(customer=customer)
    body = customer_api.delete(f"/bookings/{back.pk}").json()
    assert body["return_leg"] is None
    assert customer_api.get(f"/bookings/{outbound.pk}").json()["status"] == "confirmed"
