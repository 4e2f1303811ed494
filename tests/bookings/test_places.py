"""Saved places: the services and selectors, the portal's pages, booking from a place (its
notes reach the driver and operations) and "Book again"."""

from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings import selectors, services
from bookings.models import Place, Ride, RideStatus
from core.errors import DomainError
from tests.factories import DROPOFF, PICKUP, DriverFactory, PetFactory, PlaceFactory, make_ride

pytestmark = pytest.mark.django_db

VET = "510 E 62nd St, New York, NY 10065"
PLACE = {"label": "Dr. Patel's clinic", "kind": "vet", "address": VET, "notes": "Park behind the building."}


def local_input(moment):
    return timezone.localtime(moment, timezone.get_default_timezone()).strftime("%Y-%m-%dT%H:%M")


# --- Services and selectors ----------------------------------------------------------


def test_create_a_place_geocodes_its_address(customer):
    place = services.place_create(owner=customer, data={**PLACE, "label": "  Dr. Patel's clinic "})
    place.refresh_from_db()
    assert (place.owner, place.label, place.kind, place.address) == (
        customer,
        "Dr. Patel's clinic",
        "vet",
        VET,
    )
    assert place.lat and place.lng  # the ZIP code's centroid, as a ride's address gets


def test_update_a_place_geocodes_the_new_address(customer):
    place = PlaceFactory(owner=customer, label="Home", address=PICKUP)
    old = (place.lat, place.lng)
    services.place_update(place=place, by=customer, data={**PLACE, "label": "Home", "address": VET})
    place.refresh_from_db()
    assert place.address == VET and (place.lat, place.lng) != old


def test_delete_a_place(customer):
    place = PlaceFactory(owner=customer)
    services.place_delete(place=place, by=customer)
    assert not Place.objects.exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"address": "Somewhere without a zip"},
            "address",
            "Add the 5-digit ZIP code so we can find this address.",
        ),
        (
            {"address": "1 Main St, Nowhere 00000"},
            "address",
            "We don't know the ZIP code 00000. Please check it.",
        ),
        ({"label": ""}, "label", "This field cannot be blank."),
        ({"kind": "castle"}, "kind", "Value 'castle' is not a valid choice."),
        ({"notes": "x" * 501}, "notes", "Ensure this value has at most 500 characters (it has 501)."),
    ],
)
def test_bad_place_is_a_field_error_and_writes_nothing(customer, data, field, message):
    with pytest.raises(DomainError) as refused:
        services.place_create(owner=customer, data={**PLACE, **data})
    assert refused.value.errors[field] == [message]
    assert not Place.objects.exists()


def test_a_bad_new_address_changes_nothing(customer):
    place = PlaceFactory(owner=customer, label="Home")
    with pytest.raises(DomainError) as refused:
        services.place_update(place=place, by=customer, data={**PLACE, "label": "Home", "address": "no zip"})
    assert "address" in refused.value.errors
    assert Place.objects.get().address == PICKUP


def test_label_is_unique_per_customer_whatever_its_case(customer, other_customer):
    PlaceFactory(owner=customer, label="Home")
    with pytest.raises(DomainError) as refused:
        services.place_create(owner=customer, data={**PLACE, "label": "home"})
    assert refused.value.errors == {"label": ["You already have a place called “home”. Choose another name."]}
    services.place_create(owner=other_customer, data={**PLACE, "label": "Home"})  # another's may
    other = PlaceFactory(owner=customer, label="Vet")
    with pytest.raises(DomainError):
        services.place_update(place=other, by=customer, data={"label": "HOME"})
    assert Place.objects.filter(owner=customer).count() == 2


def test_places_per_customer_are_limited(customer, settings):
    settings.PLACES_PER_CUSTOMER = 2
    PlaceFactory.create_batch(2, owner=customer)
    with pytest.raises(DomainError) as refused:
        services.place_create(owner=customer, data=PLACE)
    assert refused.value.code == "conflict"
    assert refused.value.message.startswith("You can keep up to 2 saved places.")
    assert Place.objects.count() == 2


def test_only_the_owner_changes_a_place_and_only_customers_have_places(customer, other_customer, driver):
    place = PlaceFactory(owner=customer, label="Home")
    for write in (
        lambda: services.place_update(place=place, by=other_customer, data={"label": "Mine"}),
        lambda: services.place_delete(place=place, by=other_customer),
        lambda: services.place_create(owner=driver, data=PLACE),
    ):
        with pytest.raises(DomainError) as refused:
            write()
        assert refused.value.code == "not_allowed"
    assert Place.objects.get().label == "Home"


def test_recent_addresses_are_the_distinct_ones_of_the_last_five_rides(customer):
    pet = PetFactory(owner=customer)
    oldest = make_ride(pet=pet, pickup="1 Old Rd, New York, NY 10001", dropoff=DROPOFF)
    for _ in range(5):
        make_ride(pet=pet, pickup=PICKUP, dropoff=DROPOFF)
    assert oldest.pickup_address not in selectors.customer_recent_addresses(customer)
    assert selectors.customer_recent_addresses(customer) == [PICKUP, DROPOFF]
    assert selectors.customer_recent_addresses(PetFactory().owner) == []


# --- Book again: the suggested time ----------------------------------------------------


def test_next_pickup_is_today_at_that_time_if_there_is_notice_else_tomorrow(settings):
    settings.BOOKING_MIN_NOTICE = timedelta(hours=2)
    tz = timezone.get_default_timezone()
    past = timezone.make_aware(datetime(2030, 1, 3, 15, 30), tz)
    morning = timezone.make_aware(datetime(2030, 3, 10, 9, 0), tz)
    assert selectors.next_pickup_like(past, tz=tz, now=morning) == morning.replace(hour=15, minute=30)
    afternoon = morning.replace(hour=14)
    assert selectors.next_pickup_like(past, tz=tz, now=afternoon) == morning.replace(
        day=11, hour=15, minute=30
    )


def test_next_pickup_keeps_the_local_time_across_a_clock_change():
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("America/New_York")
    earlier = datetime(2030, 3, 1, 14, 0, tzinfo=UTC)  # 9:00 in New York (EST)
    now = datetime(2030, 3, 9, 20, 0, tzinfo=UTC)  # the evening before clocks go forward
    suggested = selectors.next_pickup_like(earlier, tz=tz, now=now)
    assert timezone.localtime(suggested, tz).strftime("%Y-%m-%d %H:%M") == "2030-03-10 09:00"


# --- Portal pages --------------------------------------------------------------------

PLACE_PAGES = ["bookings:place_list", "bookings:place_create"]
PLACE_OBJECT_PAGES = ["bookings:place_edit", "bookings:place_delete"]


@pytest.mark.parametrize("name", PLACE_PAGES + PLACE_OBJECT_PAGES)
def test_anonymous_is_sent_to_login_and_other_roles_are_refused(client, customer, driver, admin_user, name):
    place = PlaceFactory(owner=customer)
    url = reverse(name, args=[place.pk]) if name in PLACE_OBJECT_PAGES else reverse(name)
    assert client.get(url).url.startswith(reverse("account_login"))
    for user in (driver, admin_user):
        client.force_login(user)
        assert client.get(url).status_code == HTTPStatus.FORBIDDEN
        assert client.post(url, PLACE).status_code == HTTPStatus.FORBIDDEN
    assert Place.objects.count() == 1


@pytest.mark.parametrize("name", PLACE_OBJECT_PAGES)
def test_another_customers_place_is_404_and_unchanged(customer_client, other_customer, name):
    place = PlaceFactory(owner=other_customer, label="Secret spot", notes="code 9999")
    for response in (
        customer_client.get(reverse(name, args=[place.pk])),
        customer_client.post(reverse(name, args=[place.pk]), {**PLACE, "label": "Taken"}),
    ):
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert "Secret spot" not in response.content.decode() and "9999" not in response.content.decode()
    assert Place.objects.values("label", "notes").get() == {"label": "Secret spot", "notes": "code 9999"}


def test_add_a_place_then_see_it_listed(customer_client, customer, other_customer):
    PlaceFactory(owner=other_customer, label="Not yours")
    response = customer_client.post(reverse("bookings:place_create"), PLACE)
    assert response.url == reverse("bookings:place_list")
    place = Place.objects.get(owner=customer)
    assert (place.label, place.notes) == ("Dr. Patel's clinic", "Park behind the building.")
    page = customer_client.get(reverse("bookings:place_list")).content.decode()
    assert "Dr. Patel&#x27;s clinic" in page and "Park behind the building." in page and VET in page
    assert "Not yours" not in page
    assert f'href="{reverse("bookings:place_list")}"' in page  # the customer nav links here


def test_a_place_with_a_bad_address_shows_the_error_beside_it_and_writes_nothing(customer_client):
    response = customer_client.post(reverse("bookings:place_create"), {**PLACE, "address": "Main St"})
    assert response.status_code == HTTPStatus.OK
    assert response.context["form"].errors == {
        "address": ["Add the 5-digit ZIP code so we can find this address."]
    }
    assert 'aria-invalid="true"' in response.content.decode() or "is-invalid" in response.content.decode()
    assert not Place.objects.exists()


def test_a_duplicate_label_or_the_limit_is_shown_on_the_form(customer_client, customer, settings):
    PlaceFactory(owner=customer, label="Dr. Patel's clinic")
    response = customer_client.post(reverse("bookings:place_create"), PLACE)
    assert "You already have a place called" in response.content.decode()
    settings.PLACES_PER_CUSTOMER = 1
    response = customer_client.post(reverse("bookings:place_create"), {**PLACE, "label": "Other"})
    assert "You can keep up to 1 saved places." in response.content.decode()
    assert Place.objects.count() == 1
    assert "Add a place" not in customer_client.get(reverse("bookings:place_list")).content.decode()


def test_edit_a_place(customer_client, customer):
    place = PlaceFactory(owner=customer, label="Home")
    response = customer_client.post(
        reverse("bookings:place_edit", args=[place.pk]), {**PLACE, "label": "Flat"}
    )
    assert response.url == reverse("bookings:place_list")
    place.refresh_from_db()
    assert (place.label, place.address) == ("Flat", VET)


def test_a_refused_edit_keeps_the_place_and_its_name_on_the_page(customer_client, customer):
    place = PlaceFactory(owner=customer, label="Home")
    PlaceFactory(owner=customer, label="Vet")
    response = customer_client.post(
        reverse("bookings:place_edit", args=[place.pk]), {**PLACE, "label": "vet"}
    )
    assert '<h1 class="page-title mb-3">Edit Home</h1>' in response.content.decode()
    assert Place.objects.get(pk=place.pk).label == "Home"


def test_delete_a_place_after_confirming(customer_client, customer):
    place = PlaceFactory(owner=customer, label="Home")
    page = customer_client.get(reverse("bookings:place_delete", args=[place.pk]))
    assert "Delete “Home”?" in page.content.decode() and Place.objects.exists()
    response = customer_client.post(reverse("bookings:place_delete", args=[place.pk]))
    assert response.url == reverse("bookings:place_list")
    assert not Place.objects.exists()


@pytest.mark.parametrize("count", [5, 50])
def test_place_list_query_count_does_not_grow_with_places(
    customer_client, customer, count, settings, django_assert_max_num_queries
):
    settings.PLACES_PER_CUSTOMER = 50
    PlaceFactory.create_batch(count, owner=customer)
    with django_assert_max_num_queries(3):  # session, user, the places
        response = customer_client.get(reverse("bookings:place_list"))
    assert response.content.decode().count('class="card h-100 p-3"') == count


# --- Booking from a saved place --------------------------------------------------------


def booking_data(pet, **overrides):
    return {
        "pets": [pet.pk],
        "pickup_address": PICKUP,
        "dropoff_address": DROPOFF,
        "scheduled_at": local_input(timezone.now() + timedelta(days=2)),
        "notes": "",
        **overrides,
    }


def test_booking_form_offers_my_places_and_recent_addresses_only(
    customer_client, customer, pet, other_customer
):
    PlaceFactory(owner=customer, label="Home", address=PICKUP)
    PlaceFactory(owner=other_customer, label="Mallory's", address="9 Secret Ln, New York, NY 10001")
    make_ride(pet=pet, pickup=PICKUP, dropoff="1 Recent Rd, New York, NY 10003")
    page = customer_client.get(reverse("bookings:ride_new")).content.decode()
    assert 'data-fills="id_pickup_address"' in page and 'data-fills="id_dropoff_address"' in page
    assert f'data-address="{PICKUP}"' in page and "Home · " in page
    assert "1 Recent Rd, New York, NY 10003" in page
    assert "Mallory" not in page and "Secret Ln" not in page
    assert page.count(f'value="address:{PICKUP}"') == 0  # already offered as the saved place "Home"
    assert "js/places.js" in page


def test_booking_from_places_without_javascript_brings_their_notes(customer_client, customer, pet, driver):
    home = PlaceFactory(owner=customer, label="Home", address=PICKUP, notes="Gate code 4321")
    vet = PlaceFactory(owner=customer, label="Vet", address=VET, notes="Use the side door")
    data = booking_data(pet, pickup_address="", dropoff_address="", pickup_from=f"place:{home.pk}")
    data["dropoff_from"] = f"place:{vet.pk}"
    response = customer_client.post(reverse("bookings:ride_new"), data)
    ride = Ride.objects.get()
    assert response.url == f"/app/rides/{ride.pk}/pay/"
    assert (ride.pickup_address, ride.dropoff_address) == (PICKUP, VET)
    assert (ride.pickup_notes, ride.dropoff_notes) == ("Gate code 4321", "Use the side door")


def test_a_place_chosen_and_its_address_filled_in_by_the_script_brings_its_notes(
    customer_client, customer, pet
):
    home = PlaceFactory(owner=customer, address=PICKUP, notes="Gate code 4321")
    customer_client.post(reverse("bookings:ride_new"), booking_data(pet, pickup_from=f"place:{home.pk}"))
    assert Ride.objects.get().pickup_notes == "Gate code 4321"


def test_a_different_typed_address_wins_over_the_chosen_place(customer_client, customer, pet):
    home = PlaceFactory(owner=customer, address="1 Other St, New York, NY 10001", notes="Gate code 4321")
    customer_client.post(reverse("bookings:ride_new"), booking_data(pet, pickup_from=f"place:{home.pk}"))
    ride = Ride.objects.get()
    assert (ride.pickup_address, ride.pickup_notes) == (PICKUP, "")


def test_a_recent_address_fills_an_empty_field(customer_client, customer, pet):
    make_ride(pet=pet, pickup=PICKUP, dropoff=VET)
    data = booking_data(pet, dropoff_address="", dropoff_from=f"address:{VET}")
    customer_client.post(reverse("bookings:ride_new"), data)
    assert Ride.objects.latest("created_at").dropoff_address == VET


def test_booking_from_another_customers_place_is_refused(customer_client, pet, other_customer):
    theirs = PlaceFactory(owner=other_customer, address=VET, notes="their gate code 8888")
    data = booking_data(pet, dropoff_address="", dropoff_from=f"place:{theirs.pk}")
    response = customer_client.post(reverse("bookings:ride_new"), data)
    assert response.status_code == HTTPStatus.OK
    assert response.context["form"].errors["dropoff_from"] == ["Choose one of your saved places."]
    assert "8888" not in response.content.decode() and VET not in response.content.decode()
    assert not Ride.objects.exists()


def test_the_driver_and_operations_read_the_place_notes(client, customer, pet, driver, admin_user):
    ride = make_ride(
        pet=pet,
        status=RideStatus.ASSIGNED,
        driver=driver,
        pickup_notes="Gate code 4321",
        dropoff_notes="Use the side door",
    )
    client.force_login(driver)
    for url in (reverse("fleet:ride_detail", args=[ride.pk]), reverse("fleet:home")):
        page = client.get(url).content.decode()
        assert "Gate code 4321" in page and "Use the side door" in page
    client.force_login(admin_user)
    page = client.get(reverse("bookings_ops:ride_detail", args=[ride.pk])).content.decode()
    assert "Gate code 4321" in page and "Use the side door" in page
    client.force_login(customer)
    page = client.get(reverse("bookings:ride_detail", args=[ride.pk])).content.decode()
    assert "Gate code 4321" in page


def test_another_driver_does_not_read_the_place_notes(client, pet, driver, other_driver):
    ride = make_ride(pet=pet, status=RideStatus.ASSIGNED, driver=driver, pickup_notes="Gate code 4321")
    client.force_login(other_driver)
    response = client.get(reverse("fleet:ride_detail", args=[ride.pk]))
    assert response.status_code == HTTPStatus.NOT_FOUND and "4321" not in response.content.decode()


# --- Book again --------------------------------------------------------------------------


def test_an_ended_ride_offers_book_again_and_an_open_one_does_not(customer_client, pet):
    done = make_ride(
        pet=pet,
        status=RideStatus.COMPLETED,
        driver=DriverFactory(),
        scheduled_at=timezone.now() - timedelta(days=3),
    )
    upcoming = make_ride(pet=pet)
    again = f"{reverse('bookings:ride_new')}?again={done.pk}"
    assert again in customer_client.get(reverse("bookings:ride_detail", args=[done.pk])).content.decode()
    assert (
        "?again="
        not in customer_client.get(reverse("bookings:ride_detail", args=[upcoming.pk])).content.decode()
    )


def test_book_again_prefills_the_form(customer_client, customer, pet, settings):
    settings.BOOKING_MIN_NOTICE = timedelta(hours=2)
    home = PlaceFactory(owner=customer, label="Home", address=PICKUP)
    when = timezone.now() - timedelta(days=6)
    done = make_ride(
        pet=pet, status=RideStatus.CANCELLED, scheduled_at=when, dropoff=VET, notes="Bring treats"
    )
    response = customer_client.get(reverse("bookings:ride_new"), {"again": done.pk})
    form = response.context["form"]
    suggested = form.initial["scheduled_at"]
    assert (form.initial["pets"], form.initial["pickup_address"], form.initial["dropoff_address"]) == (
        [pet.pk],
        PICKUP,
        VET,
    )
    assert form.initial["notes"] == "Bring treats"
    assert form.initial["pickup_from"] == f"place:{home.pk}"  # the saved place it is, so its notes go too
    local, before = timezone.localtime(suggested), timezone.localtime(when)
    assert (local.hour, local.minute) == (before.hour, before.minute)
    assert timezone.now() + timedelta(hours=2) <= suggested <= timezone.now() + timedelta(days=1, hours=2)
    page = response.content.decode()
    assert f'value="{PICKUP}"' in page and f'value="{VET}"' in page and local_input(suggested) in page
    # Posted as it is, it books.
    response = customer_client.post(
        reverse("bookings:ride_new"),
        booking_data(pet, dropoff_address=VET, notes="Bring treats", scheduled_at=local_input(suggested)),
    )
    assert response.status_code == HTTPStatus.FOUND


def test_book_again_of_another_customers_ride_is_404(customer_client, other_customer):
    theirs = make_ride(
        customer=other_customer,
        status=RideStatus.COMPLETED,
        driver=DriverFactory(),
        dropoff=VET,
        notes="secret-x",
    )
    response = customer_client.get(reverse("bookings:ride_new"), {"again": theirs.pk})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert VET not in response.content.decode() and "secret-x" not in response.content.decode()


def test_book_again_with_a_removed_pet_leaves_the_pet_to_choose(customer_client, customer, pet):
    done = make_ride(
        pet=pet,
        status=RideStatus.COMPLETED,
        driver=DriverFactory(),
        scheduled_at=timezone.now() - timedelta(days=1),
    )
    PetFactory(owner=customer, name="Kiwi")
    services.pet_delete(pet=pet, by=customer)  # archived: it has history
    response = customer_client.get(reverse("bookings:ride_new"), {"again": done.pk})
    assert response.context["form"].initial["pets"] == []
    assert response.context["form"].initial["pickup_address"] == PICKUP


def test_a_label_taken_meanwhile_is_the_same_field_error(customer):
    """Two requests saving "Home" at once both pass the look-up; the constraint (case aside)
    refuses the second when it is saved, and the customer reads the same message."""
    PlaceFactory(owner=customer, label="Home")
    racing = Place(owner=customer, label="HOME", kind="home", address=PICKUP, lat=1, lng=1)
    with pytest.raises(DomainError) as refused:
        services._saved(racing)
    assert refused.value.errors == {"label": ["You already have a place called “HOME”. Choose another name."]}
    assert Place.objects.count() == 1


def test_book_again_with_a_number_int_cannot_read_is_the_plain_form(customer_client, customer):
    PetFactory(owner=customer)
    response = customer_client.get(reverse("bookings:ride_new"), {"again": "²"})
    assert response.status_code == HTTPStatus.OK
    assert response.context["form"].initial == {}
