"""Guessing passwords: per-IP limits that a made-up X-Forwarded-For can't dodge."""

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

WRONG = "not-the-password"


def api_login(email, password, **extra):
    return ApiClient().post("/login", {"email": email, "password": password}, **extra)


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
