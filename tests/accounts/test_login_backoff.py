"""Guessing passwords: per-IP limits that a made-up X-Forwarded-For can't dodge, and a
per-account back-off shared by the HTML login, the API login and the email change."""

import threading
import time
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from project.accounts import login_backoff
from tests.api.conftest import ApiClient
from tests.factories import TEST_PASSWORD, CustomerFactory
from tests.mail import link_in_mail

pytestmark = pytest.mark.django_db

WRONG = "not-the-password"


@pytest.fixture
def short_backoff(settings):
    """The default waits are minutes; these are seconds, so a test can wait one out."""
    settings.LOGIN_BACKOFF_AFTER_FAILURES = 3
    settings.LOGIN_BACKOFF_DELAYS = [timedelta(seconds=1), timedelta(seconds=2)]


def api_login(email, password, **extra):
    return ApiClient().post("/login", {"email": email, "password": password}, **extra)


def html_login(client, email, password):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- Per IP: X-Forwarded-For -------------------------------------------------------------


def test_rotating_x_forwarded_for_does_not_lift_the_api_login_limit():
    """The attack: each request claimed another X-Forwarded-For and got a fresh allowance."""
    statuses = [
        api_login(f"guess{n}@example.com", WRONG, headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
        for n in range(12)
    ]
    assert statuses == [401] * 10 + [429] * 2


def test_behind_a_proxy_the_limit_follows_the_address_the_proxy_saw(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    spoofed = [
        api_login(f"guess{n}@example.com", WRONG, headers={"X-Forwarded-For": f"203.0.113.{n}, 198.51.100.7"})
        for n in range(11)
    ]
    assert [r.status_code for r in spoofed] == [401] * 10 + [429]
    assert spoofed[-1]["Retry-After"].isdigit()
    # Another client behind the same proxy has its own allowance.
    other = api_login("someone@example.com", WRONG, headers={"X-Forwarded-For": "198.51.100.8"})
    assert other.status_code == HTTPStatus.UNAUTHORIZED


def test_rotating_x_forwarded_for_does_not_lift_the_html_login_limit():
    client = Client()
    for n in range(10):
        client.post(
            reverse("account_login"),
            {"login": f"guess{n}@example.com", "password": WRONG},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        )
    response = client.post(
        reverse("account_login"),
        {"login": "guess99@example.com", "password": WRONG},
        headers={"X-Forwarded-For": "203.0.113.99"},
    )
    assert "Too many failed login attempts" in response.content.decode()


# --- Per account ------------------------------------------------------------------------


def test_api_login_backs_off_per_account_whatever_the_address(customer):
    """The attack: with the per-IP limit alone, guesses spread over many addresses never stop."""
    for n in range(5):
        assert api_login(customer.email, WRONG, REMOTE_ADDR=f"192.0.2.{n}").status_code == 401
    response = api_login(customer.email, TEST_PASSWORD, REMOTE_ADDR="192.0.2.77")
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response["Retry-After"] == "60"
    assert response.json() == {
        "detail": "Too many failed login attempts. Try again in 1 minute.",
        "errors": {},
    }
    assert "access" not in response.json()


def test_the_wait_grows_with_each_failure_up_to_the_last_delay(customer, short_backoff):
    for _ in range(3):
        assert api_login(customer.email, WRONG).status_code == 401
    assert api_login(customer.email, WRONG)["Retry-After"] == "1"
    time.sleep(1.05)
    assert api_login(customer.email, WRONG).status_code == 401
    assert api_login(customer.email, WRONG)["Retry-After"] == "2"
    time.sleep(2.05)
    assert api_login(customer.email, WRONG).status_code == 401
    assert api_login(customer.email, WRONG)["Retry-After"] == "2"  # the last delay repeats


def test_after_the_wait_the_right_password_works_and_clears_the_count(customer, short_backoff):
    for _ in range(3):
        api_login(customer.email, WRONG)
    assert api_login(customer.email, TEST_PASSWORD).status_code == 429
    time.sleep(1.05)
    assert api_login(customer.email, TEST_PASSWORD).status_code == 200
    # A fresh start: the next wrong guesses are free again.
    assert [api_login(customer.email, WRONG).status_code for _ in range(3)] == [401, 401, 401]


def test_an_address_without_an_account_backs_off_alike(customer):
    """The wait is per address, not per account: it tells nobody who is registered."""
    known = [api_login(customer.email, WRONG, REMOTE_ADDR="192.0.2.1").status_code for _ in range(6)]
    unknown = [api_login("nobody@example.com", WRONG, REMOTE_ADDR="192.0.2.2").status_code for _ in range(6)]
    assert known == unknown == [401] * 5 + [429]


def test_html_login_backs_off_then_lets_the_owner_in_after_the_wait(customer, short_backoff):
    """The HTML lockout ends: after the wait the account signs in again."""
    client = Client()
    for _ in range(3):
        html_login(client, customer.email, WRONG)
    refused = html_login(client, customer.email, TEST_PASSWORD)
    assert "Too many failed login attempts. Try again in 1 minute." in refused.content.decode()
    assert not signed_in(client)
    time.sleep(1.05)
    assert html_login(client, customer.email, TEST_PASSWORD).url == "/app/"
    assert signed_in(client)


def test_html_and_api_logins_share_one_count(customer):
    client = Client()
    for _ in range(3):
        html_login(client, customer.email, WRONG)
    for _ in range(2):
        assert api_login(customer.email, WRONG).status_code == 401
    assert api_login(customer.email, TEST_PASSWORD).status_code == 429
    assert (
        "Too many failed login attempts" in html_login(client, customer.email, TEST_PASSWORD).content.decode()
    )
    assert not signed_in(client)


def test_a_password_reset_is_the_way_out_of_a_back_off(customer):
    for _ in range(5):
        api_login(customer.email, WRONG)
    assert api_login(customer.email, TEST_PASSWORD).status_code == 429

    client = Client()
    client.post(reverse("account_reset_password"), {"email": customer.email})
    form = client.get(link_in_mail(customer.email, "/accounts/password/reset/key/"), follow=True)
    client.post(
        form.redirect_chain[-1][0], {"password1": "a-brand-new-secret-7", "password2": "a-brand-new-secret-7"}
    )
    assert api_login(customer.email, "a-brand-new-secret-7").status_code == 200


def test_parallel_guesses_are_counted_before_any_is_checked():
    """Twenty guesses at once: only the free ones get through, none slips past the count."""
    passed, refused = [], []
    start = threading.Barrier(20)

    def guess():
        start.wait()
        try:
            login_backoff.begin_attempt(email="target@example.com")
            passed.append(1)
        except login_backoff.TooManyLoginAttempts:
            refused.append(1)

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(passed), len(refused)) == (5, 15)


def test_a_wrong_current_password_on_an_email_change_counts_too(customer):
    api = ApiClient(customer)
    for _ in range(5):
        response = api.post("/profile/email", {"email": "new@example.com", "password": WRONG})
        assert response.status_code == HTTPStatus.BAD_REQUEST
    response = api.post("/profile/email", {"email": "new@example.com", "password": TEST_PASSWORD})
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert api_login(customer.email, TEST_PASSWORD).status_code == 429


def test_other_accounts_are_not_slowed_down(customer):
    for _ in range(6):
        api_login(customer.email, WRONG)
    other = CustomerFactory()
    assert api_login(other.email, TEST_PASSWORD).status_code == 200
