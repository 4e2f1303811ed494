from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings import selectors, services
from bookings.models import Pet, Ride, RideEvent, RideStatus
from core.errors import DomainError
from tests.factories import DROPOFF, PICKUP, DriverFactory, PetFactory, make_ride

pytestmark = pytest.mark.django_db


def plan(customer, pet, **overrides):
    fields = {
        "pickup_address": PICKUP,
        "dropoff_address": DROPOFF,
        "scheduled_at": timezone.now() + timedelta(days=2),
    }
    return services.ride_plan(customer=customer, pets=[pet], **{**fields, **overrides})


def field_errors(callable_):
    with pytest.raises(DomainError) as excinfo:
        callable_()
    return excinfo.value.errors


def test_plan_prices_a_valid_request(customer, pet):
    result = plan(customer, pet)
    assert result.distance_miles > 0
    assert result.quote.total_cents > 1500
    assert result.ends_at > result.scheduled_at


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"scheduled_at": None}, "scheduled_at", "Choose a pickup"),
        ({"scheduled_at": timezone.now() - timedelta(hours=1)}, "scheduled_at", "already passed"),
        ({"scheduled_at": timezone.now() + timedelta(minutes=30)}, "scheduled_at", "at least 120 minutes"),
        ({"scheduled_at": timezone.now() + timedelta(days=61)}, "scheduled_at", "up to 60 days"),
        ({"pickup_address": ""}, "pickup_address", "Enter an address"),
        ({"dropoff_address": "somewhere without a zip"}, "dropoff_address", "ZIP code"),
        (
            {"dropoff_address": "200 central park w., new york, NY 10024"},
            "dropoff_address",
            "different address",
        ),
    ],
)
def test_plan_refuses_bad_requests_field_by_field(customer, pet, overrides, field, message):
    errors = field_errors(lambda: plan(customer, pet, **overrides))
    assert message in " ".join(errors[field])


def test_plan_refuses_someone_elses_pet_and_archived_pets(customer, other_customer, pet):
    assert field_errors(lambda: plan(other_customer, pet))["pets"] == ["Choose among your own pets."]
    pet.archived_at = timezone.now()
    assert field_errors(lambda: plan(customer, pet))["pets"] == ["Choose among your own pets."]


def test_plan_reports_every_problem_at_once(customer, pet):
    errors = field_errors(lambda: plan(customer, pet, pickup_address="", scheduled_at=None))
    assert set(errors) == {"pickup_address", "scheduled_at"}


def test_book_waits_for_payment(customer, pet):
    ride = services.ride_book(customer=customer, plan=plan(customer, pet), notes="  Ring twice ")
    assert ride.status == RideStatus.PENDING_PAYMENT
    assert ride.notes == "Ring twice"
    assert list(ride.events.values_list("action", flat=True)) == ["book"]
    assert ride.price_cents == ride.quote["total_cents"]


def test_reschedule_requotes_and_records_old_and_new(customer, pet):
    ride = make_ride(pet=pet, scheduled_at=timezone.now() + timedelta(days=3))
    # Saturday night costs more than the original time in most weeks; compare with a fresh quote.
    new_time = ride.scheduled_at + timedelta(days=1)
    expected = plan(customer, pet, scheduled_at=new_time).quote.total_cents
    moved = services.ride_reschedule(ride=ride, by=customer, scheduled_at=new_time)
    assert moved.scheduled_at == new_time
    assert moved.price_cents == expected
    event = moved.events.get(action="reschedule")
    assert event.data["old_scheduled_at"] == ride.scheduled_at.isoformat()
    assert "Pickup moved from" in event.note


def test_reschedule_of_an_assigned_ride_returns_it_to_dispatch(customer, pet):
    ride = make_ride(pet=pet, status=RideStatus.ASSIGNED, driver=DriverFactory())
    moved = services.ride_reschedule(
        ride=ride, by=customer, scheduled_at=ride.scheduled_at + timedelta(hours=5)
    )
    assert (moved.status, moved.driver) == (RideStatus.CONFIRMED, None)


def test_reschedule_is_refused_after_the_cutoff_and_changes_nothing(customer, pet):
    soon = timezone.now() + timedelta(minutes=90)
    ride = make_ride(pet=pet, scheduled_at=soon)
    with pytest.raises(DomainError, match="up to 2 hours before"):
        services.ride_reschedule(ride=ride, by=customer, scheduled_at=soon + timedelta(days=1))
    ride.refresh_from_db()
    assert ride.scheduled_at == soon
    assert not ride.events.filter(action="reschedule").exists()


def test_reschedule_to_an_invalid_time_is_refused(customer, pet):
    ride = make_ride(pet=pet)
    errors = field_errors(
        lambda: services.ride_reschedule(
            ride=ride, by=customer, scheduled_at=timezone.now() + timedelta(days=90)
        )
    )
    assert "scheduled_at" in errors


LUNA = {"name": "Luna", "type": "cat", "weight_lb": Decimal("9.5"), "crate_required": True}


def test_create_pet_for_its_owner(customer):
    pet = services.pet_create(owner=customer, data=LUNA)
    pet.refresh_from_db()
    assert (pet.owner, pet.name, pet.type, pet.weight_lb, pet.crate_required) == (
        customer,
        "Luna",
        "cat",
        Decimal("9.5"),
        True,
    )
    assert (pet.breed, pet.age_years, pet.archived_at) == ("", None, None)  # the defaults


@pytest.mark.parametrize("role", ["driver", "admin_user"])
def test_only_customers_have_pets(request, role):
    with pytest.raises(DomainError) as excinfo:
        services.pet_create(owner=request.getfixturevalue(role), data=LUNA)
    assert excinfo.value.code == "not_allowed"
    assert not Pet.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"type": "dragon"}, "type"),
        ({"weight_lb": Decimal("0")}, "weight_lb"),
        ({"weight_lb": Decimal("301")}, "weight_lb"),
        ({"age_years": 61}, "age_years"),
        ({"breed": "x" * 81}, "breed"),
    ],
)
def test_create_pet_with_bad_details_names_the_field_and_writes_nothing(customer, change, field):
    errors = field_errors(lambda: services.pet_create(owner=customer, data={**LUNA, **change}))
    assert list(errors) == [field]
    assert not Pet.objects.exists()


def test_update_pet_changes_only_what_it_is_given(customer, pet):
    services.pet_update(pet=pet, by=customer, data={"name": "Biscuit II", "weight_lb": Decimal("30")})
    pet.refresh_from_db()
    assert (pet.name, pet.weight_lb, pet.breed) == ("Biscuit II", Decimal("30"), "Beagle")


def test_update_pet_with_bad_details_changes_nothing(customer, pet):
    errors = field_errors(lambda: services.pet_update(pet=pet, by=customer, data={"weight_lb": -3}))
    assert list(errors) == ["weight_lb"]
    pet.refresh_from_db()
    assert pet.weight_lb == Decimal("24.0")


@pytest.mark.parametrize("action", ["update", "delete"])
def test_only_the_owner_may_change_or_remove_a_pet(other_customer, pet, action):
    with pytest.raises(DomainError) as excinfo:
        if action == "update":
            services.pet_update(pet=pet, by=other_customer, data={"name": "Stolen"})
        else:
            services.pet_delete(pet=pet, by=other_customer)
    assert excinfo.value.code == "not_allowed"
    pet.refresh_from_db()
    assert (pet.name, pet.archived_at) == ("Biscuit", None)


def test_delete_pet_without_rides_deletes(customer):
    pet = PetFactory(owner=customer)
    assert services.pet_delete(pet=pet, by=customer) == "deleted"
    assert not Pet.objects.filter(pk=pet.pk).exists()


def test_delete_pet_with_upcoming_ride_is_refused(customer, pet):
    make_ride(pet=pet)
    with pytest.raises(DomainError, match="upcoming rides"):
        services.pet_delete(pet=pet, by=customer)
    pet.refresh_from_db()
    assert pet.archived_at is None


def test_delete_pet_with_only_past_rides_archives_it(customer, pet):
    make_ride(pet=pet, status=RideStatus.COMPLETED, driver=DriverFactory())
    assert services.pet_delete(pet=pet, by=customer) == "archived"
    pet.refresh_from_db()
    assert pet.archived_at is not None
    assert Ride.objects.filter(pets=pet).count() == 1
    assert list(selectors.customer_pets(customer)) == []  # gone from the customer's pets
    assert selectors.customer_rides(customer=customer).get().party_pets == [pet]  # the history keeps it


def test_flag_and_clear_flag_write_events(ride, admin_user):
    services.ride_flag(ride=ride, reason="No driver for a 60 lb dog")
    ride.refresh_from_db()
    assert ride.attention == "No driver for a 60 lb dog"
    services.ride_clear_flag(ride=ride, by=admin_user)
    services.ride_clear_flag(ride=ride, by=admin_user)  # twice: one event only
    ride.refresh_from_db()
    assert ride.attention == ""
    assert list(RideEvent.objects.filter(ride=ride).values_list("action", flat=True)) == [
        "flag",
        "clear_flag",
    ]


def test_database_refuses_a_driving_ride_without_driver(pet):
    from django.db import IntegrityError, transaction

    ride = make_ride(pet=pet)
    with pytest.raises(IntegrityError), transaction.atomic():
        Ride.objects.filter(pk=ride.pk).update(status=RideStatus.EN_ROUTE)


def test_weight_is_decimal_not_float(pet):
    pet.refresh_from_db()
    assert isinstance(pet.weight_lb, Decimal)
