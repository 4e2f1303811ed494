"""Can the fleet serve a ride at a time? Bookings asks; fleet answers, without bookings
importing fleet (docs/architecture.md, "How a lower app reaches a higher one").

Fleet registers its provider in `FleetConfig.ready()` with `register_provider(provider)`;
a provider has

- `check(*, pets, pickup, starts_at, ends_at, now, tz, exclude_ride_ids=(), suggest=True) -> Answer`:
  whether a ride for the party `pets` picked up at `pickup` can be served in the half-open
  window [starts_at, ends_at), and if not, the nearest servable pickup times;
- `servable_starts(*, pets, pickup, first, last, duration, now, exclude_ride_ids=()) -> list[datetime]`:
  every servable pickup time on the slot grid from `first` up to (not including) `last`.
- `driver_keeps(*, ride, starts_at, ends_at, exclude_ride_ids=()) -> bool`: whether the driver
  holding `ride` is still eligible for it moved to [starts_at, ends_at) (a reschedule keeps
  them then; `exclude_ride_ids`: rides moving with it, which don't clash).

Until a provider registers (bookings used on its own), every time is servable: the safe
default for a project without a fleet is the behaviour it had before availability existed.

`lock_window(starts_at, ends_at)` serialises bookings whose windows touch the same operations
days, so two customers can't both take the last free driver (see `bookings.services.ride_book`).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.dates import operations_zone

# Advisory-lock class for "bookings of one operations day" (PostgreSQL's two-key form).
DAY_LOCK_CLASS = 0x5757
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Answer:
    servable: bool
    suggestions: tuple[datetime, ...] = field(default=())


_provider = None


def register_provider(provider) -> None:
    global _provider
    _provider = provider


def slot_grid(first: datetime, last: datetime) -> list[datetime]:
    """Pickup times on the AVAILABILITY_SLOT_MINUTES grid in [first, last) (the grid is aligned
    to UTC, which is aligned to every real zone's quarter hours)."""
    step = timedelta(minutes=settings.AVAILABILITY_SLOT_MINUTES)
    start = first + (-(first - EPOCH)) % step
    slots = []
    while start < last:
        slots.append(start)
        start += step
    return slots


def check(
    *, pets, pickup, starts_at, ends_at, now=None, exclude_ride_ids=(), suggest=True, tz=None
) -> Answer:
    """`tz`: the customer's zone, whose calendar days the suggestions come from."""
    if _provider is None:
        return Answer(servable=True)
    return _provider.check(
        tz=tz or timezone.get_current_timezone(),
        pets=list(pets),
        pickup=pickup,
        starts_at=starts_at,
        ends_at=ends_at,
        now=now or timezone.now(),
        exclude_ride_ids=exclude_ride_ids,
        suggest=suggest,
    )


def servable_starts(*, pets, pickup, first, last, duration, now=None, exclude_ride_ids=()) -> list[datetime]:
    now = now or timezone.now()
    if _provider is None:
        from bookings.services import pickup_time_errors

        return [t for t in slot_grid(first, last) if not pickup_time_errors(t, now)]
    return _provider.servable_starts(
        pets=list(pets),
        pickup=pickup,
        first=first,
        last=last,
        duration=duration,
        now=now,
        exclude_ride_ids=exclude_ride_ids,
    )


def driver_keeps(*, ride, starts_at, ends_at, exclude_ride_ids=()) -> bool:
    """Without a provider nobody can say the driver is free then: the ride goes back to
    dispatch, as every reschedule did before."""
    if _provider is None or ride.driver_id is None:
        return False
    return _provider.driver_keeps(
        ride=ride, starts_at=starts_at, ends_at=ends_at, exclude_ride_ids=tuple(exclude_ride_ids)
    )


def _days(starts_at: datetime, ends_at: datetime) -> Iterable[int]:
    tz = operations_zone()
    first, last = starts_at.astimezone(tz).date(), ends_at.astimezone(tz).date()
    return range(first.toordinal(), last.toordinal() + 1)


def lock_window(starts_at: datetime, ends_at: datetime) -> None:
    """Inside a transaction: wait until no other booking touching the same operations days is
    deciding, and hold that until commit. PostgreSQL: a transaction-level advisory lock per day,
    taken in day order (no deadlocks). SQLite needs nothing: its IMMEDIATE transactions
    (settings.DATABASES) already serialise every writer, reads included."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for day in _days(starts_at, ends_at):
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [DAY_LOCK_CLASS, day])
