"""Availability: can the fleet serve a ride for a party of pets in a time window, and if not,
when can it? One place, used by the booking form's live quote, booking itself (under a lock,
`bookings.services.ride_book`), and the API (`POST /quotes`, `POST /bookings`,
`GET /availability`). Registered with bookings in `FleetConfig.ready()` (bookings.availability).

The rule, for a window W = [start, end) (half-open, like dispatch's):

- *fitting drivers*: active drivers whose vehicle carries the whole party
  (`dispatch.vehicle_fit_reasons`: capacity, every pet's type, the biggest crate) and who
  work through all of W (`fleet.hours`: weekly hours, days off). Duty is not asked: it says
  whether a driver takes rides *now*, and W is usually later.
- *free* fitting drivers hold no ride (assigned, en route, picked up) overlapping W.
- *waiting demand*: open rides overlapping W that no driver holds yet but that will need one
  (pending payment and confirmed). A booking doesn't assign a driver (dispatch does, after
  payment), so each of them will take a driver from the pool.
- W is servable when free fitting drivers > waiting demand overlapping W.

The count is on the safe side: a waiting ride is counted against this party's drivers even
when another vehicle could carry it, and two waiting rides that one driver could do one after
the other both count. Dispatch still decides who drives.

Fast by shape: `_Fleet.load` reads the fitting drivers, their hours and their days off once
(3 queries of plain tuples, whatever the fleet's size; drivers who share a vehicle share its
fit check, and those who share a week its spans of working time), then `_Fleet.state` the open
rides of a range (1 query, moments as epoch seconds): a time is first checked on its own
window's rides, and only a refused one reads the two days its suggestions come from (5
queries in all). Candidate slots are answered together by `_DayState.servable_slots`: one
sweep that turns each driver's spans and held rides into ranges of free slots (bisections
over the slots' sorted starts and ends), instead of asking every driver about every slot.
"""

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import accumulate, islice

from django.conf import settings
from django.db.models import FloatField, Func

from bookings.availability import Answer, slot_grid
from bookings.models import DRIVER_HELD_STATUSES, Ride, RideStatus
from bookings.services import pickup_time_errors
from core.dates import day_bounds, operations_zone
from fleet import dispatch
from fleet.dispatch import vehicle_fit_reasons
from fleet.hours import WorkingTime, working_time
from fleet.models import DriverProfile, TimeOff, WorkingHours
from project.accounts.models import User

WAITING_STATUSES = [RideStatus.PENDING_PAYMENT, RideStatus.CONFIRMED]
_HELD = frozenset(status.value for status in DRIVER_HELD_STATUSES)  # asked once per ride row


def _epoch(moment: datetime) -> float:
    """Seconds since 1970, to the millisecond: SQLite's julianday() is a float good to a
    fraction of a millisecond, so both sides are rounded alike and a ride may still start
    exactly when another ends (half-open windows)."""
    return round(moment.timestamp(), 3)


class _Epoch(Func):
    """A timestamp as seconds since 1970 (a float), computed by the database: comparing floats
    in Python is cheap, parsing 10,000 timestamps a day is not (psycopg's parser is Python)."""

    output_field = FloatField()
    template = "EXTRACT(EPOCH FROM %(expressions)s)::float8"  # PostgreSQL

    def as_sqlite(self, compiler, connection, **extra):
        # Stored as UTC text; Julian day 2440587.5 is 1970-01-01 00:00 UTC.
        template = "((julianday(%(expressions)s) - 2440587.5) * 86400.0)"
        return self.as_sql(compiler, connection, template=template, **extra)

    @property
    def convert_value(self):
        # Both databases already return a float: skip FloatField's float() on every row.
        return self._convert_value_noop


@dataclass(frozen=True)
class _Hours:  # a WorkingHours row as fleet.hours reads it
    weekday: int
    starts: time
    ends: time

    @property
    def starts_minute(self) -> int:
        return self.starts.hour * 60 + self.starts.minute

    @property
    def ends_minute(self) -> int:
        return self.ends.hour * 60 + self.ends.minute or 24 * 60


@dataclass(frozen=True)
class _Off:  # a TimeOff row
    starts_on: date
    ends_on: date


@dataclass
class _Driver:
    working: WorkingTime
    # A driver's held rides never overlap (fleet.services); sorted as (start, end) pairs, so
    # both lists are sorted and held_starts[i], held_ends[i] is one ride.
    held_starts: list[float]
    held_ends: list[float]

    def free(self, start: float, end: float) -> bool:
        if not self.working.covers(start, end):
            return False
        # held rides overlapping [start, end): those starting before `end` minus those ending by `start`
        return bisect_left(self.held_starts, end) - bisect_right(self.held_ends, start) == 0

    def free_slots(self, starts: list[float], ends: list[float]):
        """The slots k (windows [starts[k], ends[k]), both lists ascending) this driver is
        free() for, as ranges [lo, hi) of k: a span of working time covers them, less those a
        held ride overlaps."""
        busy: list[list[int]] = []  # merged: held_starts ascending makes each `lo` no smaller
        for held_start, held_end in zip(self.held_starts, self.held_ends, strict=True):
            # overlapping: the slot ends after the ride starts and starts before it ends
            lo, hi = bisect_right(ends, held_start), bisect_left(starts, held_end)
            if lo >= hi:
                continue
            if busy and lo <= busy[-1][1]:
                busy[-1][1] = max(busy[-1][1], hi)
            else:
                busy.append([lo, hi])
        for span_start, span_end in zip(self.working.starts, self.working.ends, strict=True):
            lo, hi = bisect_left(starts, span_start), bisect_right(ends, span_end)
            for busy_lo, busy_hi in busy:
                if busy_lo >= hi or lo >= hi:
                    break
                if busy_hi <= lo:
                    continue
                if busy_lo > lo:
                    yield lo, busy_lo
                lo = busy_hi
            if lo < hi:
                yield lo, hi


@dataclass
class _Fleet:
    """The drivers whose vehicle fits the party, with their working time over a range of days."""

    working: dict[int, WorkingTime]  # by driver pk; only those who work at some time in the range

    @classmethod
    def load(cls, *, pets, first: datetime, last: datetime) -> "_Fleet":
        """For windows lying inside [first, last): 3 queries of plain tuples, one fit check per
        distinct vehicle and one WorkingTime per distinct week (most drivers share both)."""
        tz = operations_zone()
        day_from = first.astimezone(tz).date() - timedelta(days=1)
        day_to = last.astimezone(tz).date() + timedelta(days=1)
        drivers = DriverProfile.objects.filter(user__role=User.Role.DRIVER, user__is_active=True)
        # Grouped by what vehicle_fit_reasons reads, so a fleet of one van model asks once.
        vehicles: dict[tuple, list[int]] = {}
        for pk, capacity, crate, pet_types in drivers.values_list(
            "user_id", "pet_capacity", "max_crate_size", "pet_types"
        ):
            vehicles.setdefault((capacity, crate, tuple(pet_types or ())), []).append(pk)
        fitting = {
            pk
            for (capacity, crate, pet_types), pks in vehicles.items()
            if not vehicle_fit_reasons(
                DriverProfile(pet_capacity=capacity, max_crate_size=crate, pet_types=list(pet_types)), pets
            )
            for pk in pks
        }
        weeks: dict[int, list[tuple]] = {pk: [] for pk in fitting}
        for driver_id, weekday, starts, ends in WorkingHours.objects.filter(
            driver_id__in=fitting
        ).values_list("driver_id", "weekday", "starts", "ends"):
            weeks[driver_id].append((weekday, starts, ends))
        days_off: dict[int, list[tuple]] = {pk: [] for pk in fitting}
        for driver_id, starts_on, ends_on in TimeOff.objects.filter(
            driver_id__in=fitting, starts_on__lte=day_to, ends_on__gte=day_from
        ).values_list("driver_id", "starts_on", "ends_on"):
            days_off[driver_id].append((starts_on, ends_on))
        spans: dict[tuple, WorkingTime] = {}
        working = {}
        for pk in fitting:
            key = (tuple(sorted(weeks[pk])), tuple(sorted(days_off[pk])))
            if key not in spans:
                local = working_time(
                    [_Hours(*row) for row in key[0]], [_Off(*row) for row in key[1]], day_from, day_to, tz
                )
                spans[key] = WorkingTime([_epoch(t) for t in local.starts], [_epoch(t) for t in local.ends])
            if spans[key].starts:  # else not working at all in the range
                working[pk] = spans[key]
        return cls(working)

    def state(self, *, first: datetime, last: datetime, exclude_ride_ids=()) -> "_DayState":
        """The fleet with the open rides overlapping [first, last): 1 query, moments as epoch seconds."""
        rides = (
            Ride.objects.filter(
                status__in=[*WAITING_STATUSES, *DRIVER_HELD_STATUSES],
                scheduled_at__lt=last,
                ends_at__gt=first,
                on_call_until__isnull=True,  # an open return not called yet has no time to hold
            )
            .exclude(pk__in=exclude_ride_ids)
            .order_by()
            .values_list("driver_id", "status", _Epoch("scheduled_at"), _Epoch("ends_at"))
        )
        held: dict[int, list[tuple[float, float]]] = {pk: [] for pk in self.working}
        waiting_starts, waiting_ends = [], []
        for driver_id, status, starts, ends in rides:
            starts, ends = round(starts, 3), round(ends, 3)  # see _Epoch
            if status in _HELD:
                if driver_id in held:
                    held[driver_id].append((starts, ends))
            else:
                waiting_starts.append(starts)
                waiting_ends.append(ends)
        drivers = []
        for pk, working in self.working.items():
            rides_held = sorted(held[pk])
            drivers.append(_Driver(working, [s for s, _ in rides_held], [e for _, e in rides_held]))
        return _DayState(drivers, sorted(waiting_starts), sorted(waiting_ends))


@dataclass
class _DayState:
    drivers: list[_Driver]
    waiting_starts: list[float]  # epoch seconds
    waiting_ends: list[float]

    def waiting(self, start: float, end: float) -> int:
        """Waiting rides overlapping [start, end)."""
        return bisect_left(self.waiting_starts, end) - bisect_right(self.waiting_ends, start)

    def servable(self, start: datetime, end: datetime) -> bool:
        start, end = _epoch(start), _epoch(end)  # every moment here is epoch seconds
        waiting = self.waiting(start, end)
        free = 0
        for driver in self.drivers:
            if driver.free(start, end):
                free += 1
                if free > waiting:
                    return True
        return False

    def servable_slots(self, slots: list[datetime], duration: timedelta) -> list[bool]:
        """servable(t, t + duration) for every t in `slots` (ascending), in one sweep: each
        driver's free slots come as ranges of slot indices (a few bisections per span and held
        ride), summed through a difference array, instead of asking every driver about every slot."""
        starts = [_epoch(t) for t in slots]
        ends = [_epoch(t + duration) for t in slots]
        change = [0] * (len(slots) + 1)
        for driver in self.drivers:
            for lo, hi in driver.free_slots(starts, ends):
                change[lo] += 1
                change[hi] -= 1
        return [
            free > self.waiting(start, end)
            for free, start, end in zip(accumulate(change), starts, ends, strict=False)
        ]


def _candidate_range(starts_at: datetime, now: datetime, tz) -> tuple[datetime, datetime]:
    """Suggestions come from the requested pickup's day and the next (in `tz`, the customer's zone)."""
    day = starts_at.astimezone(tz).date()
    first, _ = day_bounds(day, tz)
    _, last = day_bounds(day + timedelta(days=1), tz)
    return max(first, now), last


def check(*, pets, pickup, starts_at, ends_at, now, exclude_ride_ids=(), suggest=True, tz=None) -> Answer:
    """Whether [starts_at, ends_at) can be served for `pets`; if not (and `suggest`), up to
    AVAILABILITY_SUGGESTIONS servable pickup times nearest to `starts_at`, that day and the next,
    within the booking limits (`bookings.services.pickup_time_errors`), in time order.
    `pickup` is taken so that a service area has one place to go; today every pickup is served."""
    duration = ends_at - starts_at
    first, last = _candidate_range(starts_at, now, tz or operations_zone())
    # The drivers are read once, for every window the answer may ask about; the rides first
    # for the window alone (the usual answer), and only when it is refused for the two days
    # of suggestions.
    wide_first, wide_last = min(first, starts_at), max(last, starts_at) + duration
    fleet = _Fleet.load(pets=pets, first=wide_first, last=wide_last)
    narrow = fleet.state(first=starts_at, last=ends_at, exclude_ride_ids=exclude_ride_ids)
    if narrow.servable(starts_at, ends_at):
        return Answer(servable=True)
    if not suggest:
        return Answer(servable=False)
    state = fleet.state(first=wide_first, last=wide_last, exclude_ride_ids=exclude_ride_ids)
    slots = slot_grid(first, last)
    servable = dict(zip(slots, state.servable_slots(slots, duration), strict=True))
    nearest_first = sorted(slots, key=lambda t: (abs(t - starts_at), t))
    found = islice(
        (t for t in nearest_first if t != starts_at and not pickup_time_errors(t, now) and servable[t]),
        settings.AVAILABILITY_SUGGESTIONS,
    )
    return Answer(servable=False, suggestions=tuple(sorted(found)))


def servable_starts(*, pets, pickup, first, last, duration, now, exclude_ride_ids=()) -> list[datetime]:
    """Every servable pickup time on the slot grid in [first, last), within the booking limits."""
    fleet = _Fleet.load(pets=pets, first=first, last=last + duration)
    state = fleet.state(first=first, last=last + duration, exclude_ride_ids=exclude_ride_ids)
    slots = slot_grid(first, last)
    return [
        t
        for t, servable in zip(slots, state.servable_slots(slots, duration), strict=True)
        if servable and not pickup_time_errors(t, now)
    ]


def driver_keeps(*, ride, starts_at, ends_at, exclude_ride_ids=()) -> bool:
    """A rescheduled ride keeps its driver when dispatch's rules still let them take it."""
    return dispatch.driver_keeps(
        ride=ride, starts_at=starts_at, ends_at=ends_at, exclude_ride_ids=exclude_ride_ids
    )
