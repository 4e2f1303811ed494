"""Failed password checks per account, with a wait that grows: the HTML login, the API login
and the current-password check of an email change share one count.

The count is kept per email address in the cache (Redis in production), whether or not an
account has that address, so the wait tells nobody who is registered. After
`LOGIN_BACKOFF_AFTER_FAILURES` failures in a row the next attempt waits the first of
`LOGIN_BACKOFF_DELAYS`, after each further failure the next one (the last one repeats). A
success or a password reset clears the count, and a day without attempts forgets it. Every
wait ends, so nobody can lock someone else out for good, and a guesser gets a few tries an hour.

An attempt is counted as a failure *before* the password is checked (a success then clears
it), under a cache lock: parallel guesses cannot all pass the check before any is counted.
"""

import hashlib
import math
import time
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache

from core.errors import DomainError

FORGET_AFTER_SECONDS = 24 * 3600
LOCK_SECONDS = 5


class TooManyLoginAttempts(DomainError):
    def __init__(self, retry_after: int):
        minutes = math.ceil(retry_after / 60)
        wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
        super().__init__(f"Too many failed login attempts. Try again in {wait}.", code="rate_limited")
        self.retry_after = retry_after  # seconds, for a Retry-After header


def _key(email: str) -> str:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return f"login-backoff:{digest}"


@contextmanager
def _locked(key: str):
    """One attempt at a time per address (cache.add is atomic in Redis and locmem alike)."""
    lock = f"{key}:lock"
    deadline = time.monotonic() + 1
    while not cache.add(lock, True, timeout=LOCK_SECONDS):
        if time.monotonic() > deadline:
            raise TooManyLoginAttempts(retry_after=1)
        time.sleep(0.01)
    try:
        yield
    finally:
        cache.delete(lock)


def begin_attempt(*, email: str) -> None:
    """Call before checking a password for `email`: raises TooManyLoginAttempts while it must
    wait, else counts this attempt as failed until `clear` undoes it."""
    key = _key(email)
    with _locked(key):
        record = cache.get(key) or {"failures": 0, "wait_until": 0.0}
        now = time.time()
        if now < record["wait_until"]:
            raise TooManyLoginAttempts(retry_after=math.ceil(record["wait_until"] - now))
        record["failures"] += 1
        beyond_free = record["failures"] - settings.LOGIN_BACKOFF_AFTER_FAILURES
        wait = 0.0
        if beyond_free >= 0:
            delays = settings.LOGIN_BACKOFF_DELAYS
            wait = delays[min(beyond_free, len(delays) - 1)].total_seconds()
        record["wait_until"] = now + wait
        cache.set(key, record, timeout=wait + FORGET_AFTER_SECONDS)


def clear(*, email: str) -> None:
    """The password was right, or was reset: the address starts afresh."""
    cache.delete(_key(email))
