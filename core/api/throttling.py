from django.conf import settings
from ninja.throttling import AnonRateThrottle


def throttle(name: str) -> AnonRateThrottle:
    """Per-IP rate limit from settings.API_RATE_LIMITS (kept in the cache)."""
    limiter = AnonRateThrottle(settings.API_RATE_LIMITS[name])
    limiter.scope = f"api-{name}"
    return limiter
