"""Reads for the driver portal and the dispatch pages. Driver queries start from the
driver, so another driver's ride is unreachable (404)."""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from bookings.models import ENDED_STATUSES, OPEN_STATUSES, Ride, RideStatus
from core.dates import operations_day
from fleet.dispatch import rides_on_day
from fleet.filters import DriverFilterSet, DriverRideFilterSet
from fleet.models import DriverProfile

BOARD_LIMIT = 60  # a driver's open rides shown at once (a busy week)


def driver_profile(user) -> DriverProfile | None:
    return DriverProfile.objects.filter(pk=user.pk).first()


def driver_rides(user) -> QuerySet[Ride]:
    return Ride.objects.for_driver(user).select_related("customer").with_party()


def driver_ride_list(*, driver, filters: Mapping | None = None, tz=None) -> QuerySet[Ride]:
    """The driver's rides, soonest first, narrowed by DriverRideFilterSet; days are read in
    `tz` (default: the active zone)."""
    rides = driver_rides(driver).order_by("scheduled_at", "id")
    return DriverRideFilterSet(filters, queryset=rides, tz=tz).qs


def driver_ride(user, pk) -> Ride:
    return get_object_or_404(driver_rides(user), pk=pk)


@dataclass
class Board:
    """The driver's page: the ride to act on now, then the rest grouped by when."""

    current: Ride | None = None
    waiting: list[Ride] = field(default_factory=list)  # assigned, not accepted yet
    later_today: list[Ride] = field(default_factory=list)
    upcoming: list[Ride] = field(default_factory=list)
    done_today: list[Ride] = field(default_factory=list)
    version: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.current or self.waiting or self.later_today or self.upcoming or self.done_today)


def driver_board(user, now: datetime | None = None) -> Board:
    """One query. `version` changes whenever anything on the board would (a new ride, a
    step, a cancellation, a new day), so the page polls cheaply and re-renders only then."""
    now = now or timezone.now()
    day_start, day_end = operations_day(now)
    rides = list(
        driver_rides(user)
        .filter(
            Q(status__in=OPEN_STATUSES)
            # Done today: rides that ended today, whatever day they were booked for.
            | Q(status__in=ENDED_STATUSES, ended_at__gte=day_start, ended_at__lt=day_end)
        )
        .order_by("scheduled_at", "id")[:BOARD_LIMIT]
    )
    board = Board()
    open_rides = [r for r in rides if r.is_open]
    in_progress = [r for r in open_rides if r.is_in_progress]
    board.current = (in_progress or open_rides or [None])[0]
    for ride in open_rides:
        if ride is board.current:
            continue
        if ride.status == RideStatus.ASSIGNED and ride.accepted_at is None:
            board.waiting.append(ride)
        elif ride.scheduled_at < day_end:
            board.later_today.append(ride)
        else:
            board.upcoming.append(ride)
    board.done_today = [r for r in rides if r.is_ended]
    stamp = "|".join(f"{r.pk}:{r.status}:{r.updated_at.timestamp()}" for r in rides)
    board.version = hashlib.sha256(f"{day_start.date()}|{stamp}".encode()).hexdigest()[:16]
    return board


# --- Operations ---------------------------------------------------------------------


def dispatch_queue(now: datetime | None = None) -> QuerySet[Ride]:
    """Confirmed rides without a driver whose window has not passed, soonest first (an open
    return waits for its call first)."""
    return (
        Ride.objects.filter(
            status=RideStatus.CONFIRMED,
            driver__isnull=True,
            ends_at__gt=now or timezone.now(),
            on_call_until__isnull=True,
        )
        .select_related("customer")
        .with_party()
        .order_by("scheduled_at", "id")
    )


def awaiting_acceptance(now: datetime | None = None) -> QuerySet[Ride]:
    """Assigned rides the driver has not accepted yet."""
    return (
        Ride.objects.filter(
            status=RideStatus.ASSIGNED, accepted_at__isnull=True, ends_at__gt=now or timezone.now()
        )
        .select_related("customer", "driver")
        .with_party()
        .order_by("scheduled_at", "id")
    )


def drivers_for_ops(
    *, filters: Mapping | None = None, now: datetime | None = None
) -> QuerySet[DriverProfile]:
    """Every driver with their rides today, active ones first, narrowed by DriverFilterSet."""
    profiles = (
        DriverProfile.objects.select_related("user")
        .annotate(rides_today=rides_on_day(*operations_day(now or timezone.now())))
        .order_by("-user__is_active", "user__name", "user_id")
    )
    return DriverFilterSet(filters, queryset=profiles).qs


def driver_for_ops(pk) -> DriverProfile:
    return get_object_or_404(DriverProfile.objects.select_related("user"), pk=pk)


def position_for_ride(ride: Ride, profile: DriverProfile | None) -> DriverProfile | None:
    """The driver's last reported position (`profile` is the ride's driver's), if it was
    reported for this ride while under way."""
    if profile is None or not ride.is_in_progress:
        return None
    if profile.position_ride_id != ride.pk or profile.position_at is None:
        return None
    return profile


def driver_weekly_hours(profile: DriverProfile) -> dict[int, list[tuple[int, int]]]:
    """weekday -> [(starts_minute, ends_minute)], as WeeklyHoursForm and the API show them."""
    hours: dict[int, list[tuple[int, int]]] = {}
    for row in profile.working_hours.all():
        hours.setdefault(row.weekday, []).append((row.starts_minute, row.ends_minute))
    return hours


def driver_time_off(profile: DriverProfile):
    """The driver's days off that haven't ended yet, soonest first."""
    from core.dates import operations_today

    return profile.time_off.filter(ends_on__gte=operations_today()).order_by("starts_on")
