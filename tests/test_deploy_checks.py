"""`manage.py check --deploy` is the gate before production: a production-like environment
passes with no warning at all, and each unsafe setting fails it."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.test import override_settings

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "a-production-secret-key-that-is-long-enough-and-random-9f8e7d6c5b4a",
    "DJANGO_ALLOWED_HOSTS": "whiskers.example",
    "DJANGO_SSL_REDIRECT": "1",
    "DJANGO_HSTS_SECONDS": "31536000",
    "DJANGO_HSTS_INCLUDE_SUBDOMAINS": "1",
    "DJANGO_HSTS_PRELOAD": "1",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "STRIPE_SECRET_KEY": "sk_live_example",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_example",
    "STRIPE_WEBHOOK_SECRET": "whsec_example",
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": "example-auth-token",
    "TWILIO_FROM_NUMBER": "+15005550006",
}


def deploy_check(env: dict) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "STRIPE_", "TWILIO_", "REDIS"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_production_like_environment_passes_with_no_warning():
    result = deploy_check(PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


def test_the_development_defaults_fail_the_deploy_check():
    result = deploy_check({"DJANGO_DEBUG": "1"})
    assert result.returncode != 0
    for check_id in ("billing.E001", "core.E001", "security.W018"):
        assert check_id in result.stderr


def deploy_errors(**overrides) -> set[str]:
    with override_settings(**overrides):
        return {message.id for message in run_checks(include_deployment_checks=True) if message.is_serious()}


SAFE = {
    "JWT_SIGNING_KEY": "k" * 32,
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "TWILIO_ACCOUNT_SID": "",
    "TWILIO_AUTH_TOKEN": "",
    "STRIPE_USES_LOCALSTRIPE": False,
    "STRIPE_PUBLISHABLE_KEY": "pk_live_example",
    "STRIPE_WEBHOOK_SECRET": "whsec_example",
    "STRIPE_MAX_NETWORK_RETRIES": 1,  # the default (the suite turns the SDK's retries off)
}


@pytest.mark.parametrize(
    ("unsafe", "check_id"),
    [
        ({"JWT_SIGNING_KEY": "k" * 31}, "accounts.E001"),
        ({"REDIS_URL": ""}, "core.E001"),
        ({"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": ""}, "notifications.E001"),
        ({"STRIPE_USES_LOCALSTRIPE": True}, "billing.E001"),
        ({"STRIPE_WEBHOOK_SECRET": ""}, "billing.E002"),
        # The SDK's own defaults: 3 x (5 s + 25 s) + 1.5 s of back-off, far past checkout's 10 s.
        (
            {
                "STRIPE_CONNECT_TIMEOUT_SECONDS": 5,
                "STRIPE_READ_TIMEOUT_SECONDS": 25,
                "STRIPE_MAX_NETWORK_RETRIES": 2,
            },
            "billing.E003",
        ),
        ({"STRIPE_MAX_NETWORK_RETRIES": 2}, "billing.E003"),  # 3 x 4 s + 1.5 s = 13.5 s
        ({"STRIPE_READ_TIMEOUT_SECONDS": 4}, "billing.E003"),  # 2 x 5 s + 0.5 s
        ({"TWILIO_TIMEOUT_SECONDS": 10}, "notifications.E002"),  # connect + answer: 20 s
        ({"EMAIL_TIMEOUT": 6}, "notifications.E003"),
        ({"NOTIFY_REQUEUE_AFTER": timedelta(seconds=60)}, "notifications.E004"),  # the task limit: 60 s
    ],
)
def test_each_unsafe_setting_fails_the_deploy_check(unsafe, check_id):
    ours = {
        "accounts.E001",
        "core.E001",
        "notifications.E001",
        "notifications.E002",
        "notifications.E003",
        "notifications.E004",
        "billing.E001",
        "billing.E002",
        "billing.E003",
    }
    assert deploy_errors(**SAFE) & ours == set()
    assert deploy_errors(**{**SAFE, **unsafe}) & ours == {check_id}


def test_every_provider_must_fit_inside_the_task_time_limit(settings):
    """Against a 15 s task limit (10 s of margin: 5 s left) no provider's worst case fits; the
    web budget is raised so that only the task limit is at stake."""
    unsafe = {**SAFE, "WEB_REQUEST_BUDGET_SECONDS": 60, "Q_CLUSTER": {**settings.Q_CLUSTER, "timeout": 15}}
    assert deploy_errors(**unsafe) >= {"billing.E003", "notifications.E002", "notifications.E003"}

    with override_settings(**unsafe):
        stripe = [m.msg for m in run_checks(include_deployment_checks=True) if m.id == "billing.E003"]
    assert stripe == [
        "A Stripe call that hangs can take 8.5 s, more than the task time limit "
        "(Q_TASK_TIMEOUT_SECONDS) less 10 s (5 s)."
    ]
