"""Operations' fleet pages: dispatch queue, assigning, driver accounts; and the ride page panels."""

import re
from datetime import timedelta
from http import HTTPStatus
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from bookings.models import RideStatus
from fleet.models import CrateSize, DriverProfile
from fleet.services import AUTO_DISPATCH_FLAG
from project.accounts.models import User
from tests.factories import (
    FAR,
    NEAR,
    TEST_PASSWORD,
    CustomerFactory,
    DriverProfileFactory,
    PetFactory,
    make_ride,
    on_duty_driver,
)
from tests.mail import confirm_mailed_address

pytestmark = pytest.mark.django_db


# --- Who may --------------------------------------------------------------------------


OPS_GETS = ["fleet_ops:dispatch", "fleet_ops:drivers", "fleet_ops:driver_create"]


@pytest.mark.parametrize("name", OPS_GETS)
def test_ops_fleet_pages_render_for_admins(name, admin_client):
    assert admin_client.get(reverse(name)).status_code == HTTPStatus.OK


@pytest.mark.parametrize("who", ["customer", "driver"])
def test_customers_and_drivers_get_403(who, client, request, ride, fleet_driver):
    client.force_login(request.getfixturevalue(who))
    for name in OPS_GETS:
        assert client.get(reverse(name)).status_code == HTTPStatus.FORBIDDEN
    assert client.get(reverse("fleet_ops:assign", args=[ride.pk])).status_code == HTTPStatus.FORBIDDEN
    response = client.post(reverse("fleet_ops:assign", args=[ride.pk]), {"driver": fleet_driver.pk})
    assert response.status_code == HTTPStatus.FORBIDDEN
    for name in ["fleet_ops:driver_deactivate", "fleet_ops:driver_invite"]:
        assert client.post(reverse(name, args=[fleet_driver.pk])).status_code == HTTPStatus.FORBIDDEN
    ride.refresh_from_db()
    assert ride.driver is None
    assert User.objects.get(pk=fleet_driver.pk).is_active


# --- Dispatch ----------------------------------------------------------------------------


def test_queue_lists_waiting_rides_soonest_first_with_flags(admin_client, customer, fleet_driver):
    later = make_ride(customer=customer, scheduled_at=timezone.now() + timedelta(days=4))
    sooner = make_ride(customer=customer, attention=AUTO_DISPATCH_FLAG)
    assigned = make_ride(customer=customer, status=RideStatus.ASSIGNED, driver=fleet_driver)
    response = admin_client.get(reverse("fleet_ops:dispatch"))
    assert list(response.context["page_obj"]) == [sooner, later]
    assert list(response.context["awaiting"]) == [assigned]
    assert AUTO_DISPATCH_FLAG in response.content.decode()


@pytest.mark.parametrize("count", [5, 50])
def test_queue_queries_do_not_grow_with_rides(count, admin_client, django_assert_max_num_queries):
    for _ in range(count):
        make_ride(pet=PetFactory(owner=CustomerFactory()))
    with django_assert_max_num_queries(7):
        response = admin_client.get(reverse("fleet_ops:dispatch"))
    assert response.context["page_obj"].paginator.count == count


def test_assign_page_lists_eligible_drivers_best_first_and_the_rest_with_reasons(admin_client, ride):
    near = on_duty_driver("Near Nina", NEAR)
    far = on_duty_driver("Far Fred", FAR)
    off = on_duty_driver("Off Otto", NEAR, on_duty=False)
    cats_only = on_duty_driver("Cat Cora", NEAR, pet_types=["cat"])
    response = admin_client.get(reverse("fleet_ops:assign", args=[ride.pk]))
    assert [c.driver for c in response.context["eligible"]] == [near, far]
    assert {c.driver: c.reasons for c in response.context["ineligible"]} == {
        off: ("Off duty",),
        cats_only: ("Doesn't take dogs",),
    }
    page = response.content.decode()
    assert page.index("Near Nina") < page.index("Far Fred") < page.index("Not available")


@pytest.mark.parametrize("count", [3, 30])
def test_assign_page_queries_do_not_grow_with_drivers(
    count, admin_client, ride, django_assert_max_num_queries
):
    for n in range(count):
        on_duty_driver(f"Driver {n}", NEAR)
    with django_assert_max_num_queries(8):
        admin_client.get(reverse("fleet_ops:assign", args=[ride.pk]))


def test_assigning_from_the_queue(admin_client, ride, fleet_driver, admin_user):
    response = admin_client.post(reverse("fleet_ops:assign", args=[ride.pk]), {"driver": fleet_driver.pk})
    assert response["Location"] == reverse("fleet_ops:dispatch")
    ride.refresh_from_db()
    assert (ride.status, ride.driver) == (RideStatus.ASSIGNED, fleet_driver)
    assert ride.events.get(action="assign").actor == admin_user


def test_assigning_goes_back_to_the_ride_page_but_never_off_site(admin_client, ride, fleet_driver):
    ride_page = reverse("bookings_ops:ride_detail", args=[ride.pk])
    response = admin_client.post(
        reverse("fleet_ops:assign", args=[ride.pk]),
        {"driver": fleet_driver.pk, "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("fleet_ops:dispatch")
    ride2 = make_ride(customer=ride.customer, scheduled_at=ride.scheduled_at + timedelta(days=1))
    response = admin_client.post(
        reverse("fleet_ops:assign", args=[ride2.pk]), {"driver": fleet_driver.pk, "next": ride_page}
    )
    assert response["Location"] == ride_page


@pytest.mark.parametrize("driver_pk", ["not-a-number", "0"])
def test_assigning_nobody_or_an_ineligible_driver_says_why(driver_pk, admin_client, ride, customer):
    response = admin_client.post(reverse("fleet_ops:assign", args=[ride.pk]), {"driver": driver_pk})
    assert response.status_code == HTTPStatus.OK
    assert "Choose one of the drivers listed." in response.content.decode()
    off = on_duty_driver("Off Otto", NEAR, on_duty=False)
    response = admin_client.post(reverse("fleet_ops:assign", args=[ride.pk]), {"driver": off.pk}, follow=True)
    assert "Off Otto can&#x27;t take this ride: off duty." in response.content.decode()
    admin_client.post(reverse("fleet_ops:assign", args=[ride.pk]), {"driver": customer.pk})
    ride.refresh_from_db()
    assert ride.driver is None and not ride.events.exists()


def test_reassign_and_unassign_from_the_ride_page(admin_client, fleet_driver, other_fleet_driver, customer):
    ride = make_ride(customer=customer, status=RideStatus.ASSIGNED, driver=fleet_driver)
    url = reverse("fleet_ops:reassign", args=[ride.pk])
    no_reason = admin_client.post(url, {"driver": other_fleet_driver.pk, "reason": ""}, follow=True)
    assert "say why you are changing it" in no_reason.content.decode()
    admin_client.post(url, {"driver": other_fleet_driver.pk, "reason": "Dana is off sick"})
    ride.refresh_from_db()
    assert ride.driver == other_fleet_driver

    unassign = reverse("fleet_ops:unassign", args=[ride.pk])
    admin_client.post(unassign, {"reason": ""})
    ride.refresh_from_db()
    assert ride.driver == other_fleet_driver
    response = admin_client.post(unassign, {"reason": "Customer asked for a woman driver"})
    assert response["Location"] == reverse("bookings_ops:ride_detail", args=[ride.pk])
    ride.refresh_from_db()
    assert (ride.status, ride.driver) == (RideStatus.CONFIRMED, None)
    assert ride.events.get(action="unassign").note == "Customer asked for a woman driver"


def test_ops_ride_page_panel_offers_the_best_drivers_then_reassign(admin_client, ride):
    nina = on_duty_driver("Near Nina", NEAR)
    on_duty_driver("Far Fred", FAR)
    page = admin_client.get(reverse("bookings_ops:ride_detail", args=[ride.pk])).content.decode()
    assert "Best eligible drivers" in page and 'aria-label="Assign Near Nina"' in page

    admin_client.post(reverse("fleet_ops:assign", args=[ride.pk]), {"driver": nina.pk})
    page = admin_client.get(reverse("bookings_ops:ride_detail", args=[ride.pk])).content.decode()
    assert "not accepted yet" in page and "Change driver" in page and "Unassign" in page
    assert re.search(r'<option value="\d+">Far Fred · [\d.]+ mi away · 0 that day</option>', page)
    assert ">Near Nina ·" not in page  # the current driver is not offered


# --- Driver accounts -------------------------------------------------------------------


DRIVER_FORM = {
    "name": "Gus Grant",
    "email": "Gus@Whiskers.Example",
    "phone": "+1 212 555 0199",
    "vehicle_make": "Ford",
    "vehicle_model": "Transit",
    "plate": "ab 123 cd",
    "pet_capacity": "4",
    "max_crate_size": str(CrateSize.XLARGE),
    "pet_types": ["dog", "cat"],
}


def test_admins_create_drivers_who_set_their_password_from_the_email(admin_client, client, committed):
    with committed():
        response = admin_client.post(reverse("fleet_ops:driver_create"), DRIVER_FORM)
    user = User.objects.get(email="gus@whiskers.example")
    assert response["Location"] == reverse("fleet_ops:driver_edit", args=[user.pk])
    assert (user.role, user.name, str(user.phone), user.has_usable_password()) == (
        User.Role.DRIVER,
        "Gus Grant",
        "+12125550199",
        False,
    )
    profile = user.driver_profile
    assert (profile.plate, profile.pet_capacity, profile.pet_types, profile.on_duty) == (
        "AB123CD",
        4,
        ["dog", "cat"],
        False,
    )
    assert EmailAddress.objects.get(user=user).primary

    (email,) = mail.outbox
    assert email.to == ["gus@whiskers.example"]
    assert "set your driver password" in email.subject
    assert "Ford Transit, plate AB123CD" in email.body
    link = re.search(r"http://\S+/accounts/password/reset/key/\S+/", email.body).group(0)
    assert link in email.alternatives[0][0]
    profile.refresh_from_db()
    assert profile.invite_sent_at is not None

    # The driver follows the link, sets a password, and lands on the driver portal.
    path = urlsplit(link).path
    form_page = client.get(path, follow=True)
    assert form_page.status_code == HTTPStatus.OK
    page = form_page.content.decode()
    assert "Welcome, Gus: set your password" in page and "Set my password" in page  # not "Change"
    assert "Change password" not in page
    client.post(
        form_page.redirect_chain[-1][0],
        {"password1": "a-long-new-secret-9", "password2": "a-long-new-secret-9"},
    )
    user.refresh_from_db()
    assert user.check_password("a-long-new-secret-9")
    assert client.get(reverse("home"))["Location"] == reverse("fleet:home")
    # The link works once.
    client.logout()
    assert "invalid" in client.get(path, follow=True).content.decode().lower()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"email": "taken@example.com"}, "email", "already has an account"),
        ({"plate": "WW 0001"}, "plate", "Another vehicle has this plate."),
        ({"plate": "no plate!"}, "plate", "letters, digits and dashes"),
        ({"pet_types": []}, "pet_types", "Choose at least one kind of pet."),
        ({"pet_capacity": "0"}, "pet_capacity", "greater than or equal to 1"),
        ({"phone": "12"}, "phone", "valid phone number"),
    ],
)
def test_driver_form_errors_sit_beside_their_fields(change, field, message, admin_client):
    CustomerFactory(email="taken@example.com")
    DriverProfileFactory(plate="WW0001")
    response = admin_client.post(reverse("fleet_ops:driver_create"), {**DRIVER_FORM, **change})
    assert response.status_code == HTTPStatus.OK
    assert any(message in error for error in response.context["form"].errors[field])
    assert not User.objects.filter(name="Gus Grant").exists()
    assert mail.outbox == []


def test_a_taken_email_and_plate_show_with_the_other_errors_in_one_round(admin_client):
    CustomerFactory(email="taken@example.com")
    DriverProfileFactory(plate="WW0001")
    bad = {**DRIVER_FORM, "email": "Taken@Example.com", "plate": "WW 0001", "phone": "12"}
    errors = admin_client.post(reverse("fleet_ops:driver_create"), bad).context["form"].errors
    assert errors["email"] == ["Someone already has an account with this email."]
    assert errors["plate"] == ["Another vehicle has this plate."]
    assert "phone" in errors
    assert not User.objects.filter(name="Gus Grant").exists()


def test_nobody_becomes_a_driver_by_signing_up_or_editing_their_profile(client):
    client.post(
        reverse("account_signup"),
        {
            "name": "Sneaky",
            "email": "sneaky@example.com",
            "password1": TEST_PASSWORD,
            "password2": TEST_PASSWORD,
            "role": "driver",
        },
    )
    confirm_mailed_address(client, "sneaky@example.com")  # which signs them in
    user = User.objects.get(email="sneaky@example.com")
    assert user.role == User.Role.CUSTOMER
    client.post(
        reverse("accounts:profile"), {"name": "Sneaky", "time_zone": "America/New_York", "role": "driver"}
    )
    user.refresh_from_db()
    assert user.role == User.Role.CUSTOMER
    assert client.get(reverse("fleet:home")).status_code == HTTPStatus.FORBIDDEN


def test_editing_a_driver_and_their_vehicle(admin_client, fleet_driver, auto_dispatch_off):
    url = reverse("fleet_ops:driver_edit", args=[fleet_driver.pk])
    assert "email" not in admin_client.get(url).context["form"].fields
    data = {**DRIVER_FORM, "name": "Dana D. Diaz", "plate": "new-1", "on_duty": ""}
    response = admin_client.post(url, data)
    assert response["Location"] == url
    profile = DriverProfile.objects.select_related("user").get(pk=fleet_driver.pk)
    assert (profile.user.name, profile.plate, profile.on_duty, profile.user.email) == (
        "Dana D. Diaz",
        "NEW-1",
        False,
        fleet_driver.email,
    )
    # Keeping its own plate is fine; taking another's is not.
    assert admin_client.post(url, {**data, "plate": "NEW-1"}).status_code == HTTPStatus.FOUND
    other = DriverProfileFactory(plate="OTHER1")
    response = admin_client.post(url, {**data, "plate": "other1"})
    assert "Another vehicle has this plate." in response.context["form"].errors["plate"]
    assert other.plate == "OTHER1"


def test_deactivating_a_driver_sends_their_rides_back_and_stops_sign_in(
    admin_client, client, fleet_driver, customer, auto_dispatch_off
):
    upcoming = make_ride(customer=customer, status=RideStatus.ASSIGNED, driver=fleet_driver)
    response = admin_client.post(reverse("fleet_ops:driver_deactivate", args=[fleet_driver.pk]), follow=True)
    assert "1 upcoming ride(s) went back to dispatch" in response.content.decode()
    upcoming.refresh_from_db()
    assert (upcoming.status, upcoming.driver) == (RideStatus.CONFIRMED, None)
    assert "no longer driving" in upcoming.events.get(action="unassign").note
    fleet_driver.refresh_from_db()
    assert not fleet_driver.is_active and not fleet_driver.driver_profile.on_duty
    assert not client.login(email=fleet_driver.email, password=TEST_PASSWORD)

    admin_client.post(reverse("fleet_ops:driver_reactivate", args=[fleet_driver.pk]))
    fleet_driver.refresh_from_db()
    assert fleet_driver.is_active and not fleet_driver.driver_profile.on_duty


def test_a_driver_on_a_ride_cannot_be_deactivated(admin_client, fleet_driver, customer):
    make_ride(customer=customer, status=RideStatus.PICKED_UP, driver=fleet_driver)
    response = admin_client.post(reverse("fleet_ops:driver_deactivate", args=[fleet_driver.pk]), follow=True)
    assert "is on a ride right now" in response.content.decode()
    fleet_driver.refresh_from_db()
    assert fleet_driver.is_active


def test_resending_the_invite(admin_client, fleet_driver, committed):
    with committed():
        admin_client.post(reverse("fleet_ops:driver_invite", args=[fleet_driver.pk]))
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [fleet_driver.email]


def test_the_invite_task_sends_once_per_request(fleet_driver):
    from fleet.tasks import send_driver_invite

    profile = fleet_driver.driver_profile
    asked = timezone.now()
    assert send_driver_invite(profile.pk, asked.isoformat()) is True
    assert send_driver_invite(profile.pk, asked.isoformat()) is False  # a retry of the same request
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("count", [4, 40])
def test_driver_list_queries_do_not_grow(count, admin_client, django_assert_max_num_queries):
    for n in range(count):
        on_duty_driver(f"Driver {n}", NEAR)
    with django_assert_max_num_queries(6):
        response = admin_client.get(reverse("fleet_ops:drivers"))
    assert response.context["page_obj"].paginator.count == count


def test_driver_search(admin_client):
    on_duty_driver("Nina Near", NEAR)
    on_duty_driver("Fred Far", FAR, plate="FAR999")
    response = admin_client.get(reverse("fleet_ops:drivers"), {"q": "far 999"}, HTTP_HX_REQUEST="true")
    assert [p.user.name for p in response.context["page_obj"]] == ["Fred Far"]
    assert response.content.decode().lstrip().startswith('<div id="driver-table"')


def test_driver_search_matches_name_email_and_vehicle(admin_client):
    nina = on_duty_driver("Nina Near", NEAR)
    on_duty_driver("Fred Far", FAR, plate="FAR999")

    def found(q):
        response = admin_client.get(reverse("fleet_ops:drivers"), {"q": q})
        return [p.user.name for p in response.context["page_obj"]]

    assert found("  nina ") == ["Nina Near"]
    assert found(nina.email.upper()) == ["Nina Near"]
    assert found("") == ["Fred Far", "Nina Near"]
    assert found("nobody") == []
    html = admin_client.get(reverse("fleet_ops:drivers"), {"q": "nobody"}).content.decode()
    assert "No driver matches “nobody”." in html
    assert 'id="driver-search"' in html and 'value="nobody"' in html
