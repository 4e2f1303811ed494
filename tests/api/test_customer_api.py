"""Pets, quotes and bookings through the API: happy paths, 401, 403, 404, bad bodies."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from bookings.models import Pet, Ride, RideStatus
from tests.factories import DROPOFF, PICKUP, DriverFactory, PetFactory, make_ride

pytestmark = pytest.mark.django_db

PET = {
    "name": "Luna",
    "type": "cat",
    "breed": "Siamese",
    "age_years": 3,
    "weight_lb": "9.5",
    "special_needs": "",
    "crate_required": True,
}


def request_body(pet, **overrides):
    when = timezone.now() + timedelta(days=2)
    return {
        "pets": [pet.pk],
        "pickup_address": PICKUP,
        "dropoff_address": DROPOFF,
        "scheduled_at": when.isoformat(),
        **overrides,
    }


# --- Access for every customer endpoint ------------------------------------------------

ENDPOINTS = [
    ("get", "/pets", None),
    ("post", "/pets", PET),
    ("get", "/pets/{pet}", None),
    ("put", "/pets/{pet}", PET),
    ("delete", "/pets/{pet}", None),
    ("post", "/quotes", "ride"),
    ("post", "/bookings", "ride"),
    ("get", "/bookings", None),
    ("get", "/bookings/{ride}", None),
    ("put", "/bookings/{ride}", {"notes": "x"}),
    ("delete", "/bookings/{ride}", None),
]


def call(api, method, path, body, pet, ride):
    path = path.format(pet=pet.pk, ride=ride.pk)
    if body == "ride":
        body = request_body(pet)
    if method in ("post", "put"):
        return getattr(api, method)(path, body)
    return getattr(api, method)(path)


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_unauthenticated_is_401(anon_api, pet, ride, method, path, body):
    assert call(anon_api, method, path, body, pet, ride).status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize("role_api", ["driver_api", "admin_api"])
def test_other_roles_are_403(request, pet, ride, method, path, body, role_api):
    response = call(request.getfixturevalue(role_api), method, path, body, pet, ride)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "customer account" in response.json()["detail"]


@pytest.mark.parametrize(("method", "path", "body"), [e for e in ENDPOINTS if "{" in e[1]])
def test_another_customers_objects_are_404(other_customer_api, pet, ride, method, path, body):
    response = call(other_customer_api, method, path, body, pet, ride)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": "Not found.", "errors": {}}
    pet.refresh_from_db()
    ride.refresh_from_db()
    assert (pet.name, pet.archived_at, ride.status, ride.notes) == ("Biscuit", None, RideStatus.CONFIRMED, "")


# --- Pets --------------------------------------------------------------------------------


def test_pet_crud(customer_api, customer):
    created = customer_api.post("/pets", PET)
    assert created.status_code == HTTPStatus.CREATED
    pet_id = created.json()["id"]
    assert customer_api.get("/pets").json()[0]["name"] == "Luna"
    assert customer_api.get(f"/pets/{pet_id}").json()["weight_lb"] == "9.5"
    updated = customer_api.put(f"/pets/{pet_id}", {**PET, "name": "Luna Belle", "weight_lb": "10"})
    assert updated.json()["name"] == "Luna Belle"
    assert customer_api.delete(f"/pets/{pet_id}").status_code == HTTPStatus.NO_CONTENT
    assert not Pet.objects.filter(pk=pet_id).exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"type": "dragon"}, "type"),
        ({"weight_lb": "-1"}, "weight_lb"),
        ({"weight_lb": "abc"}, "weight_lb"),
        ({"age_years": 999}, "age_years"),
        ({"name": "x" * 81}, "name"),
    ],
)
def test_bad_pet_bodies_are_rejected_with_field_errors(customer_api, change, field):
    response = customer_api.post("/pets", {**PET, **change})
    assert response.status_code in (HTTPStatus.BAD_REQUEST, HTTPStatus.UNPROCESSABLE_ENTITY)
    assert field in response.json()["errors"]
    assert Pet.objects.count() == 0


def test_pet_with_upcoming_ride_cannot_be_deleted(customer_api, pet, ride):
    response = customer_api.delete(f"/pets/{pet.pk}")
    assert response.status_code == HTTPStatus.CONFLICT
    assert "upcoming rides" in response.json()["detail"]


def test_deleting_a_pet_with_ride_history_archives_it(customer_api, pet):
    ride = make_ride(pet=pet, status=RideStatus.COMPLETED, driver=DriverFactory())
    assert customer_api.delete(f"/pets/{pet.pk}").status_code == HTTPStatus.NO_CONTENT
    assert customer_api.get("/pets").json() == []
    assert customer_api.get(f"/pets/{pet.pk}").status_code == HTTPStatus.NOT_FOUND
    assert customer_api.get(f"/bookings/{ride.pk}").json()["pets"] == [
        {"id": pet.pk, "name": pet.name, "type": pet.type, "crated": pet.crate_required}
    ]
    pet.refresh_from_db()
    assert pet.archived_at is not None


def test_updating_a_pet_with_a_bad_body_changes_nothing(customer_api, pet):
    response = customer_api.put(f"/pets/{pet.pk}", {**PET, "name": "   "})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"] == {"name": ["This field is required."]}  # trimmed, as the portal does
    pet.refresh_from_db()
    assert pet.name == "Biscuit"


# --- Quotes and bookings ------------------------------------------------------------


def test_quote_matches_the_booking_price(customer_api, pet):
    body = request_body(pet)
    quote = customer_api.post("/quotes", body).json()
    assert quote["total_cents"] == sum(line["cents"] for line in quote["lines"])
    assert [line["kind"] for line in quote["lines"]][:2] == ["base", "distance"]
    booking = customer_api.post("/bookings", {**body, "notes": "Gate 4"}).json()
    assert booking["price_cents"] == quote["total_cents"]
    assert Ride.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"scheduled_at": "2020-01-01T10:00:00Z"}, "scheduled_at"),
        ({"dropoff_address": PICKUP}, "dropoff_address"),
        ({"pickup_address": "nowhere"}, "pickup_address"),
        ({"pets": [999999]}, "pets"),
        ({"scheduled_at": "tomorrow"}, "scheduled_at"),
        ({"pets": ["abc"]}, "pets.0"),
    ],
)
def test_bad_booking_bodies_get_field_errors_and_write_nothing(customer_api, pet, change, field):
    for path in ("/quotes", "/bookings"):
        response = customer_api.post(path, request_body(pet, **change))
        assert response.status_code in (HTTPStatus.BAD_REQUEST, HTTPStatus.UNPROCESSABLE_ENTITY)
        assert field in response.json()["errors"], response.json()
    assert Ride.objects.count() == 0


def test_booking_someone_elses_pet_is_refused(customer_api, other_customer):
    response = customer_api.post("/bookings", request_body(PetFactory(owner=other_customer)))
    assert response.json()["errors"] == {"pets": ["Choose among your own pets."]}


def test_booking_without_offset_is_read_in_the_customers_zone(customer_api, customer, pet):
    customer.time_zone = "America/Los_Angeles"
    customer.save()
    day = (timezone.now() + timedelta(days=3)).date()
    response = customer_api.post("/bookings", request_body(pet, scheduled_at=f"{day}T09:30:00"))
    assert response.status_code == HTTPStatus.CREATED, response.content
    assert Ride.objects.get().scheduled_at.isoformat() == f"{day}T17:30:00+00:00"  # PST, UTC-8


def test_booking_detail_has_timeline_actions_and_where_to_pay(customer_api, pet, pay, settings):
    settings.DISPATCH_AUTO = False  # no fleet here: the ride stays confirmed
    created = customer_api.post("/bookings", request_body(pet)).json()
    detail = customer_api.get(f"/bookings/{created['id']}").json()
    assert (detail["status"], detail["payment_url"]) == (
        "pending_payment",
        f"/app/rides/{created['id']}/pay/",
    )
    assert [event["action"] for event in detail["timeline"]] == ["book"]
    assert detail["allowed_actions"] == ["cancel", "reschedule"]

    pay(Ride.objects.get(pk=created["id"]))
    detail = customer_api.get(f"/bookings/{created['id']}").json()
    assert (detail["status"], detail["payment_url"]) == ("confirmed", None)
    assert [event["action"] for event in detail["timeline"]] == ["book", "confirm"]
    assert detail["allowed_actions"] == ["cancel", "reschedule"]


def test_booking_list_filters_and_paginates(customer_api, customer, other_customer):
    pet = PetFactory(owner=customer)
    rides = [make_ride(pet=pet, scheduled_at=timezone.now() + timedelta(days=2 + n)) for n in range(3)]
    done = make_ride(
        pet=pet,
        status=RideStatus.COMPLETED,
        driver=DriverFactory(),
        scheduled_at=timezone.now() + timedelta(days=10),
    )
    make_ride(customer=other_customer)
    body = customer_api.get("/bookings").json()
    assert body["count"] == 4
    assert customer_api.get("/bookings", data={"status": "completed"}).json()["items"][0]["id"] == done.pk
    assert customer_api.get("/bookings", data={"status": "upcoming"}).json()["count"] == 3
    day = timezone.localtime(rides[1].scheduled_at, customer.tzinfo).date().isoformat()
    assert [
        r["id"]
        for r in customer_api.get("/bookings", data={"date_from": day, "date_to": day}).json()["items"]
    ] == [rides[1].pk]
    page = customer_api.get("/bookings", data={"page": 2, "page_size": 3}).json()
    assert (page["count"], len(page["items"])) == (4, 1)
    assert customer_api.get("/bookings", data={"date_from": "soon"}).status_code == 422
    # Found by the fuzzer: a page number past SQLite's integers was a server error.
    for huge in ({"page": 10**19}, {"page_size": 10**19}, {"page": 0}):
        assert customer_api.get("/bookings", data=huge).status_code == 422


@pytest.mark.parametrize("count", [5, 50])
def test_booking_list_query_count_is_flat(customer_api, customer, count, django_assert_max_num_queries):
    pet = PetFactory(owner=customer)
    for n in range(count):
        make_ride(pet=pet, scheduled_at=timezone.now() + timedelta(days=2, hours=n))
    with django_assert_max_num_queries(4):  # user, count, page (driver joined), its pets
        assert customer_api.get("/bookings", data={"page_size": 100}).status_code == 200


def test_reschedule_and_notes(customer_api, ride):
    new_time = ride.scheduled_at + timedelta(days=1)
    response = customer_api.put(
        f"/bookings/{ride.pk}", {"scheduled_at": new_time.isoformat(), "notes": "Gate 4"}
    )
    assert response.status_code == HTTPStatus.OK, response.content
    ride.refresh_from_db()
    assert (ride.scheduled_at, ride.notes) == (new_time, "Gate 4")
    assert [e["action"] for e in response.json()["timeline"]][-2:] == ["reschedule", "notes"]


def test_update_needs_something_to_change(customer_api, ride):
    response = customer_api.put(f"/bookings/{ride.pk}", {})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "non_field" in response.json()["errors"]


def test_reschedule_into_the_past_is_rejected(customer_api, ride):
    before = ride.scheduled_at
    response = customer_api.put(f"/bookings/{ride.pk}", {"scheduled_at": "2020-01-01T10:00:00Z"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "scheduled_at" in response.json()["errors"]
    ride.refresh_from_db()
    assert ride.scheduled_at == before


def test_cancel_returns_the_fee(customer_api, customer):
    ride = make_ride(customer=customer, scheduled_at=timezone.now() + timedelta(days=3))
    body = customer_api.delete(f"/bookings/{ride.pk}?reason=Vet+closed").json()
    assert (body["status"], body["fee_cents"]) == ("cancelled", 0)
    assert ride.events.get(action="cancel").note == "Vet closed"


def test_a_ride_moved_inside_the_fee_window_still_costs_the_fee_to_cancel(customer_api, customer):
    """The dodge: move a ride that is 5 hours away to next week, then cancel "in time"."""
    ride = make_ride(customer=customer, scheduled_at=timezone.now() + timedelta(hours=5), price_cents=9000)
    next_week = (ride.scheduled_at + timedelta(days=6)).isoformat()
    assert customer_api.put(f"/bookings/{ride.pk}", {"scheduled_at": next_week}).status_code == HTTPStatus.OK

    body = customer_api.delete(f"/bookings/{ride.pk}").json()

    assert (body["status"], body["fee_cents"]) == ("cancelled", 4500)  # half the $90.00 fare it had
    assert ride.events.get(action="cancel").data == {"cancelled_by": "customer", "fee_cents": 4500}


def test_cancelling_twice_is_a_409_conflict(customer_api, ride):
    assert customer_api.delete(f"/bookings/{ride.pk}").status_code == HTTPStatus.OK
    response = customer_api.delete(f"/bookings/{ride.pk}")
    assert response.status_code == HTTPStatus.CONFLICT
    assert "not possible now" in response.json()["detail"]


def test_notes_cannot_change_after_the_ride(customer_api, customer):
    ride = make_ride(customer=customer, status=RideStatus.COMPLETED, driver=DriverFactory())
    assert customer_api.put(f"/bookings/{ride.pk}", {"notes": "late"}).status_code == HTTPStatus.CONFLICT


@pytest.mark.parametrize("path", ["/pets/{}", "/bookings/{}"])
def test_ids_beyond_the_database_range_are_422_not_500(customer_api, path):
    # Found by the fuzzer on PostgreSQL: a 20-digit id overflowed bigint.
    for bad in (10**20, 0, -1):
        assert customer_api.get(path.format(bad)).status_code == 422


def test_nul_characters_are_refused_before_they_reach_the_database(customer_api, admin_api, pet, ride):
    # Found by the fuzzer on PostgreSQL, whose text columns cannot hold NUL.
    response = admin_api.get("/admin/rides", data={"q": "a\x00b"})
    assert response.status_code == 422 and "q" in response.json()["errors"]
    response = customer_api.post("/bookings", request_body(pet, notes="gate\x00code"))
    assert (response.status_code, response.json()["detail"]) == (400, "Text may not contain NUL characters.")
    assert customer_api.delete(f"/bookings/{ride.pk}?reason=x%00").status_code == 422
    ride.refresh_from_db()
    assert ride.status == RideStatus.CONFIRMED
    assert Ride.objects.count() == 1


def test_booking_list_names_a_bad_filter_instead_of_guessing(customer_api, ride):
    response = customer_api.get("/bookings", data={"status": "bogus"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {
        "detail": "Some filters are not valid; see errors.",
        "errors": {"status": ["Select a valid choice. bogus is not one of the available choices."]},
    }


def test_booking_list_reads_like_the_portal(customer_api, customer):
    pet = PetFactory(owner=customer)
    later, sooner = (make_ride(pet=pet, scheduled_at=timezone.now() + timedelta(days=d)) for d in (6, 3))
    done = make_ride(
        pet=pet, status=RideStatus.COMPLETED, driver=DriverFactory(), scheduled_at=timezone.now()
    )

    def listed(**params):
        return [r["id"] for r in customer_api.get("/bookings", data=params).json()["items"]]

    assert listed(status="upcoming") == [sooner.pk, later.pk]  # soonest first
    assert listed() == listed(status="all") == [later.pk, sooner.pk, done.pk]  # newest first
    assert listed(status="confirmed") == [later.pk, sooner.pk]


def test_the_api_moves_only_the_address(customer_api, customer):
    ride = make_ride(customer=customer)
    body = customer_api.put(
        f"/bookings/{ride.pk}", {"dropoff_address": "1 Main St, Brooklyn, NY 11201"}
    ).json()
    assert body["dropoff_address"] == "1 Main St, Brooklyn, NY 11201"
    assert body["scheduled_at"].startswith(ride.scheduled_at.isoformat()[:16])
