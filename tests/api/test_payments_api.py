"""Payments and operations through the API, against the session's localstripe."""

from http import HTTPStatus

import pytest

from billing.models import Payment
from bookings import services as rides
from bookings.models import RideStatus
from tests.billing.fixtures import DECLINED_AT_SAVE, NEEDS_3DS
from tests.factories import DriverFactory, PetFactory, make_ride, pickup_soon

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(pet):
    return make_ride(pet=pet, status=RideStatus.PENDING_PAYMENT)


def checkout(api, ride, committed):
    with committed():
        response = api.post("/payments", {"booking_id": ride.pk})
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def test_pay_a_booking_through_the_api(customer_api, pending, stripe_js, committed):
    step = checkout(customer_api, pending, committed)
    assert (step["outcome"], step["confirm_with"]) == ("card", "confirmCardSetup")
    assert step["client_secret"].startswith("seti_") and step["publishable_key"]
    stripe_js.save_card(step["client_secret"])  # what the app does with Stripe's SDK
    step = checkout(customer_api, pending, committed)
    assert (step["outcome"], step["confirm_with"]) == ("paid", None)
    assert step["payment"]["status"] == "authorized"
    pending.refresh_from_db()
    assert pending.status == RideStatus.CONFIRMED


def test_a_declined_card_can_be_retried(customer_api, pending, stripe_js, committed):
    step = checkout(customer_api, pending, committed)
    stripe_js.save_card(step["client_secret"], DECLINED_AT_SAVE)
    step = checkout(customer_api, pending, committed)
    assert step["outcome"] == "card"
    stripe_js.save_card(step["client_secret"])
    assert checkout(customer_api, pending, committed)["outcome"] == "paid"


def test_three_d_secure_goes_back_to_the_client(customer_api, pending, stripe_js, committed):
    step = checkout(customer_api, pending, committed)
    stripe_js.save_card(step["client_secret"], NEEDS_3DS)
    step = checkout(customer_api, pending, committed)
    assert (step["outcome"], step["confirm_with"]) == ("action", "confirmCardPayment")
    stripe_js.confirm_payment(step["client_secret"])
    assert checkout(customer_api, pending, committed)["outcome"] == "paid"


def test_payments_denials(
    anon_api, driver_api, admin_api, other_customer_api, customer_api, pending, stripe_server
):
    body = {"booking_id": pending.pk}
    assert anon_api.post("/payments", body).status_code == HTTPStatus.UNAUTHORIZED
    assert driver_api.post("/payments", body).status_code == HTTPStatus.FORBIDDEN
    assert admin_api.post("/payments", body).status_code == HTTPStatus.FORBIDDEN
    assert other_customer_api.post("/payments", body).status_code == HTTPStatus.NOT_FOUND
    for bad in ({}, {"booking_id": "x"}, {"booking_id": 0}):
        response = customer_api.post("/payments", bad)
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert "booking_id" in response.json()["errors"]
    assert not Payment.objects.exists()


@pytest.fixture
def captured(pending, pay, driver, photo, committed):
    """A ride paid, driven and captured."""
    pay(pending)
    with committed():
        rides.ride_assign(ride=pending, driver=driver, by=None)
        pickup_soon(pending)  # the driver sets off shortly before pickup
        rides.ride_start(ride=pending, by=driver)
        rides.ride_pickup(ride=pending, by=driver, photo=photo)
        rides.ride_complete(ride=pending, by=driver, photo=photo)
    payment = pending.payments.get()
    assert payment.status == "captured"
    return payment


def test_payment_detail_shows_the_ledger(customer_api, admin_api, captured):
    body = customer_api.get(f"/payments/{captured.pk}").json()
    assert (body["booking_id"], body["captured_cents"]) == (captured.ride_id, captured.amount_cents)
    assert [(t["kind"], t["status"]) for t in body["transactions"]] == [
        ("authorization", "succeeded"),
        ("capture", "succeeded"),
    ]
    assert admin_api.get(f"/payments/{captured.pk}").status_code == HTTPStatus.OK


def test_payment_detail_denials(anon_api, driver_api, other_customer_api, captured):
    assert anon_api.get(f"/payments/{captured.pk}").status_code == HTTPStatus.UNAUTHORIZED
    assert driver_api.get(f"/payments/{captured.pk}").status_code == HTTPStatus.FORBIDDEN
    assert other_customer_api.get(f"/payments/{captured.pk}").status_code == HTTPStatus.NOT_FOUND


def test_admin_refunds_part_then_cannot_over_refund(admin_api, captured, committed):
    with committed():
        response = admin_api.post(
            f"/admin/payments/{captured.pk}/refunds",
            {"amount_cents": 500, "reason": "Driver was late"},
            headers={"Idempotency-Key": "refund-1"},
        )
    assert response.status_code == HTTPStatus.ACCEPTED, response.content
    assert (response.json()["kind"], response.json()["amount_cents"]) == ("refund", 500)
    with committed():  # the same request again (a client retry) refunds once
        again = admin_api.post(
            f"/admin/payments/{captured.pk}/refunds",
            {"amount_cents": 500, "reason": "Driver was late"},
            headers={"Idempotency-Key": "refund-1"},
        )
    assert again.json()["id"] == response.json()["id"]
    captured.refresh_from_db()
    assert captured.refunded_cents == 500
    too_much = admin_api.post(
        f"/admin/payments/{captured.pk}/refunds",
        {"amount_cents": captured.amount_cents, "reason": "All of it"},
    )
    assert too_much.status_code == HTTPStatus.CONFLICT
    assert "amount" in too_much.json()["errors"]
    captured.refresh_from_db()
    assert captured.refunded_cents == 500


def test_refund_denials_and_bad_bodies(anon_api, customer_api, driver_api, admin_api, captured):
    path = f"/admin/payments/{captured.pk}/refunds"
    body = {"amount_cents": 100, "reason": "x"}
    assert anon_api.post(path, body).status_code == HTTPStatus.UNAUTHORIZED
    assert customer_api.post(path, body).status_code == HTTPStatus.FORBIDDEN
    assert driver_api.post(path, body).status_code == HTTPStatus.FORBIDDEN
    assert admin_api.post("/admin/payments/999999/refunds", body).status_code == HTTPStatus.NOT_FOUND
    for bad, field in (
        ({"amount_cents": 0, "reason": "x"}, "amount_cents"),
        ({"amount_cents": 100}, "reason"),
        ({"amount_cents": 100, "reason": ""}, "reason"),
    ):
        response = admin_api.post(path, bad)
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert field in response.json()["errors"]
    captured.refresh_from_db()
    assert captured.refunded_cents == 0


def test_admin_ride_list(admin_api, customer_api, driver_api, anon_api, ride, other_customer):
    theirs = make_ride(customer=other_customer, status=RideStatus.CANCELLED)
    body = admin_api.get("/admin/rides").json()
    assert {item["id"] for item in body["items"]} == {ride.pk, theirs.pk}
    assert body["items"][0]["customer"]["name"]
    assert [r["id"] for r in admin_api.get("/admin/rides", data={"status": "cancelled"}).json()["items"]] == [
        theirs.pk
    ]
    assert [r["id"] for r in admin_api.get("/admin/rides", data={"q": f"#{ride.pk}"}).json()["items"]] == [
        ride.pk
    ]
    assert anon_api.get("/admin/rides").status_code == HTTPStatus.UNAUTHORIZED
    assert customer_api.get("/admin/rides").status_code == HTTPStatus.FORBIDDEN
    assert driver_api.get("/admin/rides").status_code == HTTPStatus.FORBIDDEN
    assert admin_api.get("/admin/rides", data={"date_from": "nope"}).status_code == 422
    reversed_range = admin_api.get("/admin/rides", data={"date_from": "2031-03-05", "date_to": "2031-03-01"})
    assert reversed_range.status_code == 400 and "date_to" in reversed_range.json()["errors"]


def test_admin_ride_list_filters_like_the_ride_table(admin_api, ride):
    flagged = make_ride(
        pet=PetFactory(name="Kiwi"),  # another name than the open ride's pet, which the search names
        status=RideStatus.COMPLETED,
        driver=DriverFactory(),
        attention="Check the fee",
    )

    def listed(**params):
        return [r["id"] for r in admin_api.get("/admin/rides", data=params).json()["items"]]

    assert listed(status="open") == [ride.pk]
    assert listed(status="ended") == listed(attention="true") == [flagged.pk]
    assert listed(q=ride.party_pets[0].name, status="ended") == []
    response = admin_api.get("/admin/rides", data={"status": "upcoming"})  # a customer tab, not ours
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()["errors"]) == ["status"]
