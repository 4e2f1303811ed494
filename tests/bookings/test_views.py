from datetime import timedelta
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings.models import Pet, Ride, RideStatus
from tests.factories import DROPOFF, PICKUP, DriverFactory, PetFactory, make_ride

pytestmark = pytest.mark.django_db


def local_input(moment):
    """How a datetime-local input posts a time (in the user's zone)."""
    return timezone.localtime(moment, timezone.get_default_timezone()).strftime("%Y-%m-%dT%H:%M")


def booking_data(for_pet, **overrides):
    return {
        "pets": [for_pet.pk],
        "pickup_address": PICKUP,
        "dropoff_address": DROPOFF,
        "scheduled_at": local_input(timezone.now() + timedelta(days=2)),
        "notes": "",
        **overrides,
    }


# --- Access ----------------------------------------------------------------------

CUSTOMER_URLS = [
    ("bookings:ride_list", False),
    ("bookings:ride_new", False),
    ("bookings:pet_list", False),
    ("bookings:pet_create", False),
    ("bookings:ride_detail", True),
    ("bookings:ride_reschedule", True),
    ("bookings:ride_cancel", True),
]


def url_for(name, needs_ride, ride):
    return reverse(name, args=[ride.pk]) if needs_ride else reverse(name)


@pytest.mark.parametrize(("name", "needs_ride"), CUSTOMER_URLS)
def test_anonymous_is_sent_to_login(client, ride, name, needs_ride):
    response = client.get(url_for(name, needs_ride, ride))
    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("account_login"))


def test_anonymous_htmx_request_gets_a_client_redirect(client):
    response = client.post(reverse("bookings:ride_quote"), headers={"HX-Request": "true"})
    assert response.status_code == HTTPStatus.OK
    assert response.headers["HX-Redirect"].startswith(reverse("account_login"))


@pytest.mark.parametrize(("name", "needs_ride"), CUSTOMER_URLS)
@pytest.mark.parametrize("role_fixture", ["driver", "admin_user"])
def test_other_roles_get_403(client, ride, name, needs_ride, role_fixture, request):
    client.force_login(request.getfixturevalue(role_fixture))
    assert client.get(url_for(name, needs_ride, ride)).status_code == HTTPStatus.FORBIDDEN


@pytest.mark.parametrize("name", ["bookings:ride_detail", "bookings:ride_reschedule", "bookings:ride_cancel"])
def test_another_customers_ride_is_404(client, other_customer, ride, name):
    client.force_login(other_customer)
    assert client.get(reverse(name, args=[ride.pk])).status_code == HTTPStatus.NOT_FOUND


def test_another_customers_ride_cannot_be_cancelled_by_post(client, other_customer, ride):
    client.force_login(other_customer)
    response = client.post(reverse("bookings:ride_cancel", args=[ride.pk]), {"reason": "ha"})
    assert response.status_code == HTTPStatus.NOT_FOUND
    ride.refresh_from_db()
    assert ride.status == RideStatus.CONFIRMED


@pytest.mark.parametrize("name", ["bookings:pet_edit", "bookings:pet_delete"])
def test_another_customers_pet_is_404(client, other_customer, pet, name):
    client.force_login(other_customer)
    assert client.get(reverse(name, args=[pet.pk])).status_code == HTTPStatus.NOT_FOUND
    assert client.post(reverse(name, args=[pet.pk]), {"name": "Stolen"}).status_code == HTTPStatus.NOT_FOUND
    pet.refresh_from_db()
    assert pet.name == "Biscuit"


# --- Pets --------------------------------------------------------------------------


def test_add_pet(customer_client, customer):
    response = customer_client.post(
        reverse("bookings:pet_create"),
        {
            "name": "Luna",
            "type": "cat",
            "breed": "Siamese",
            "age_years": "3",
            "weight_lb": "9.5",
            "special_needs": "Insulin at 6pm",
            "crate_required": "on",
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    pet = customer.pets.get(name="Luna")
    assert (pet.type, str(pet.weight_lb), pet.crate_required) == ("cat", "9.5", True)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "type": "dog", "weight_lb": "10"}, "name"),
        ({"name": "Rex", "type": "dragon", "weight_lb": "10"}, "type"),
        ({"name": "Rex", "type": "dog", "weight_lb": "-3"}, "weight_lb"),
        ({"name": "Rex", "type": "dog", "weight_lb": "10", "age_years": "300"}, "age_years"),
    ],
)
def test_add_pet_with_bad_input_shows_errors_and_writes_nothing(customer_client, data, field):
    response = customer_client.post(reverse("bookings:pet_create"), data)
    assert response.status_code == HTTPStatus.OK
    assert field in response.context["form"].errors
    assert Pet.objects.count() == 0


def test_edit_pet(customer_client, pet):
    data = {"name": "Biscuit II", "type": "dog", "weight_lb": "30", "breed": "", "special_needs": ""}
    assert (
        customer_client.post(reverse("bookings:pet_edit", args=[pet.pk]), data).status_code
        == HTTPStatus.FOUND
    )
    pet.refresh_from_db()
    assert (pet.name, str(pet.weight_lb)) == ("Biscuit II", "30.0")


def test_pet_form_says_special_needs_cost_extra(customer_client, settings):
    settings.TARIFF = {**settings.TARIFF, "special_needs": 850}
    page = customer_client.get(reverse("bookings:pet_create")).content.decode()
    assert "Any text here adds $8.50 to each ride for the extra care." in page


def test_pet_with_upcoming_rides_says_so_before_delete_is_pressed(customer_client, pet, ride):
    other = make_ride(pet=pet, scheduled_at=ride.scheduled_at + timedelta(days=1))
    make_ride(pet=pet, status=RideStatus.COMPLETED, driver=DriverFactory())  # history: doesn't count
    listing = customer_client.get(reverse("bookings:pet_list")).content.decode()
    assert "2 upcoming rides: Biscuit can be deleted once they end or are cancelled." in listing

    page = customer_client.get(reverse("bookings:pet_delete", args=[pet.pk])).content.decode()
    assert "Biscuit can't be deleted yet" in page
    assert "Biscuit has 2 upcoming rides." in page
    for upcoming in (ride, other):
        assert reverse("bookings:ride_detail", args=[upcoming.pk]) in page
    assert "Delete Biscuit</button>" not in page  # nothing to press that would fail

    ride.status = RideStatus.CANCELLED
    ride.save()
    other.delete()
    assert "upcoming ride" not in customer_client.get(reverse("bookings:pet_list")).content.decode()
    assert (
        "Delete Biscuit</button>"
        in customer_client.get(reverse("bookings:pet_delete", args=[pet.pk])).content.decode()
    )


def test_pet_with_upcoming_ride_cannot_be_deleted(customer_client, pet, ride):
    response = customer_client.post(reverse("bookings:pet_delete", args=[pet.pk]), follow=True)
    assert "has upcoming rides" in response.content.decode()
    assert Pet.objects.filter(pk=pet.pk, archived_at__isnull=True).exists()


def test_delete_pet(customer_client, pet):
    customer_client.post(reverse("bookings:pet_delete", args=[pet.pk]))
    assert not Pet.objects.filter(pk=pet.pk).exists()


def test_deleting_a_pet_with_ride_history_archives_it(customer_client, pet):
    make_ride(pet=pet, status=RideStatus.COMPLETED, driver=DriverFactory())
    response = customer_client.post(reverse("bookings:pet_delete", args=[pet.pk]), follow=True)
    assert "Biscuit is removed from your pets." in response.content.decode()
    assert list(response.context["pets"]) == []
    pet.refresh_from_db()
    assert pet.archived_at is not None


def test_pet_list_shows_only_my_pets(customer_client, pet, other_customer):
    PetFactory(owner=other_customer, name="NotYours")
    content = customer_client.get(reverse("bookings:pet_list")).content.decode()
    assert "Biscuit" in content and "NotYours" not in content


# --- Booking ------------------------------------------------------------------------


def test_booking_form_without_pets_sends_customer_to_add_one(customer_client):
    response = customer_client.get(reverse("bookings:ride_new"))
    assert response.url == reverse("bookings:pet_create")


def test_book_a_ride_then_pay_for_it(customer_client, customer, pet):
    response = customer_client.post(reverse("bookings:ride_new"), booking_data(pet, notes="Gate code 1234"))
    ride = Ride.objects.get()
    assert response.url == f"/app/rides/{ride.pk}/pay/"
    assert (ride.customer, ride.party_pets, ride.status, ride.notes) == (
        customer,
        [pet],
        RideStatus.PENDING_PAYMENT,
        "Gate code 1234",
    )
    assert ride.price_cents == ride.quote["total_cents"] > 0


def test_booking_time_is_read_in_the_customers_time_zone(customer_client, customer, pet):
    customer.time_zone = "America/Los_Angeles"
    customer.save()
    customer_client.post(reverse("bookings:ride_new"), booking_data(pet, scheduled_at="2026-12-02T09:30"))
    ride = Ride.objects.get()
    assert ride.scheduled_at.isoformat() == "2026-12-02T17:30:00+00:00"  # 09:30 PST is 17:30 UTC


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"scheduled_at": "2020-01-01T10:00"}, "scheduled_at"),
        ({"scheduled_at": "not a date"}, "scheduled_at"),
        ({"scheduled_at": local_input(timezone.now() + timedelta(minutes=20))}, "scheduled_at"),
        ({"scheduled_at": local_input(timezone.now() + timedelta(days=120))}, "scheduled_at"),
        ({"dropoff_address": PICKUP}, "dropoff_address"),
        ({"pickup_address": "Nowhere"}, "pickup_address"),
        ({"pickup_address": ""}, "pickup_address"),
        ({"pets": ""}, "pets"),
    ],
)
def test_bad_booking_shows_the_error_beside_the_field_and_writes_nothing(
    customer_client, pet, overrides, field
):
    response = customer_client.post(reverse("bookings:ride_new"), booking_data(pet, **overrides))
    assert response.status_code == HTTPStatus.OK
    assert field in response.context["form"].errors
    assert Ride.objects.count() == 0


def test_booking_someone_elses_pet_is_refused(customer_client, pet, other_customer):
    their_pet = PetFactory(owner=other_customer)
    response = customer_client.post(reverse("bookings:ride_new"), booking_data(their_pet))
    assert response.context["form"].errors["pets"] == ["Choose among your own pets."]
    assert Ride.objects.count() == 0


def test_live_quote_fragment_shows_the_parts(customer_client, pet):
    response = customer_client.post(
        reverse("bookings:ride_quote"), booking_data(pet), headers={"HX-Request": "true"}
    )
    content = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert content.lstrip().startswith('<section id="quote"')  # the fragment only, not a page
    for part in ("Base fare", "Distance", "Medium dog", "Total"):
        assert part in content
    assert Ride.objects.count() == 0


def test_live_quote_for_incomplete_form_explains_what_is_missing(customer_client, pet):
    response = customer_client.post(
        reverse("bookings:ride_quote"), {"pets": [pet.pk], "pickup_address": "Nowhere"}
    )
    content = response.content.decode()
    assert "to see the price" in content
    assert "ZIP code" in content


# --- My rides -----------------------------------------------------------------------


def test_ride_list_filters_by_status(customer_client, customer):
    upcoming = make_ride(customer=customer)
    done = make_ride(customer=customer, status=RideStatus.COMPLETED, driver=DriverFactory())
    cancelled = make_ride(customer=customer, status=RideStatus.CANCELLED)

    def ids(status):
        response = customer_client.get(reverse("bookings:ride_list"), {"status": status})
        return {ride.pk for ride in response.context["page_obj"]}

    assert ids("upcoming") == {upcoming.pk}
    assert ids("completed") == {done.pk}
    assert ids("cancelled") == {cancelled.pk}
    assert ids("all") == {upcoming.pk, done.pk, cancelled.pk}
    assert ids("bogus") == {upcoming.pk}


def test_ride_list_htmx_returns_only_the_list_fragment(customer_client, ride):
    response = customer_client.get(
        reverse("bookings:ride_list"), {"status": "all"}, headers={"HX-Request": "true"}
    )
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="ride-list">')
    assert "<html" not in content
    assert response.headers["Vary"].count("HX-Request") == 1


def test_ride_list_never_shows_other_customers_rides(customer_client, other_customer, ride):
    theirs = make_ride(customer=other_customer)
    response = customer_client.get(reverse("bookings:ride_list"), {"status": "all"})
    assert [r.pk for r in response.context["page_obj"]] == [ride.pk]
    assert f"/app/rides/{theirs.pk}/" not in response.content.decode()


def test_ride_list_paginates_with_real_links(customer_client, customer):
    pet = PetFactory(owner=customer)
    for days in range(12):
        make_ride(pet=pet, scheduled_at=timezone.now() + timedelta(days=2 + days))
    page1 = customer_client.get(reverse("bookings:ride_list"))
    assert len(page1.context["page_obj"]) == 10
    assert (
        'href="?status=upcoming&amp;page=2"' in page1.content.decode() or "page=2" in page1.content.decode()
    )
    page2 = customer_client.get(reverse("bookings:ride_list"), {"status": "upcoming", "page": 2})
    assert len(page2.context["page_obj"]) == 2


@pytest.mark.parametrize("count", [5, 50])
def test_ride_list_query_count_does_not_grow_with_rides(
    customer_client, customer, count, django_assert_max_num_queries
):
    pet = PetFactory(owner=customer)
    driver = DriverFactory()
    for n in range(count):
        status = RideStatus.ASSIGNED if n % 2 else RideStatus.CONFIRMED
        make_ride(
            pet=pet,
            status=status,
            driver=driver if n % 2 else None,
            scheduled_at=timezone.now() + timedelta(days=2, hours=n),
        )
    # session + user + count + page of rides with the driver joined + their pets
    with django_assert_max_num_queries(5):
        response = customer_client.get(reverse("bookings:ride_list"), {"status": "all"})
    assert response.status_code == HTTPStatus.OK


def test_ride_detail_shows_timeline_and_breakdown(customer_client, customer, pet, pay):
    customer_client.post(reverse("bookings:ride_new"), booking_data(pet))
    ride = Ride.objects.get()
    pay(ride)
    content = customer_client.get(reverse("bookings:ride_detail", args=[ride.pk])).content.decode()
    for text in ("Booked", "Confirmed", "Base fare", "Reschedule", "Cancel ride", pet.name):
        assert text in content


# --- Reschedule and cancel ----------------------------------------------------------


def test_reschedule(customer_client, ride):
    new_time = ride.scheduled_at + timedelta(days=1)
    response = customer_client.post(
        reverse("bookings:ride_reschedule", args=[ride.pk]), {"scheduled_at": local_input(new_time)}
    )
    assert response.status_code == HTTPStatus.FOUND
    ride.refresh_from_db()
    assert ride.scheduled_at == new_time.replace(second=0, microsecond=0)


def test_reschedule_to_the_past_shows_the_error_and_changes_nothing(customer_client, ride):
    before = ride.scheduled_at
    response = customer_client.post(
        reverse("bookings:ride_reschedule", args=[ride.pk]), {"scheduled_at": "2020-05-05T10:00"}
    )
    assert response.status_code == HTTPStatus.OK
    assert "already passed" in response.content.decode()
    ride.refresh_from_db()
    assert ride.scheduled_at == before


def test_reschedule_quote_fragment(customer_client, ride):
    response = customer_client.post(
        reverse("bookings:ride_reschedule_quote", args=[ride.pk]),
        {"scheduled_at": local_input(ride.scheduled_at + timedelta(days=1))},
    )
    assert "Total" in response.content.decode()


def test_cancel_page_shows_terms_then_cancels(customer_client, ride):
    page = customer_client.get(reverse("bookings:ride_cancel", args=[ride.pk])).content.decode()
    assert "Cancelling now is free" in page
    response = customer_client.post(reverse("bookings:ride_cancel", args=[ride.pk]), {"reason": "Vet closed"})
    assert response.status_code == HTTPStatus.FOUND
    ride.refresh_from_db()
    assert ride.status == RideStatus.CANCELLED


def test_cancel_page_shows_the_late_fee(customer_client, customer):
    ride = make_ride(customer=customer, scheduled_at=timezone.now() + timedelta(hours=5))
    page = customer_client.get(reverse("bookings:ride_cancel", args=[ride.pk])).content.decode()
    assert "Cancelling now costs" in page


def test_pages_say_a_ride_moved_inside_the_fee_window_keeps_its_fee(customer_client, customer):
    ride = make_ride(customer=customer, scheduled_at=timezone.now() + timedelta(hours=5), price_cents=9000)
    reschedule = customer_client.get(reverse("bookings:ride_reschedule", args=[ride.pk])).content.decode()
    assert "keeps its cancellation fee of at least $45.00" in reschedule
    customer_client.post(
        reverse("bookings:ride_reschedule", args=[ride.pk]),
        {"scheduled_at": local_input(ride.scheduled_at + timedelta(days=6))},
    )
    ride.refresh_from_db()
    assert ride.scheduled_at > timezone.now() + timedelta(days=6)

    page = customer_client.get(reverse("bookings:ride_cancel", args=[ride.pk])).content.decode()

    assert "a move keeps the fee" in page
    assert '<strong data-testid="cancel-fee">$45.00</strong>' in page


def test_moving_a_ride_before_its_cut_off_moves_the_cut_off(customer_client, customer):
    ride = make_ride(customer=customer, scheduled_at=timezone.now() + timedelta(days=3))
    customer_client.post(
        reverse("bookings:ride_reschedule", args=[ride.pk]),
        {"scheduled_at": local_input(ride.scheduled_at + timedelta(days=2))},
    )
    ride.refresh_from_db()
    assert (ride.late_fee_since, ride.late_fee_min_cents) == (None, 0)
    page = customer_client.get(reverse("bookings:ride_cancel", args=[ride.pk])).content.decode()
    assert "Cancelling now is free" in page


def test_an_unpaid_booking_cancels_free_even_close_to_pickup(customer_client, customer):
    ride = make_ride(
        customer=customer, status=RideStatus.PENDING_PAYMENT, scheduled_at=timezone.now() + timedelta(hours=5)
    )
    page = customer_client.get(reverse("bookings:ride_cancel", args=[ride.pk])).content.decode()
    assert "isn't paid yet: cancelling it is free" in page and "cancel-fee" not in page
    customer_client.post(reverse("bookings:ride_cancel", args=[ride.pk]))
    assert ride.events.get(action="cancel").data["fee_cents"] == 0


def test_cancelling_a_completed_ride_is_refused(customer_client, customer):
    ride = make_ride(customer=customer, status=RideStatus.COMPLETED, driver=DriverFactory())
    response = customer_client.post(reverse("bookings:ride_cancel", args=[ride.pk]), follow=True)
    assert "not possible now" in response.content.decode()
    ride.refresh_from_db()
    assert ride.status == RideStatus.COMPLETED


def test_views_reject_wrong_http_methods(customer_client, ride):
    assert customer_client.get(reverse("bookings:ride_quote")).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert (
        customer_client.delete(reverse("bookings:ride_detail", args=[ride.pk])).status_code
        == HTTPStatus.METHOD_NOT_ALLOWED
    )


def test_quote_fragments_are_denied_like_their_pages(client, driver, other_customer, ride):
    """The HTMX fragments check who is asking, as the pages they belong to do."""
    quote = reverse("bookings:ride_quote")
    reschedule_quote = reverse("bookings:ride_reschedule_quote", args=[ride.pk])
    data = {"scheduled_at": local_input(ride.scheduled_at + timedelta(days=1))}
    client.force_login(driver)
    assert client.post(quote, headers={"HX-Request": "true"}).status_code == HTTPStatus.FORBIDDEN
    assert client.post(reschedule_quote, data).status_code == HTTPStatus.FORBIDDEN
    client.force_login(other_customer)
    assert client.post(reschedule_quote, data).status_code == HTTPStatus.NOT_FOUND
