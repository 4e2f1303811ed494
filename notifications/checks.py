from django.conf import settings
from django.core.checks import Error


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
