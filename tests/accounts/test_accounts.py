from http import HTTPStatus

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse

from project.accounts.models import User
from tests.factories import TEST_PASSWORD, AdminFactory, CustomerFactory, DriverFactory
from tests.mail import confirm_mailed_address, mails_to

pytestmark = pytest.mark.django_db

SIGNUP = {
    "name": "Alice Moreno",
    "email": "Alice@Example.com",
    "phone": "+1 212 555 0100",
    "password1": "a-long-unusual-pass",
    "password2": "a-long-unusual-pass",
}


def test_signup_creates_a_customer_who_confirms_the_mailed_link_and_lands_on_the_portal(client):
    response = client.post(reverse("account_signup"), SIGNUP)
    assert (response.status_code, response.url) == (HTTPStatus.FOUND, "/accounts/confirm-email/")
    user = User.objects.get()
    assert (user.email, user.name, user.role, str(user.phone)) == (
        "alice@example.com",
        "Alice Moreno",
        "customer",
        "+12125550100",
    )
    assert user.phone_verified_at is None  # verified only by the code we text (test_phone.py)
    assert not user.is_staff and not user.is_superuser
    assert "_auth_user_id" not in client.session  # not until the address is confirmed

    (message,) = mail.outbox
    assert message.to == ["alice@example.com"]
    response = confirm_mailed_address(client, "alice@example.com")
    assert response.url == reverse("accounts:profile") + "#phone"  # next: verify the phone
    assert client.session["_auth_user_id"] == str(user.pk)
    assert EmailAddress.objects.get(user=user).verified


def test_signup_without_a_phone_lands_on_the_customer_portal(client):
    response = client.post(reverse("account_signup"), {**SIGNUP, "phone": ""})
    assert (response.status_code, response.url) == (HTTPStatus.FOUND, "/accounts/confirm-email/")
    response = confirm_mailed_address(client, "alice@example.com")
    assert response.url == reverse("bookings:ride_list")  # no number to verify: straight in


@pytest.mark.parametrize(
    "extra", [{"role": "admin"}, {"role": "driver"}, {"is_staff": "on"}, {"is_superuser": "true"}]
)
def test_nobody_signs_themselves_up_as_driver_or_admin(client, extra):
    client.post(reverse("account_signup"), {**SIGNUP, **extra})
    user = User.objects.get()
    assert user.role == User.Role.CUSTOMER
    assert not user.is_staff and not user.is_superuser


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"name": ""}, "name"),
        ({"password2": "different"}, "password2"),
        ({"password1": "password", "password2": "password"}, "password1"),
    ],
)
def test_bad_signup_shows_errors_and_creates_nobody(client, change, field):
    response = client.post(reverse("account_signup"), {**SIGNUP, **change})
    assert response.status_code == HTTPStatus.OK
    assert field in response.context["form"].errors
    assert User.objects.count() == 0


def test_signup_with_a_taken_email_answers_as_for_a_new_one_and_mails_the_owner(client):
    """Enumeration: the page must not say "already registered"; the owner hears of it instead."""
    owner = CustomerFactory(email="alice@example.com", name="Alice Original")
    taken = client.post(reverse("account_signup"), SIGNUP, follow=True)
    fresh = Client().post(
        reverse("account_signup"), {**SIGNUP, "email": "brand.new@example.com"}, follow=True
    )

    assert taken.redirect_chain == fresh.redirect_chain == [("/accounts/confirm-email/", HTTPStatus.FOUND)]
    for response, email in ((taken, "alice@example.com"), (fresh, "brand.new@example.com")):
        page = response.content.decode()
        assert "Verify Your Email Address" in page
        assert f"Confirmation email sent to {email}." in page
        assert "already" not in page.lower()
    assert list(User.objects.order_by("email").values_list("email", "name")) == [
        ("alice@example.com", "Alice Original"),
        ("brand.new@example.com", "Alice Moreno"),
    ]
    owner.refresh_from_db()
    assert owner.check_password(TEST_PASSWORD)
    (notice,) = mails_to("alice@example.com")
    assert "an account using that email address already exists" in notice.body
    assert "/accounts/password/reset/" in notice.body
    assert "/accounts/confirm-email/" in mails_to("brand.new@example.com")[0].body


@pytest.mark.parametrize(
    ("factory", "portal"), [(CustomerFactory, "/app/"), (DriverFactory, "/drive/"), (AdminFactory, "/ops/")]
)
def test_each_role_lands_on_its_own_portal(client, factory, portal):
    user = factory()
    response = client.post(reverse("account_login"), {"login": user.email, "password": TEST_PASSWORD})
    assert response.url == portal
    assert client.get(reverse("home")).url == portal


def test_repeated_failed_logins_are_rate_limited(client):
    user = CustomerFactory()
    for _ in range(5):
        client.post(reverse("account_login"), {"login": user.email, "password": "wrong"})
    response = client.post(reverse("account_login"), {"login": user.email, "password": TEST_PASSWORD})
    assert "_auth_user_id" not in client.session
    assert "Too many failed login attempts" in response.content.decode()


def test_password_reset_sends_an_email(client):
    user = CustomerFactory()
    client.post(reverse("account_reset_password"), {"email": user.email})
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_logout_needs_post(client, customer):
    client.force_login(customer)
    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session


def test_profile_edits_name_phone_and_time_zone(customer_client, customer):
    response = customer_client.post(
        reverse("accounts:profile"),
        {"name": "Alice M.", "phone": "+12125550199", "time_zone": "America/Chicago"},
    )
    assert response.status_code == HTTPStatus.FOUND
    customer.refresh_from_db()
    assert (customer.name, str(customer.phone), customer.time_zone) == (
        "Alice M.",
        "+12125550199",
        "America/Chicago",
    )


def test_profile_refuses_bad_phone_and_unknown_zone(customer_client, customer):
    response = customer_client.post(
        reverse("accounts:profile"), {"name": "Alice", "phone": "555", "time_zone": "Mars/Olympus"}
    )
    assert set(response.context["form"].errors) == {"phone", "time_zone"}
    customer.refresh_from_db()
    assert customer.time_zone == "America/New_York"


def test_profile_needs_login(client):
    assert client.get(reverse("accounts:profile")).url.startswith(reverse("account_login"))


def test_landing_page_is_public(client):
    response = client.get(reverse("home"))
    assert response.status_code == HTTPStatus.OK
    assert "Create an account" in response.content.decode()


def test_friendly_403_and_404_pages(driver_client):
    forbidden = driver_client.get(reverse("bookings:ride_list"))
    assert forbidden.status_code == HTTPStatus.FORBIDDEN
    assert "isn't part of your portal" in forbidden.content.decode()
    missing = driver_client.get("/no/such/page/")
    assert missing.status_code == HTTPStatus.NOT_FOUND
    assert "couldn't find that page" in missing.content.decode()


def test_user_manager_normalises_email_and_superuser_is_admin():
    admin = User.objects.create_superuser("Boss@Example.com", "x", name="Boss")
    assert (admin.email, admin.role, admin.is_staff) == ("boss@example.com", "admin", True)
