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


def interrupted_sends_wait_past_the_task_limit(app_configs, **kwargs):
    """Deploy check: a send left "sending" for NOTIFY_REQUEUE_AFTER is taken for interrupted and
    retried; sooner than the task time limit, a send still running would be taken too, and an
    email sent twice."""
    limit = settings.Q_CLUSTER["timeout"]
    if settings.NOTIFY_REQUEUE_AFTER.total_seconds() <= limit:
        return [
            Error(
                f"NOTIFY_REQUEUE_AFTER_SECONDS ({settings.NOTIFY_REQUEUE_AFTER.total_seconds():g} s) is not "
                f"longer than the task time limit (Q_TASK_TIMEOUT_SECONDS, {limit} s).",
                hint="Raise NOTIFY_REQUEUE_AFTER_SECONDS above the task time limit.",
                id="notifications.E004",
            )
        ]
    return []
