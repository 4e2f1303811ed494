"""Several pets in one ride: the quote has a line per pet and an extra-pet charge, the party is
checked as a whole (the customer's own pets, once each, up to the limit; a vehicle that fits
every pet), and every portal shows all of them."""

import re
from datetime import datetime, timedelta
from decimal import Decimal
from http import HTTPStatus
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings import services
from bookings.models import Pet, Ride, RideStatus
from bookings.pricing import quote_ride
from core.errors import DomainError
from fleet.dispatch import vehicle_fit_reasons
from fleet.models import CrateSize
from tests.factories import DROPOFF, PICKUP, DriverProfileFactory, PetFactory, make_ride

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
WEDNESDAY_10AM = datetime(2026, 12, 2, 10, 0, tzinfo=NY)  # no surcharges: booked three days ahead


def dog(name, weight, **fields):
    return Pet(name=name, type=Pet.Type.DOG, weight_lb=Decimal(weight), **fields)


def lines_of(pets):
    quote = quote_ride(
        pets=pets,
        distance_miles=Decimal("5.0"),
        scheduled_at=WEDNESDAY_10AM,
        tz=NY,
        now=WEDNESDAY_10AM - timedelta(days=3),
    )
    return [(line.kind, line.label, line.cents) for line in quote.lines], quote.total_cents


def test_one_pet_is_priced_as_before_without_its_name():
    lines, total = lines_of([dog("Rex", "15")])
    assert lines == [
        ("base", "Base fare", 1500),
        ("distance", "Distance 5.0 mi", 900),
        ("pet", "Small dog", 0),
    ]
    assert total == 2400


def test_two_pets_get_a_line_each_and_one_extra_pet_charge():
    lines, total = lines_of([dog("Rex", "15"), dog("Bruno", "60", crate_required=True)])
    assert lines == [
        ("base", "Base fare", 1500),
        ("distance", "Distance 5.0 mi", 900),
        ("pet", "Rex: Small dog", 0),
        ("pet", "Bruno: Large dog", 1000),
        ("extra", "Bruno: Crate handling", 500),
        ("pet", "Extra pet: Bruno", 1000),
    ]
    assert total == 1500 + 900 + 1000 + 500 + 1000


def test_three_pets_mixed_kinds_crated_and_not():
    cat = Pet(
        name="Miso", type=Pet.Type.CAT, weight_lb=Decimal("9"), crate_required=True, special_needs="Shy"
    )
    lines, total = lines_of([dog("Rex", "25"), cat, dog("Bo", "10")])
    assert lines[2:] == [
        ("pet", "Rex: Medium dog", 500),
        ("pet", "Miso: Cat", 0),
        ("extra", "Miso: Crate handling", 500),
        ("extra", "Miso: Special-needs care", 800),
        ("pet", "Bo: Small dog", 0),
        ("pet", "Extra pet: Miso", 1000),
        ("pet", "Extra pet: Bo", 1000),
    ]
    assert total == 1500 + 900 + 500 + 500 + 800 + 2000


def plan(customer, pets):
    return services.ride_plan(
        customer=customer,
        pets=pets,
        pickup_address=PICKUP,
        dropoff_address=DROPOFF,
        scheduled_at=timezone.now() + timedelta(days=2),
    )


def party_error(customer, pets):
    with pytest.raises(DomainError) as refused:
        plan(customer, pets)
    return refused.value.errors["pets"]


def test_the_party_must_be_the_customers_own_pets_once_each_within_the_limit(
    customer, other_customer, settings
):
    rex, bo = PetFactory(owner=customer), PetFactory(owner=customer)
    assert party_error(customer, []) == ["Choose at least one of your pets."]
    assert party_error(customer, [rex, PetFactory(owner=other_customer)]) == ["Choose among your own pets."]
    assert party_error(customer, [rex, None]) == ["Choose among your own pets."]
    assert party_error(customer, [rex, rex]) == ["Each pet can only be chosen once."]
    settings.BOOKING_MAX_PETS = 1
    assert party_error(customer, [rex, bo]) == [
        "One ride takes up to 1 pets. Book another ride for the others."
    ]


def test_booking_two_pets_records_the_party_in_order_with_their_crates(customer):
    rex = PetFactory(owner=customer, name="Rex", crate_required=True)
    bo = PetFactory(owner=customer, name="Bo", crate_required=False)
    ride = services.ride_book(customer=customer, plan=plan(customer, [bo, rex]))
    assert [(m.pet.name, m.crated) for m in ride.party_members] == [("Bo", False), ("Rex", True)]
    assert ride.pet_names == "Bo and Rex"
    rex.crate_required = False
    rex.save()  # a later change to the pet does not change the booked ride
    assert [m.crated for m in Ride.objects.get(pk=ride.pk).party_members] == [False, True]


def test_a_vehicle_fits_the_party_only_if_it_fits_every_pet(db):
    van = DriverProfileFactory(pet_capacity=2, max_crate_size=CrateSize.MEDIUM, pet_types=["dog"])
    small, big = dog("Rex", "15"), dog("Bruno", "60")
    cat = Pet(name="Miso", type=Pet.Type.CAT, weight_lb=Decimal("9"))
    assert vehicle_fit_reasons(van, [small]) == []
    assert vehicle_fit_reasons(van, [small, dog("Bo", "20")]) == []
    assert vehicle_fit_reasons(van, [small, big]) == ["Crate too big: needs large, takes up to medium"]
    assert vehicle_fit_reasons(van, [small, cat]) == ["Doesn't take cats"]
    assert vehicle_fit_reasons(van, [small, small, small]) == ["Carries 2 pets at most, this ride has 3"]


def test_dispatch_only_offers_drivers_whose_vehicle_takes_the_whole_party(customer):
    from fleet.dispatch import eligible_candidates
    from tests.factories import NEAR, on_duty_driver

    single = on_duty_driver("Single Seat", NEAR, pet_capacity=1)
    roomy = on_duty_driver("Roomy Van", NEAR, pet_capacity=3)
    ride = make_ride(pets=[PetFactory(owner=customer), PetFactory(owner=customer)])
    assert [c.driver for c in eligible_candidates(ride)] == [roomy]
    assert single.pk not in {c.driver.pk for c in eligible_candidates(ride)}


def test_the_booking_form_books_two_pets_and_every_portal_names_both(customer_client, customer, client):
    rex = PetFactory(owner=customer, name="Rex")
    bo = PetFactory(owner=customer, name="Bo", crate_required=True)
    when = timezone.localtime(timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    form = customer_client.get(reverse("bookings:ride_new")).content.decode()
    assert re.search(rf'<input type="checkbox" class="form-check-input"\s+name="pets" value="{rex.pk}"', form)
    quote = customer_client.post(
        reverse("bookings:ride_quote"),
        {"pets": [rex.pk, bo.pk], "pickup_address": PICKUP, "dropoff_address": DROPOFF, "scheduled_at": when},
    ).content.decode()
    assert "Extra pet: Rex" in quote and "Bo: Crate handling" in quote  # in the list's order: by name
    response = customer_client.post(
        reverse("bookings:ride_new"),
        {"pets": [rex.pk, bo.pk], "pickup_address": PICKUP, "dropoff_address": DROPOFF, "scheduled_at": when},
    )
    ride = Ride.objects.get(customer=customer)
    assert response.status_code == HTTPStatus.FOUND
    assert {p.name for p in ride.party_pets} == {"Rex", "Bo"}
    page = customer_client.get(reverse("bookings:ride_detail", args=[ride.pk])).content.decode()
    assert "Rex (dog)" in page and "Bo (dog, in a crate)" in page


def test_the_driver_sees_every_pet_with_its_crate(client):
    from tests.factories import NEAR, on_duty_driver

    driver = on_duty_driver("Dana Diaz", NEAR)
    rex = PetFactory(name="Rex", special_needs="Pulls on the lead")
    bo = PetFactory(owner=rex.owner, name="Bo", crate_required=True)
    ride = make_ride(pets=[rex, bo], status=RideStatus.ASSIGNED, driver=driver)
    client.force_login(driver)
    page = client.get(reverse("fleet:ride_detail", args=[ride.pk])).content.decode()
    assert "Rex and Bo" in page
    assert "Rex: Dog" in page and "Bo: Dog" in page
    assert "Pulls on the lead" in page and "Travels in a crate" in page and "No crate" in page


def test_the_api_books_a_party_and_lists_it(customer):
    from tests.api.conftest import ApiClient

    api = ApiClient(customer)
    rex = PetFactory(owner=customer, name="Rex")
    bo = PetFactory(owner=customer, name="Bo", crate_required=True)
    body = {
        "pets": [rex.pk, bo.pk],
        "pickup_address": PICKUP,
        "dropoff_address": DROPOFF,
        "scheduled_at": (timezone.now() + timedelta(days=2)).isoformat(),
    }
    created = api.post("/bookings", body)
    assert created.status_code == HTTPStatus.CREATED, created.content
    assert created.json()["pets"] == [
        {"id": rex.pk, "name": "Rex", "type": "dog", "crated": False},
        {"id": bo.pk, "name": "Bo", "type": "dog", "crated": True},
    ]
    assert "Extra pet: Bo" in [line["label"] for line in created.json()["quote"]["lines"]]
    twice = api.post("/bookings", {**body, "pets": [rex.pk, rex.pk]})
    assert twice.json()["errors"] == {"pets": ["Each pet can only be chosen once."]}
    assert Ride.objects.count() == 1
