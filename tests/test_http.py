"""core.http.client_ip: the client's address, trusting X-Forwarded-For only as far as our proxies."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory

from core.http import client_ip

ROOT = Path(__file__).resolve().parent.parent


def request(forwarded=None, remote="10.0.0.5"):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, None, "10.0.0.5"),
        (0, "203.0.113.9", "10.0.0.5"),  # no proxy of ours: the header is the client's own words
        (1, None, "10.0.0.5"),
        (1, "198.51.100.7", "198.51.100.7"),
        (1, "203.0.113.9, 198.51.100.7", "198.51.100.7"),  # the left entry was made up
        (2, "203.0.113.9, 198.51.100.7, 10.1.1.1", "198.51.100.7"),
        (2, "198.51.100.7", "198.51.100.7"),  # fewer hops than proxies: the leftmost
        (1, "203.0.113.9, not-an-ip", "10.0.0.5"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip_trusts_only_the_configured_proxies(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_ip(request(forwarded)) == expected


def test_one_setting_sets_allauth_and_ninja_alike():
    env = {**os.environ, "TRUSTED_PROXY_COUNT": "2", "DJANGO_SECRET_KEY": "x" * 40}
    script = (
        "from project import settings as s; "
        "print(s.TRUSTED_PROXY_COUNT, s.ALLAUTH_TRUSTED_PROXY_COUNT, s.NINJA_NUM_PROXIES)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["2", "2", "2"]


def test_no_proxy_is_trusted_by_default(settings):
    assert (
        settings.TRUSTED_PROXY_COUNT,
        settings.ALLAUTH_TRUSTED_PROXY_COUNT,
        settings.NINJA_NUM_PROXIES,
    ) == (
        0,
        0,
        0,
    )
