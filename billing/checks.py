from django.conf import settings
from django.core.checks import Error

from billing.gateway import worst_call_seconds
from core.checks import timeout_budget_errors


def stripe_keys_configured(app_configs, **kwargs):
    """Deploy check: real Stripe keys, never localstripe, in production."""
    if settings.STRIPE_USES_LOCALSTRIPE:
        return [
            Error(
                "STRIPE_SECRET_KEY is not set: payments go to localstripe, a local fake Stripe.",
                hint="Set STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY and STRIPE_WEBHOOK_SECRET.",
                id="billing.E001",
            )
        ]
    needed = ("STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET")
    missing = [name for name in needed if not getattr(settings, name)]
    if missing:
        return [
            Error(
                f"{' and '.join(missing)} not set: checkout or webhooks cannot work.",
                hint="Copy them from Stripe's dashboard (API keys; the webhook endpoint's signing secret).",
                id="billing.E002",
            )
        ]
    return []


def stripe_timeouts_fit(app_configs, **kwargs):
    """Deploy check: a hung Stripe fails a checkout with "try again", and a task with an error
    on its ledger row, before the web server or the task cluster kills the process."""
    return timeout_budget_errors(
        provider="Stripe",
        worst=worst_call_seconds(),
        settings_names=(
            "STRIPE_CONNECT_TIMEOUT_SECONDS, STRIPE_READ_TIMEOUT_SECONDS or STRIPE_MAX_NETWORK_RETRIES"
        ),
        check_id="billing.E003",
    )
