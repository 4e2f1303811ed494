"""Rows that are tried again later: claim a due row once, back off, find the due ones.

A retried row has a `status`, an `attempts` count and a `next_attempt_at` time
(billing's Transaction, notifications' Notification). A row is due when it waits
in its status and its time has come; one conditional UPDATE claims it, so of two
workers (or a task delivered twice) exactly one goes on. A claimed row stays out of
reach either by a lease (`next_attempt_at` moved past the attempt, so a crashed
worker's row comes back on its own) or by the caller moving it to another status.

Back-off is a list of delays, one per retry: after attempt n fails, wait
delays[n - 1]; when the attempt after the last delay fails too, give up.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db.models import F, Q, QuerySet

UNITS = {"s": "seconds", "m": "minutes", "h": "hours"}
DELAY = re.compile(r"(\d+)([smh])")


def parse_delays(text: str) -> list[timedelta]:
    """Read a setting such as `1m,5m,15m,1h`. Each delay carries its unit (s, m or h):
    a bare number is refused rather than guessed at."""
    delays = []
    for part in filter(None, (part.strip() for part in text.split(","))):
        match = DELAY.fullmatch(part)
        if match is None:
            raise ImproperlyConfigured(f"Retry delay {part!r}: write a whole number and s, m or h, e.g. 90s.")
        delays.append(timedelta(**{UNITS[match[2]]: int(match[1])}))
    return delays


@dataclass(frozen=True)
class Backoff:
    delays: Sequence[timedelta]

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1

    def next_attempt_at(self, *, attempts: int, now: datetime) -> datetime | None:
        """When to try again after attempt number `attempts` failed; None: give up."""
        if attempts < 1:
            raise ValueError("A row is backed off after an attempt, so attempts is at least 1.")
        if attempts > len(self.delays):
            return None
        return now + self.delays[attempts - 1]


def claim_due_row(
    rows: QuerySet, *, pk: int, waiting_status: str, now: datetime, lease: timedelta | None = None, **changes
) -> bool:
    """Take one attempt at row `pk` if it waits in `waiting_status` and is due; True if this call won.

    Counts the attempt; with `lease`, nobody else may claim the row until `now + lease`.
    `changes` are further fields to set in the same UPDATE (e.g. a status meaning "taken").
    A row without a next attempt time is due here (its owner asks for it explicitly), but
    `due_rows` leaves it out: the sweep only picks up rows that were given a time."""
    fields = {"attempts": F("attempts") + 1, **changes}
    if lease is not None:
        fields["next_attempt_at"] = now + lease
    claimed = (
        rows.filter(pk=pk, status=waiting_status)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(**fields)
    )
    return bool(claimed)


def due_rows(rows: QuerySet, *, waiting_status: str, now: datetime) -> QuerySet:
    """Rows waiting in `waiting_status` whose next attempt time has come, longest waiting first."""
    return rows.filter(status=waiting_status, next_attempt_at__lte=now).order_by("next_attempt_at", "pk")
