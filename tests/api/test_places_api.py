"""Saved places through the API, booking from them, and the "Book again" draft."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from bookings.models import Place, Ride, RideStatus
from tests.factories import DROPOFF, PICKUP, DriverFactory, PlaceFactory, make_ride

pytestmark = pytest.mark.django_db

VET = "510 E 62nd St, New York, NY 10065"
PLACE = {"label": "Vet", "kind": "vet", "address": VET, "notes": "Side door"}


@pytest.fixture
def place(customer):
    return PlaceFactory(owner=customer, label="Home", address=PICKUP, notes="Gate code 4321")


def booking(pet, **overrides):
    return {
        "pets": [pet.pk],
        "pickup_address": PICKUP,
        "dropoff_address": DROPOFF,
        "scheduled_at": (timezone.now() + timedelta(days=2)).isoformat(),
        **overrides,
    }


ENDPOINTS = [
    ("get", "/places", None),
    ("post", "/places", PLACE),
    ("get", "/places/{place}", None),
    ("put", "/places/{place}", PLACE),
    ("delete", "/places/{place}", None),
    ("get", "/bookings/{ride}/rebook", None),
]


def call(api, method, path, body, place, ride):
    path = path.format(place=place.pk, ride=ride.pk)
    return getattr(api, method)(path, body) if body is not None else getattr(api, method)(path)


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_anonymous_is_401_and_other_roles_403(
    anon_api, driver_api, admin_api, place, ride, method, path, body
):
    response = call(anon_api, method, path, body, place, ride)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    for api in (driver_api, admin_api):
        response = call(api, method, path, body, place, ride)
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert "customer account" in response.json()["detail"]
    assert Place.objects.values("label", "notes").get() == {"label": "Home", "notes": "Gate code 4321"}


@pytest.mark.parametrize(("method", "path", "body"), [e for e in ENDPOINTS if "{" in e[1]])
def test_another_customers_place_or_ride_is_404_and_unchanged(
    other_customer_api, place, ride, method, path, body
):
    response = call(other_customer_api, method, path, body, place, ride)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": "Not found.", "errors": {}}
    assert Place.objects.values("label", "address", "notes").get() == {
        "label": "Home",
        "address": PICKUP,
        "notes": "Gate code 4321",
    }


def test_another_customers_places_are_not_listed(other_customer_api, place):
    assert other_customer_api.get("/places").json() == []


def test_place_crud(customer_api, customer):
    created = customer_api.post("/places", PLACE)
    assert created.status_code == HTTPStatus.CREATED
    body = created.json()
    assert {k: body[k] for k in ("label", "kind", "address", "notes")} == PLACE
    assert body["lat"] and body["lng"]
    place_id = body["id"]
    assert [p["label"] for p in customer_api.get("/places").json()] == ["Vet"]
    assert customer_api.get(f"/places/{place_id}").json()["notes"] == "Side door"
    updated = customer_api.put(f"/places/{place_id}", {**PLACE, "label": "Dr. Patel", "address": PICKUP})
    assert (updated.json()["label"], updated.json()["address"]) == ("Dr. Patel", PICKUP)
    assert customer_api.delete(f"/places/{place_id}").status_code == HTTPStatus.NO_CONTENT
    assert not Place.objects.exists()


@pytest.mark.parametrize(
    ("change", "status", "field", "message"),
    [
        ({"address": "Main St"}, 400, "address", "Add the 5-digit ZIP code so we can find this address."),
        ({"label": "   "}, 400, "label", "This field is required."),
        ({"label": "x" * 81}, 422, "label", None),
        ({"kind": "castle"}, 422, "kind", None),
        ({"notes": "x" * 501}, 422, "notes", None),
    ],
)
def test_bad_place_bodies_are_field_errors_and_write_nothing(customer_api, change, status, field, message):
    response = customer_api.post("/places", {**PLACE, **change})
    assert response.status_code == status
    errors = response.json()["errors"]
    assert field in errors
    if message:
        assert errors[field] == [message]
    assert not Place.objects.exists()


def test_a_bad_update_changes_nothing(customer_api, place):
    response = customer_api.put(f"/places/{place.pk}", {**PLACE, "address": "nowhere"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "address" in response.json()["errors"]
    place.refresh_from_db()
    assert (place.label, place.address) == ("Home", PICKUP)


def test_duplicate_label_and_limit(customer_api, place, settings):
    response = customer_api.post("/places", {**PLACE, "label": "HOME"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"] == {
        "label": ["You already have a place called “HOME”. Choose another name."]
    }
    settings.PLACES_PER_CUSTOMER = 1
    response = customer_api.post("/places", PLACE)
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["detail"].startswith("You can keep up to 1 saved places.")
    assert Place.objects.count() == 1


# --- Booking and quoting from places -------------------------------------------------


def test_booking_from_places_brings_their_notes_to_the_driver(customer_api, customer, pet, place, driver_api):
    vet = PlaceFactory(owner=customer, label="Vet", address=VET, notes="Side door")
    body = booking(
        pet, pickup_address="", dropoff_address="", pickup_place_id=place.pk, dropoff_place_id=vet.pk
    )
    quote = customer_api.post("/quotes", body)
    assert quote.status_code == HTTPStatus.OK and quote.json()["total_cents"] > 0
    response = customer_api.post("/bookings", body)
    assert response.status_code == HTTPStatus.CREATED
    data = response.json()
    assert (data["pickup_address"], data["dropoff_address"]) == (PICKUP, VET)
    assert (data["pickup_notes"], data["dropoff_notes"]) == ("Gate code 4321", "Side door")
    ride = Ride.objects.get()
    assert (ride.pickup_notes, ride.dropoff_notes) == ("Gate code 4321", "Side door")


def test_booking_from_another_customers_place_is_refused(customer_api, pet, other_customer):
    theirs = PlaceFactory(owner=other_customer, address=VET, notes="their code 8888")
    for path in ("/quotes", "/bookings"):
        response = customer_api.post(path, booking(pet, dropoff_address="", dropoff_place_id=theirs.pk))
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["errors"] == {"dropoff_place_id": ["Choose one of your saved places."]}
        assert "8888" not in response.content.decode() and VET not in response.content.decode()
    assert not Ride.objects.exists()


def test_an_address_and_a_place_for_one_stop_is_refused(customer_api, pet, place):
    response = customer_api.post("/bookings", booking(pet, pickup_place_id=place.pk))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"] == {
        "pickup_place_id": ["Send pickup_address or pickup_place_id, not both."]
    }
    assert not Ride.objects.exists()


def test_no_address_and_no_place_says_enter_an_address(customer_api, pet):
    response = customer_api.post("/bookings", booking(pet, pickup_address=""))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"] == {"pickup_address": ["Enter an address."]}


# --- Book again --------------------------------------------------------------------------


def test_rebook_draft_can_be_posted_as_it_is(customer_api, pet, settings):
    settings.BOOKING_MIN_NOTICE = timedelta(hours=2)
    when = timezone.now() - timedelta(days=4)
    done = make_ride(
        pet=pet, status=RideStatus.COMPLETED, driver=DriverFactory(), scheduled_at=when, notes="Bring treats"
    )
    response = customer_api.get(f"/bookings/{done.pk}/rebook")
    assert response.status_code == HTTPStatus.OK
    draft = response.json()
    assert {k: draft[k] for k in ("pets", "pickup_address", "dropoff_address", "notes")} == {
        "pets": [pet.pk],
        "pickup_address": PICKUP,
        "dropoff_address": DROPOFF,
        "notes": "Bring treats",
    }
    suggested = timezone.datetime.fromisoformat(draft["scheduled_at"])
    assert (timezone.localtime(suggested).hour, timezone.localtime(suggested).minute) == (
        timezone.localtime(when).hour,
        timezone.localtime(when).minute,
    )
    assert suggested >= timezone.now() + timedelta(hours=2)
    assert not Ride.objects.exclude(pk=done.pk).exists()  # a draft saves nothing
    booked = customer_api.post("/bookings", draft)
    assert booked.status_code == HTTPStatus.CREATED
    assert booked.json()["scheduled_at"][:16] == draft["scheduled_at"][:16]
