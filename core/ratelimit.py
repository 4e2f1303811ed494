"""Counting hits in the cache: "at most N per period" for one key (an account, an IP
address, a phone number), for the limits django-ninja's per-IP throttles cannot express
and for HTML forms.

A rate reads `5/h`, `1/30s` or `20/1d`; a setting may list several (`1/30s,5/h`: at most
one every 30 seconds and five an hour). Counters live in the cache
(`REDIS_URL` in production: per-process memory would be no limit) in fixed windows, so
a burst at a window's edge may reach twice a rate, never more.
"""

import hashlib
import math
import re
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from core.errors import DomainError

UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATE = re.compile(r"(\d+)/(\d*)([smhd])")


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


def parse_rates(text: str) -> tuple[Rate, ...]:
    """Read a setting such as `1/30s,5/h`; an empty one means no limit."""
    rates = []
    for part in filter(None, (part.strip() for part in text.split(","))):
        match = RATE.fullmatch(part)
        if match is None or int(match[1]) < 1:
            raise ImproperlyConfigured(
                f"Rate {part!r}: write a count, a slash and a period, e.g. 5/h or 1/30s."
            )
        rates.append(Rate(int(match[1]), int(match[2] or 1) * UNIT_SECONDS[match[3]]))
    return tuple(rates)


def _wait_text(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes" if minutes < 90 else f"{math.ceil(minutes / 60)} hours"


def rate_limit(*, scope: str, key: str, rates: tuple[Rate, ...], message: str) -> None:
    """Count one hit of `key` in `scope`; raise `DomainError(code="rate_limited")` with
    `message` and the wait when a rate is exceeded. The refused hit counts too.

    Each rate's window opens at the first hit and lasts its length (not windows fixed to the
    clock, which let two bursts through either side of a boundary: "1 per 30 s" then allows
    one hit in any 30 s from that first one)."""
    if not key:
        return
    now = time.time()
    # Hashed: phone numbers and addresses stay out of the cache's key space.
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    for rate in rates:
        cache_key = f"ratelimit:{scope}:{rate.seconds}:{digest}"
        # Both adds are atomic: two first hits at once neither reset each other's count.
        cache.add(f"{cache_key}:opened", now, timeout=rate.seconds)
        cache.add(cache_key, 0, timeout=rate.seconds)
        opened = cache.get(f"{cache_key}:opened", now)
        try:
            hits = cache.incr(cache_key)
        except ValueError:  # the window closed between the two calls: this hit opens the next
            cache.set(f"{cache_key}:opened", now, timeout=rate.seconds)
            cache.set(cache_key, 1, timeout=rate.seconds)
            opened, hits = now, 1
        if hits > rate.count:
            wait = max(1, math.ceil(opened + rate.seconds - now))
            raise DomainError(f"{message} Try again in {_wait_text(wait)}.", code="rate_limited")
