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

Fast by shape: `_DayState.load` reads the drivers, their hours, their days off and the open
rides of the whole range once (4 queries of plain tuples, whatever the fleet's size: a time
is first checked on its own window's rides, and only a refused one reads the two days its
suggestions come from, 4 more), then
every candidate slot is answered in Python with bisections over sorted lists (no query per
slot or driver); drivers who share a week share its spans of working time.
"""

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice

from django.conf import settings
from django.db.models import FloatField, Func

from bookings.availability import Answer, slot_grid
from bookings.models import DRIVER_HELD_STATUSES, Ride, RideStatus
from bookings.services import pickup_time_errors
from core.dates import day_bounds, operations_zone
from fleet.dispatch import vehicle_fit_reasons
from fleet.hours import WorkingTime, working_time
from fleet.models import DriverProfile, TimeOff, WorkingHours
from project.accounts.models import User

WAITING_STATUSES = [RideStatus.PENDING_PAYMENT, RideStatus.CONFIRMED]


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


@dataclass(frozen=True, order=True)
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


@dataclass(frozen=True, order=True)
class _Off:  # a TimeOff row
    starts_on: date
    ends_on: date


@dataclass
class _Driver:
    working: WorkingTime
    held_starts: list[float]  # a driver's held rides never overlap (fleet.services): both sorted
    held_ends: list[float]

    def free(self, start: float, end: float) -> bool:
        if not self.working.covers(start, end):
            return False
        # held rides overlapping [start, end): those starting before `end` minus those ending by `start`
        return bisect_left(self.held_starts, end) - bisect_right(self.held_ends, start) == 0


@dataclass
class _DayState:
    drivers: list[_Driver]
    waiting_starts: list[float]  # epoch seconds
    waiting_ends: list[float]

    @classmethod
    def load(cls, *, pets, first: datetime, last: datetime, exclude_ride_id=None) -> "_DayState":
        """Everything needed to answer windows lying inside [first, last): 4 queries of plain
        tuples (no model instances, moments as epoch seconds), and one WorkingTime per distinct
        week (most drivers share one)."""
        tz = operations_zone()
        day_from = first.astimezone(tz).date() - timedelta(days=1)
        day_to = last.astimezone(tz).date() + timedelta(days=1)
        fitting = {
            profile.pk
            for profile in DriverProfile.objects.filter(
                user__role=User.Role.DRIVER, user__is_active=True
            ).only("user_id", "pet_capacity", "max_crate_size", "pet_types")
            if not vehicle_fit_reasons(profile, pets)
        }
        weeks: dict[int, list[_Hours]] = {pk: [] for pk in fitting}
        for driver_id, weekday, starts, ends in WorkingHours.objects.filter(
            driver_id__in=fitting
        ).values_list("driver_id", "weekday", "starts", "ends"):
            weeks[driver_id].append(_Hours(weekday, starts, ends))
        days_off: dict[int, list[_Off]] = {pk: [] for pk in fitting}
        for driver_id, starts_on, ends_on in TimeOff.objects.filter(
            driver_id__in=fitting, starts_on__lte=day_to, ends_on__gte=day_from
        ).values_list("driver_id", "starts_on", "ends_on"):
            days_off[driver_id].append(_Off(starts_on, ends_on))
        rides = (
            Ride.objects.filter(
                status__in=[*WAITING_STATUSES, *DRIVER_HELD_STATUSES],
                scheduled_at__lt=last,
                ends_at__gt=first,
                on_call_until__isnull=True,  # an open return not called yet has no time to hold
            )
            .exclude(pk=exclude_ride_id)
            .order_by()
            .values_list("driver_id", "status", _Epoch("scheduled_at"), _Epoch("ends_at"))
        )
        held: dict[int, list[tuple[float, float]]] = {pk: [] for pk in fitting}
        waiting_starts, waiting_ends = [], []
        for driver_id, status, starts, ends in rides:
            starts, ends = round(starts, 3), round(ends, 3)  # see _Epoch
            if status in DRIVER_HELD_STATUSES:
                if driver_id in held:
                    held[driver_id].append((starts, ends))
            else:
                waiting_starts.append(starts)
                waiting_ends.append(ends)
        spans: dict[tuple, WorkingTime] = {}
        drivers = []
        for pk in fitting:
            key = (tuple(sorted(weeks[pk])), tuple(sorted(days_off[pk])))
            if key not in spans:
                local = working_time(key[0], key[1], day_from, day_to, tz)
                spans[key] = WorkingTime([_epoch(t) for t in local.starts], [_epoch(t) for t in local.ends])
            if not spans[key].starts:
                continue  # not working at all in the range
            rides_held = sorted(held[pk])
            drivers.append(_Driver(spans[key], [s for s, _ in rides_held], [e for _, e in rides_held]))
        return cls(drivers, sorted(waiting_starts), sorted(waiting_ends))

    def servable(self, start: datetime, end: datetime) -> bool:
        start, end = _epoch(start), _epoch(end)  # every moment here is epoch seconds
        waiting = bisect_left(self.waiting_starts, end) - bisect_right(self.waiting_ends, start)
        free = 0
        for driver in self.drivers:
            if driver.free(start, end):
                free += 1
                if free > waiting:
                    return True
        return False


def _candidate_range(starts_at: datetime, now: datetime, tz) -> tuple[datetime, datetime]:
    """Suggestions come from the requested pickup's day and the next (in `tz`, the customer's zone)."""
    day = starts_at.astimezone(tz).date()
    first, _ = day_bounds(day, tz)
    _, last = day_bounds(day + timedelta(days=1), tz)
    return max(first, now), last


def check(*, pets, pickup, starts_at, ends_at, now, exclude_ride_id=None, suggest=True, tz=None) -> Answer:
    """Whether [starts_at, ends_at) can be served for `pets`; if not (and `suggest`), up to
    AVAILABILITY_SUGGESTIONS servable pickup times nearest to `starts_at`, that day and the next,
    within the booking limits (`bookings.services.pickup_time_errors`), in time order.
    `pickup` is taken so that a service area has one place to go; today every pickup is served."""
    duration = ends_at - starts_at
    # First the window alone (the usual answer, from the few rides overlapping it); the two
    # days of suggestions are read only when it is refused.
    narrow = _DayState.load(pets=pets, first=starts_at, last=ends_at, exclude_ride_id=exclude_ride_id)
    if narrow.servable(starts_at, ends_at):
        return Answer(servable=True)
    if not suggest:
        return Answer(servable=False)
    first, last = _candidate_range(starts_at, now, tz or operations_zone())
    state = _DayState.load(
        pets=pets,
        first=min(first, starts_at),
        last=max(last, starts_at) + duration,
        exclude_ride_id=exclude_ride_id,
    )
    nearest_first = sorted(slot_grid(first, last), key=lambda t: (abs(t - starts_at), t))
    found = islice(  # stops at the last suggestion needed: a busy day isn't swept to its end
        (
            t
            for t in nearest_first
            if t != starts_at and not pickup_time_errors(t, now) and state.servable(t, t + duration)
        ),
        settings.AVAILABILITY_SUGGESTIONS,
    )
    return Answer(servable=False, suggestions=tuple(sorted(found)))


def servable_starts(*, pets, pickup, first, last, duration, now, exclude_ride_id=None) -> list[datetime]:
    """Every servable pickup time on the slot grid in [first, last), within the booking limits."""
    state = _DayState.load(pets=pets, first=first, last=last + duration, exclude_ride_id=exclude_ride_id)
    return [
        t
        for t in slot_grid(first, last)
        if not pickup_time_errors(t, now) and state.servable(t, t + duration)
    ]
