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
rides of the whole range once (4 queries, whatever the fleet's size), then every candidate
slot is answered in Python with bisections over sorted lists (no query per slot or driver).
"""

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Prefetch

from bookings.availability import Answer, slot_grid
from bookings.models import DRIVER_HELD_STATUSES, Ride, RideStatus
from bookings.services import pickup_time_errors
from core.dates import day_bounds, operations_zone
from fleet.dispatch import vehicle_fit_reasons
from fleet.hours import WorkingTime, working_time
from fleet.models import DriverProfile, TimeOff
from project.accounts.models import User

WAITING_STATUSES = [RideStatus.PENDING_PAYMENT, RideStatus.CONFIRMED]


@dataclass
class _Driver:
    working: WorkingTime
    held_starts: list[datetime]  # a driver's held rides never overlap (fleet.services): both sorted
    held_ends: list[datetime]

    def free(self, start: datetime, end: datetime) -> bool:
        if not self.working.covers(start, end):
            return False
        # held rides overlapping [start, end): those starting before `end` minus those ending by `start`
        return bisect_left(self.held_starts, end) - bisect_right(self.held_ends, start) == 0


@dataclass
class _DayState:
    drivers: list[_Driver]
    waiting_starts: list[datetime]
    waiting_ends: list[datetime]

    @classmethod
    def load(cls, *, pets, first: datetime, last: datetime, exclude_ride_id=None) -> "_DayState":
        """Everything needed to answer windows lying inside [first, last)."""
        tz = operations_zone()
        day_from = first.astimezone(tz).date() - timedelta(days=1)
        day_to = last.astimezone(tz).date() + timedelta(days=1)
        profiles = (
            DriverProfile.objects.filter(user__role=User.Role.DRIVER, user__is_active=True)
            .only("user_id", "pet_capacity", "max_crate_size", "pet_types")
            .prefetch_related(
                Prefetch("working_hours"),
                Prefetch(
                    "time_off", queryset=TimeOff.objects.filter(starts_on__lte=day_to, ends_on__gte=day_from)
                ),
            )
        )
        fitting = {
            profile.pk: working_time(profile.working_hours.all(), profile.time_off.all(), day_from, day_to)
            for profile in profiles
            if not vehicle_fit_reasons(profile, pets)
        }
        rides = (
            Ride.objects.filter(
                status__in=[*WAITING_STATUSES, *DRIVER_HELD_STATUSES],
                scheduled_at__lt=last,
                ends_at__gt=first,
            )
            .exclude(pk=exclude_ride_id)
            .order_by()
            .values_list("driver_id", "status", "scheduled_at", "ends_at")
        )
        held: dict[int, list[tuple[datetime, datetime]]] = {pk: [] for pk in fitting}
        waiting_starts, waiting_ends = [], []
        for driver_id, status, starts, ends in rides:
            if status in DRIVER_HELD_STATUSES:
                if driver_id in held:
                    held[driver_id].append((starts, ends))
            else:
                waiting_starts.append(starts)
                waiting_ends.append(ends)
        drivers = []
        for pk, working in fitting.items():
            spans = sorted(held[pk])
            drivers.append(_Driver(working, [s for s, _ in spans], [e for _, e in spans]))
        return cls(drivers, sorted(waiting_starts), sorted(waiting_ends))

    def servable(self, start: datetime, end: datetime) -> bool:
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
    first, last = _candidate_range(starts_at, now, tz or operations_zone())
    if not suggest:
        first, last = starts_at, starts_at
    state = _DayState.load(
        pets=pets,
        first=min(first, starts_at),
        last=max(last, starts_at) + duration,
        exclude_ride_id=exclude_ride_id,
    )
    if state.servable(starts_at, ends_at):
        return Answer(servable=True)
    if not suggest:
        return Answer(servable=False)
    found = [
        t
        for t in sorted(slot_grid(first, last), key=lambda t: (abs(t - starts_at), t))
        if t != starts_at and not pickup_time_errors(t, now) and state.servable(t, t + duration)
    ][: settings.AVAILABILITY_SUGGESTIONS]
    return Answer(servable=False, suggestions=tuple(sorted(found)))


def servable_starts(*, pets, pickup, first, last, duration, now, exclude_ride_id=None) -> list[datetime]:
    """Every servable pickup time on the slot grid in [first, last), within the booking limits."""
    state = _DayState.load(pets=pets, first=first, last=last + duration, exclude_ride_id=exclude_ride_id)
    return [
        t
        for t in slot_grid(first, last)
        if not pickup_time_errors(t, now) and state.servable(t, t + duration)
    ]
