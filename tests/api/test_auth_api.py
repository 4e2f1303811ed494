"""Register, login, token lifecycle, profile."""

from datetime import timedelta
from http import HTTPStatus

import jwt
import pytest
from django.conf import settings
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from project.accounts.models import RefreshToken, User
from project.accounts.services import LOGIN_REFUSED
from tests.factories import TEST_PASSWORD, CustomerFactory
from tests.mail import confirm_mailed_address

pytestmark = pytest.mark.django_db

REGISTER = {
    "name": "Alice Moreno",
    "email": "Alice@Example.com",
    "password": "a-long-unusual-pass",
    "phone": "+12125550100",
}


def login(api, user):
    response = api.post("/login", {"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


REGISTER_ANSWER = {"detail": "We sent a message to alice@example.com. Open the link in it to continue."}


def test_register_creates_an_unconfirmed_customer_who_confirms_the_mailed_link_then_logs_in(anon_api):
    response = anon_api.post("/register", REGISTER)
    assert (response.status_code, response.json()) == (HTTPStatus.ACCEPTED, REGISTER_ANSWER)
    user = User.objects.get()
    assert (user.email, user.role, str(user.phone)) == ("alice@example.com", "customer", "+12125550100")
    assert user.check_password("a-long-unusual-pass")
    credentials = {"email": "alice@example.com", "password": "a-long-unusual-pass"}
    refused = anon_api.post("/login", credentials)
    assert refused.status_code == HTTPStatus.UNAUTHORIZED
    assert refused.json()["detail"] == LOGIN_REFUSED

    (message,) = mail.outbox
    assert message.to == ["alice@example.com"]
    confirm_mailed_address(Client(), "alice@example.com")  # on the phone's browser, say
    assert anon_api.post("/login", credentials).status_code == HTTPStatus.OK


def test_register_ignores_any_role_in_the_body(anon_api):
    anon_api.post("/register", {**REGISTER, "role": "admin", "is_staff": True})
    user = User.objects.get()
    assert (user.role, user.is_staff) == ("customer", False)


@pytest.mark.parametrize(
    ("change", "field", "status"),
    [
        ({"email": "nope"}, "email", 400),
        ({"phone": "123"}, "phone", 400),
        ({"password": "password"}, "password", 400),
        ({"name": ""}, "name", 400),
        ({"password": None}, "password", 422),
    ],
)
def test_register_rejects_bad_fields_and_writes_nothing(anon_api, change, field, status):
    response = anon_api.post("/register", {**REGISTER, **change})
    assert response.status_code == status
    assert field in response.json()["errors"]
    assert User.objects.count() == 0


def test_register_with_a_taken_email_answers_as_for_a_new_one_and_mails_the_owner(anon_api):
    """Enumeration: the API must not say "already registered" (it used to answer 400 with
    "An account with this email address already exists.")."""
    owner = CustomerFactory(email="alice@example.com", name="Alice Original")
    response = anon_api.post("/register", REGISTER)
    assert (response.status_code, response.json()) == (HTTPStatus.ACCEPTED, REGISTER_ANSWER)
    assert list(User.objects.values_list("email", "name")) == [("alice@example.com", "Alice Original")]
    owner.refresh_from_db()
    assert owner.check_password(TEST_PASSWORD)
    (notice,) = mail.outbox
    assert notice.to == ["alice@example.com"]
    assert "an account using that email address already exists" in notice.body
    assert "/accounts/password/reset/" in notice.body
    # Whoever registered can't tell from a login either: same answer as a wrong password.
    refused = anon_api.post("/login", {"email": "alice@example.com", "password": "a-long-unusual-pass"})
    assert (refused.status_code, refused.json()["detail"]) == (HTTPStatus.UNAUTHORIZED, LOGIN_REFUSED)


def test_register_mails_one_address_at_most_once_in_a_few_minutes(anon_api):
    CustomerFactory(email="alice@example.com")
    answers = [anon_api.post("/register", REGISTER).json() for _ in range(3)]
    assert answers == [REGISTER_ANSWER] * 3
    assert len(mail.outbox) == 1


def test_login_returns_a_token_pair(anon_api, customer):
    body = login(anon_api, customer)
    assert body["token_type"] == "Bearer"
    claims = jwt.decode(body["access"], settings.JWT_SIGNING_KEY, algorithms=["HS256"])
    assert (claims["sub"], claims["type"], claims["role"]) == (str(customer.pk), "access", "customer")


@pytest.mark.parametrize("password", ["wrong", ""])
def test_login_with_bad_credentials_is_401(anon_api, customer, password):
    response = anon_api.post("/login", {"email": customer.email, "password": password})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["detail"]


def test_inactive_user_cannot_log_in(anon_api, customer):
    customer.is_active = False
    customer.save()
    assert anon_api.post("/login", {"email": customer.email, "password": TEST_PASSWORD}).status_code == 401


def test_access_token_opens_the_profile(anon_api, customer):
    anon_api.token = login(anon_api, customer)["access"]
    response = anon_api.get("/profile")
    assert response.status_code == HTTPStatus.OK
    assert response.json()["email"] == customer.email


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer nonsense", "Basic abc", "Bearer a.b.c"])
def test_missing_or_malformed_tokens_are_401(anon_api, header):
    response = anon_api.get("/profile", headers={"Authorization": header} if header else {})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert set(response.json()) == {"detail", "errors"}


def test_expired_access_token_is_401(anon_api, customer):
    with override_settings(JWT_ACCESS_LIFETIME=timedelta(seconds=-1)):
        anon_api.token = login(anon_api, customer)["access"]
    assert anon_api.get("/profile").status_code == HTTPStatus.UNAUTHORIZED


def test_tampered_token_is_401(anon_api, customer):
    access = login(anon_api, customer)["access"]
    header, payload, signature = access.split(".")
    forged = jwt.encode(
        {**jwt.decode(access, options={"verify_signature": False}), "sub": "1", "role": "admin"},
        "not-our-key-but-long-enough-for-hs256-signing",
        algorithm="HS256",
    )
    for token in (forged, f"{header}.{payload}.{signature[::-1]}"):
        anon_api.token = token
        assert anon_api.get("/profile").status_code == HTTPStatus.UNAUTHORIZED


def test_refresh_token_is_not_an_access_token(anon_api, customer):
    anon_api.token = login(anon_api, customer)["refresh"]
    assert anon_api.get("/profile").status_code == HTTPStatus.UNAUTHORIZED


def test_access_token_is_not_a_refresh_token(anon_api, customer):
    access = login(anon_api, customer)["access"]
    assert anon_api.post("/token/refresh", {"refresh": access}).status_code == HTTPStatus.UNAUTHORIZED


def test_refresh_rotates_and_a_spent_token_revokes_the_family(anon_api, customer):
    first = login(anon_api, customer)
    second = anon_api.post("/token/refresh", {"refresh": first["refresh"]})
    assert second.status_code == HTTPStatus.OK
    second = second.json()
    assert second["refresh"] != first["refresh"]
    # Replaying the spent token fails, and ends the whole login (the new token too).
    assert anon_api.post("/token/refresh", {"refresh": first["refresh"]}).status_code == 401
    assert anon_api.post("/token/refresh", {"refresh": second["refresh"]}).status_code == 401
    assert RefreshToken.objects.filter(user=customer, revoked_at__isnull=True).count() == 0


def test_expired_refresh_token_is_401(anon_api, customer):
    with override_settings(JWT_REFRESH_LIFETIME=timedelta(seconds=-1)):
        refresh = login(anon_api, customer)["refresh"]
    assert anon_api.post("/token/refresh", {"refresh": refresh}).status_code == HTTPStatus.UNAUTHORIZED


def test_a_login_ends_after_its_absolute_lifetime_however_often_it_was_rotated(anon_api, customer):
    """The attack: a stolen refresh token, rotated every few days, lived forever."""
    first = login(anon_api, customer)
    latest = anon_api.post("/token/refresh", {"refresh": first["refresh"]}).json()
    first_jti = jwt.decode(first["refresh"], options={"verify_signature": False})["jti"]
    # That login began 61 days ago (JWT_REFRESH_FAMILY_DAYS is 60); its latest token is fresh.
    RefreshToken.objects.filter(jti=first_jti).update(created_at=timezone.now() - timedelta(days=61))
    response = anon_api.post("/token/refresh", {"refresh": latest["refresh"]})
    assert (response.status_code, response.json()["detail"]) == (401, "This login has expired; log in again.")


@override_settings(JWT_REFRESH_LIFETIME=timedelta(days=90))
def test_a_rotated_refresh_token_never_outlives_its_login(anon_api, customer):
    before = timezone.now()
    first = login(anon_api, customer)
    latest = anon_api.post("/token/refresh", {"refresh": first["refresh"]}).json()
    expires = jwt.decode(latest["refresh"], options={"verify_signature": False})["exp"]
    login_ends = before + timedelta(days=60)
    assert int(login_ends.timestamp()) <= expires <= (login_ends + timedelta(seconds=5)).timestamp()


def test_logout_revokes_the_refresh_token(anon_api, customer):
    pair = login(anon_api, customer)
    anon_api.token = pair["access"]
    assert anon_api.post("/logout", {"refresh": pair["refresh"]}).status_code == HTTPStatus.NO_CONTENT
    assert anon_api.post("/token/refresh", {"refresh": pair["refresh"]}).status_code == 401


def test_logout_needs_auth_and_your_own_token(anon_api, customer, other_customer):
    theirs = login(anon_api, other_customer)
    assert anon_api.post("/logout", {"refresh": theirs["refresh"]}).status_code == 401
    anon_api.token = login(anon_api, customer)["access"]
    assert anon_api.post("/logout", {"refresh": theirs["refresh"]}).status_code == 401
    assert RefreshToken.objects.get(user=other_customer).revoked_at is None


def test_deactivated_user_cannot_refresh_or_use_access(anon_api, customer):
    pair = login(anon_api, customer)
    customer.is_active = False
    customer.save()
    anon_api.token = pair["access"]
    assert anon_api.get("/profile").status_code == 401
    assert anon_api.post("/token/refresh", {"refresh": pair["refresh"]}).status_code == 401


def test_login_is_rate_limited_per_ip(anon_api):
    statuses = [
        anon_api.post("/login", {"email": f"u{n}@example.com", "password": "x"}).status_code
        for n in range(12)
    ]
    assert statuses == [401] * 10 + [429] * 2


def test_register_and_refresh_are_rate_limited(anon_api):
    statuses = [
        anon_api.post("/register", {**REGISTER, "email": f"u{n}@example.com"}).status_code for n in range(6)
    ]
    assert statuses[-1] == HTTPStatus.TOO_MANY_REQUESTS
    statuses = [anon_api.post("/token/refresh", {"refresh": "x"}).status_code for _ in range(31)]
    assert statuses[-1] == HTTPStatus.TOO_MANY_REQUESTS


def test_profile_update(customer_api, customer):
    response = customer_api.put(
        "/profile",
        {
            "name": "Alice M.",
            "phone": "+12125550199",
            "time_zone": "America/Chicago",
            "email": customer.email.upper(),  # the current address may be sent back as it is
        },
    )
    assert response.status_code == HTTPStatus.OK, response.content
    customer.refresh_from_db()
    assert (customer.name, str(customer.phone), customer.time_zone) == (
        "Alice M.",
        "+12125550199",
        "America/Chicago",
    )


def test_profile_update_refuses_an_email_change(customer_api, customer, client):
    """Account takeover: with an access token alone, PUT /profile used to move the account to
    the attacker's address, where the password-reset mail then went."""
    email = customer.email
    response = customer_api.put("/profile", {"name": "Mallory", "email": "mallory@evil.example"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"] == {
        "email": ["Change your email with POST /profile/email: it needs your password and a confirmation."]
    }
    customer.refresh_from_db()
    assert (customer.email, customer.name) == (email, "Alice Moreno")
    client.post(reverse("account_reset_password"), {"email": "mallory@evil.example"})
    assert not any("/accounts/password/reset/key/" in message.body for message in mail.outbox)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"phone": "12"}, "phone"),
        ({"time_zone": "Mars/Base"}, "time_zone"),
        ({"name": ""}, "name"),
    ],
)
def test_profile_update_rejects_bad_fields(customer_api, customer, change, field):
    response = customer_api.put("/profile", change)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert field in response.json()["errors"]
    customer.refresh_from_db()
    assert customer.name == "Alice Moreno"


def test_profile_needs_auth(anon_api):
    assert anon_api.get("/profile").status_code == 401
    assert anon_api.put("/profile", {"name": "x"}).status_code == 401


def test_tokens_are_short_lived_by_default():
    assert settings.JWT_ACCESS_LIFETIME <= timedelta(minutes=15) < settings.JWT_REFRESH_LIFETIME
    assert timezone.now()  # settings load with tz support
