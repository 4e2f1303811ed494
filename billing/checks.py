from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=True)
def stripe_keys_configured(app_configs, **kwargs):
    if settings.STRIPE_USES_LOCALSTRIPE:
        return [
            Warning(
                "STRIPE_SECRET_KEY is not set: payments go to localstripe, a local fake Stripe.",
                hint="Set STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY and STRIPE_WEBHOOK_SECRET.",
                id="billing.W001",
            )
        ]
    return []
