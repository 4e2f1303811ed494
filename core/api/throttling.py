from django.conf import settings
from ninja.throttling import AnonRateThrottle

from core.http import client_ip


class ClientIpThrottle(AnonRateThrottle):
    """ninja's per-IP throttle, keyed on the address our own proxies vouch for (core.http.client_ip),
    so rotating a made-up X-Forwarded-For does not buy a fresh allowance."""

    def get_ident(self, request) -> str:
        return client_ip(request)


def throttle(name: str) -> ClientIpThrottle:
    """Per-IP rate limit from settings.API_RATE_LIMITS (kept in the cache)."""
    limiter = ClientIpThrottle(settings.API_RATE_LIMITS[name])
    limiter.scope = f"api-{name}"
    return limiter
