"""A customer deletes their account: their personal data is erased, their rides and money
records stay (under "Deleted customer"), every session and API login ends, and the same
email can sign up again as a new account. Refused with open rides, a wrong password, or for
drivers and operations."""

from http import HTTPStatus

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import Payment, StripeCustomer, Transaction
from bookings.models import Pet, Place, Ride, RideEvent, RideStatus
from notifications.models import Notification, NotificationAttempt, NotificationPreference
from project.accounts.models import PhoneCode, RefreshToken, User
from project.accounts.tokens import token_pair_for
from tests.api.conftest import ApiClient
from tests.factories import (
    TEST_PASSWORD,
    CustomerFactory,
    NotificationFactory,
    PaymentFactory,
    PetFactory,
    PlaceFactory,
    TransactionFactory,
    make_ride,
)
from tests.mail import confirm_mailed_address

pytestmark = pytest.mark.django_db

DELETE = {"password": TEST_PASSWORD, "confirm": "on"}
EMAIL = "alice.private@example.com"
NEW_PASSWORD = "a-long-unusual-pass"
DRIVEN = {"assigned", "en_route", "picked_up"}


@pytest.fixture
def history(driver):
    """A customer with a past ride (paid, messaged), a pet on it and one never booked, a saved place."""
    alice = CustomerFactory(name="Alice Private", email=EMAIL, phone="+12125550177")
    biscuit = PetFactory(owner=alice, name="Biscuit", special_needs="Takes insulin at noon")
    PetFactory(owner=alice, name="Neverbooked")
    PlaceFactory(owner=alice, label="Home", notes="Gate code 4411")
    ride = make_ride(
        pet=biscuit,
        status=RideStatus.COMPLETED,
        driver=driver,
        notes="Ring twice, private-note",
        pickup_notes="Gate code 4411",
        dropoff_notes="Back door",
        scheduled_at=timezone.now() - timezone.timedelta(days=3),
    )
    RideEvent.objects.create(ride=ride, action="cancel", actor=alice, note="my private reason")
    RideEvent.objects.create(ride=ride, action="complete", actor=None, note="Delivered to the vet")
    payment = PaymentFactory(ride=ride, status="captured")
    TransactionFactory(payment=payment)
    StripeCustomer.objects.create(user=alice, customer_id="cus_alice")
    sent = NotificationFactory(
        user=alice, ride=ride, status="delivered", message="Biscuit is on the way, Alice", subject=""
    )
    NotificationAttempt.objects.create(notification=sent, outcome="failed", error="+12125550177 unreachable")
    NotificationFactory(user=alice, channel="email", kind="receipt", subject="Your receipt, Alice")
    NotificationPreference.objects.create(user=alice, sms_muted_kinds=["reminder"])
    PhoneCode.objects.create(user=alice, phone=alice.phone, purpose="verify", expires_at=timezone.now())
    return alice, ride


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_profile_offers_deletion_and_the_page_says_what_goes_and_what_stays(history):
    alice, _ride = history
    client = signed_in(alice)
    assert reverse("accounts:delete") in client.get(reverse("accounts:profile")).content.decode()

    page = client.get(reverse("accounts:delete")).content.decode()
    assert "What we erase" in page and "What we keep" in page
    assert 'name="password"' in page and 'name="confirm"' in page


def test_deleting_erases_personal_data_and_keeps_rides_and_money(history):
    alice, ride = history
    client = signed_in(alice)

    response = client.post(reverse("accounts:delete"), DELETE)

    assert (response.status_code, response.url) == (HTTPStatus.FOUND, reverse("accounts:deleted"))
    assert "_auth_user_id" not in client.session
    assert "Your account is deleted" in client.get(response.url).content.decode()

    user = User.objects.get(pk=alice.pk)  # the row stays: rides and the ledger reference it
    assert (user.name, user.email, str(user.phone), user.phone_verified_at) == (
        "Deleted customer",
        f"deleted-{alice.pk}@invalid",
        "",
        None,
    )
    assert not user.is_active and not user.has_usable_password()
    assert not EmailAddress.objects.filter(user=user).exists()
    assert not PhoneCode.objects.filter(user=user).exists()

    assert not Place.objects.filter(owner=user).exists()
    assert list(Pet.objects.filter(owner=user).values_list("name", "special_needs")) == [("Biscuit", "")]
    assert Pet.objects.get(owner=user).archived_at is not None
    kept = Ride.objects.get(pk=ride.pk)
    assert (kept.customer_id, kept.status, kept.price_cents) == (user.pk, "completed", ride.price_cents)
    assert (kept.notes, kept.pickup_notes, kept.dropoff_notes) == ("", "", "")
    assert kept.pet_names == "Biscuit"
    assert sorted(RideEvent.objects.filter(ride=ride).values_list("note", flat=True)) == [
        "",
        "Delivered to the vet",
    ]

    assert Payment.objects.filter(ride=ride, status="captured").count() == 1
    assert Transaction.objects.filter(ride=ride).count() == 1
    assert StripeCustomer.objects.filter(user=user, customer_id="cus_alice").exists()

    messages = Notification.objects.filter(user=user)
    assert sorted(messages.values_list("kind", "status")) == [
        ("booking_confirmed", "delivered"),
        ("receipt", "cancelled"),  # queued, never sent: called off
    ]
    assert set(messages.values_list("to", "subject", "message", "message_html")) == {("", "", "", "")}
    assert list(NotificationAttempt.objects.filter(notification__user=user).values_list("error")) == [("",)]
    assert not NotificationPreference.objects.filter(user=user).exists()

    # Nothing personal is left anywhere in the rows that stay.
    for text in ("Alice", "Private", "private", "alice", "5550177", "4411", "insulin", "Ring twice"):
        assert text not in str(User.objects.filter(pk=user.pk).values().get())
        assert not Notification.objects.filter(message__contains=text).exists()
        assert not Ride.objects.filter(notes__contains=text).exists()


def test_every_session_and_api_login_ends(history):
    alice, _ride = history
    other_device = signed_in(alice)
    api = ApiClient(alice)
    pair = token_pair_for(user=alice)

    signed_in(alice).post(reverse("accounts:delete"), DELETE)

    assert other_device.get(reverse("accounts:profile")).status_code == HTTPStatus.FOUND  # to sign in
    assert api.get("/profile").status_code == HTTPStatus.UNAUTHORIZED
    refreshed = ApiClient().post("/token/refresh", {"refresh": pair.refresh})
    assert refreshed.status_code == HTTPStatus.UNAUTHORIZED
    assert not RefreshToken.objects.filter(user=alice, revoked_at__isnull=True).exists()


def test_the_old_email_no_longer_signs_in_and_signs_up_as_a_new_account(history):
    alice, _ride = history
    signed_in(alice).post(reverse("accounts:delete"), DELETE)

    client = Client()
    client.post(reverse("account_login"), {"login": EMAIL, "password": TEST_PASSWORD})
    assert "_auth_user_id" not in client.session
    assert ApiClient().post("/login", {"email": EMAIL, "password": TEST_PASSWORD}).status_code == 401

    client.post(
        reverse("account_signup"),
        {
            "name": "Alice Again",
            "email": EMAIL,
            "password1": "a-long-unusual-pass",
            "password2": "a-long-unusual-pass",
        },
    )
    fresh = User.objects.get(email=EMAIL)
    assert fresh.pk != alice.pk and fresh.name == "Alice Again"
    confirm_mailed_address(client, EMAIL)
    assert client.session["_auth_user_id"] == str(fresh.pk)
    assert not fresh.rides.exists() and not fresh.pets.exists()


def unchanged(user) -> tuple:
    return (
        # The row as it is (but for when the test's clients signed in).
        tuple((User.objects.filter(pk=user.pk).values().get() | {"last_login": None}).items()),
        Place.objects.filter(owner=user).count(),
        tuple(Pet.objects.filter(owner=user).values_list("name", "special_needs", "archived_at")),
        tuple(Notification.objects.filter(user=user).values_list("to", "message", "status")),
        EmailAddress.objects.filter(user=user).count(),
    )


@pytest.mark.parametrize("status", ["pending_payment", "confirmed", "assigned", "en_route", "picked_up"])
def test_open_rides_refuse_the_deletion_and_change_nothing(history, status, driver):
    alice, _ride = history
    make_ride(
        customer=alice,
        status=status,
        driver=driver if status in ("assigned", "en_route", "picked_up") else None,
    )
    before = unchanged(alice)
    client = signed_in(alice)

    page = client.get(reverse("accounts:delete"))
    assert "You have an open ride. Cancel it" in page.content.decode()
    assert 'name="password"' not in page.content.decode()
    response = client.post(reverse("accounts:delete"), DELETE)
    assert response.status_code == HTTPStatus.CONFLICT
    assert "Cancel it" in response.content.decode()

    api = ApiClient(alice).delete("/profile", json={"password": TEST_PASSWORD, "confirm": True})
    assert api.status_code == HTTPStatus.CONFLICT
    assert "open ride" in api.json()["detail"]
    assert unchanged(alice) == before
    assert client.get(reverse("accounts:profile")).status_code == HTTPStatus.OK  # still signed in


def test_a_wrong_password_or_no_tick_refuses_and_changes_nothing(history):
    alice, _ride = history
    before = unchanged(alice)
    client = signed_in(alice)

    wrong = client.post(reverse("accounts:delete"), {"password": "not-it", "confirm": "on"})
    assert wrong.status_code == HTTPStatus.BAD_REQUEST
    assert "That is not your current password." in wrong.content.decode()
    unticked = client.post(reverse("accounts:delete"), {"password": TEST_PASSWORD})
    assert unticked.status_code == HTTPStatus.BAD_REQUEST
    assert "Tick the box" in unticked.content.decode()

    api = ApiClient(alice)
    assert api.delete("/profile", json={"password": "not-it", "confirm": True}).status_code == 400
    assert api.delete("/profile", json={"password": TEST_PASSWORD, "confirm": False}).status_code == 400
    assert api.delete("/profile", json={"password": TEST_PASSWORD}).status_code == 422
    assert unchanged(alice) == before
    assert api.get("/profile").status_code == HTTPStatus.OK


def test_the_api_deletes_the_account_too(history):
    alice, ride = history
    api = ApiClient(alice)

    response = api.delete("/profile", json={"password": TEST_PASSWORD, "confirm": True})

    assert response.status_code == HTTPStatus.NO_CONTENT
    user = User.objects.get(pk=alice.pk)
    assert (user.name, user.email, user.is_active) == (
        "Deleted customer",
        f"deleted-{alice.pk}@invalid",
        False,
    )
    assert Ride.objects.get(pk=ride.pk).notes == ""
    assert api.get("/profile").status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.parametrize("role", ["driver", "admin_user"])
def test_drivers_and_operations_are_not_offered_self_deletion(request, role):
    user = request.getfixturevalue(role)
    before = unchanged(user)
    client = signed_in(user)

    assert reverse("accounts:delete") not in client.get(reverse("accounts:profile")).content.decode()
    assert client.get(reverse("accounts:delete")).status_code == HTTPStatus.FORBIDDEN
    assert client.post(reverse("accounts:delete"), DELETE).status_code == HTTPStatus.FORBIDDEN
    api = ApiClient(user).delete("/profile", json={"password": TEST_PASSWORD, "confirm": True})
    assert api.status_code == HTTPStatus.FORBIDDEN
    assert unchanged(user) == before


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("accounts:delete"))
    assert response.status_code == HTTPStatus.FOUND and "/accounts/login/" in response.url
    assert ApiClient().delete("/profile", json={"password": "x", "confirm": True}).status_code == 401


def test_an_empty_post_shows_the_forms_errors(history):
    alice, _ride = history
    response = signed_in(alice).post(reverse("accounts:delete"), {})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Tick the box" in response.content.decode()
    assert User.objects.get(pk=alice.pk).is_active
