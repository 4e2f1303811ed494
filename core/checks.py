from django.conf import settings
from django.core.checks import Error


def shared_cache_configured(app_configs, **kwargs):
    """Deploy check: rate limits and lockouts live in the cache; per-process memory is no limit
    once several processes serve the site."""
    if not settings.REDIS_URL:
        return [
            Error(
                "REDIS_URL is not set: rate limits and login back-offs are kept per process.",
                hint="Set REDIS_URL (it is also the task broker).",
                id="core.E001",
            )
        ]
    return []
