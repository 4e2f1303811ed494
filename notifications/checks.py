from django.conf import settings
from django.core.checks import Error

from core.checks import timeout_budget_errors
from notifications.channels import email_worst_seconds, twilio_worst_seconds


def twilio_credentials_complete(app_configs, **kwargs):
    """Deploy check: without its auth token Twilio refuses our messages and we cannot check
    that its callbacks are really from Twilio."""
    if settings.TWILIO_ACCOUNT_SID and not settings.TWILIO_AUTH_TOKEN:
        return [
            Error(
                "TWILIO_ACCOUNT_SID is set without TWILIO_AUTH_TOKEN.",
                hint="Set TWILIO_AUTH_TOKEN from the Twilio console.",
                id="notifications.E001",
            )
        ]
    return []


def provider_timeouts_fit(app_configs, **kwargs):
    """Deploy check: a hung Twilio or mail server fails a send (recorded, retried later) before
    the web server or the task cluster kills the process."""
    return [
        *timeout_budget_errors(
            provider="Twilio",
            worst=twilio_worst_seconds(),
            settings_names="TWILIO_TIMEOUT_SECONDS",
            check_id="notifications.E002",
        ),
        *timeout_budget_errors(
            provider="SMTP",
            worst=email_worst_seconds(),
            settings_names="EMAIL_TIMEOUT",
            check_id="notifications.E003",
        ),
    ]
