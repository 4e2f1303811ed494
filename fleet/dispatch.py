"""Who can take a ride, and who should: the dispatch rules, in one place.

A driver is *eligible* for a ride when their account is active, they are on
duty, they work through the ride's whole window (`fleet.hours`: weekly hours and
days off), their vehicle takes the pets (`vehicle_fit_reasons`: as many pets as it
carries, every pet's type, and a crate of every pet's size) and they hold no other
ride whose time window overlaps this one. A window runs from
the pickup time to `Ride.ends_at` (drive time + buffer, `bookings.pricing.estimated_end`);
windows are half-open, so a ride may start the minute the previous one ends.

Eligible drivers are *ranked*: for a round trip's leg, the driver of its other leg first
(a wait-and-return's driver is already there; pets like a familiar driver); then nearest
last-known position to the pickup (drivers who never reported a position come after those
who did), then the fewest rides that day, then by name. A driver who declined this ride before
sorts after the others and is never picked by auto-dispatch again.

`candidates()` reads every driver in one query (their hours and days off in two more);
`fleet.services` re-checks the one chosen driver under a row lock before assigning
(see `dispatch_assign`).
"""

from copy import copy
from dataclasses import dataclass, replace
from datetime import datetime

from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from bookings.geocoding import Point, straight_line_miles
from bookings.models import DRIVER_HELD_STATUSES, Pet, Ride, RideEvent, RideStatus, Trip
from core.dates import operations_day
from fleet.hours import days_around, working_time
from fleet.models import CrateSize, DriverProfile, TimeOff
from project.accounts.models import User

# Rides that count towards a driver's load for the day.
LOAD_STATUSES = [*DRIVER_HELD_STATUSES, RideStatus.COMPLETED]


@dataclass(frozen=True)
class Candidate:
    profile: DriverProfile
    reasons: tuple[str, ...]  # why the driver can't take the ride; empty when eligible
    distance_miles: float | None  # last-known position to the pickup, None if never reported
    rides_that_day: int
    declined: bool  # declined this ride before
    drives_other_leg: bool = False  # holds the other ride of this ride's round trip

    @property
    def driver(self) -> User:
        return self.profile.user

    @property
    def eligible(self) -> bool:
        return not self.reasons

    def rank_key(self):
        return (
            not self.eligible,
            self.declined,
            not self.drives_other_leg,
            self.distance_miles is None,
            self.distance_miles or 0.0,
            self.rides_that_day,
            self.driver.name.lower(),
            self.driver.pk,
        )


def vehicle_fit_reasons(profile: DriverProfile, pets: list[Pet]) -> list[str]:
    """Why `profile`'s vehicle can't carry the party `pets` (empty: it can): too many pets for
    its capacity, a pet type it doesn't take, a pet needing a bigger crate than it takes (by
    weight, crated or not: a big dog needs a big vehicle). Dispatch and availability both ask this."""
    reasons = []
    if len(pets) > profile.pet_capacity:
        reasons.append(f"Carries {profile.pet_capacity} pets at most, this ride has {len(pets)}")
    refused_types = []
    for pet in pets:
        if not profile.takes_pet_type(pet.type) and pet.type not in refused_types:
            refused_types.append(pet.type)
            reasons.append(f"Doesn't take {pet.get_type_display().lower()}s")
    if pets:
        needed = max(CrateSize.for_pet(pet) for pet in pets)
        if needed > profile.max_crate_size:
            reasons.append(f"Crate too big: needs {needed.short}, takes up to {profile.crate_size.short}")
    return reasons


def works_through(profile: DriverProfile, start, end) -> bool:
    """Whether the driver works through [start, end) (their hours and days off, see fleet.hours).
    Uses `profile.working_hours` / `profile.time_off` (prefetched by `candidates`)."""
    first, last = days_around(start, end)
    spans = working_time(profile.working_hours.all(), profile.time_off.all(), first, last)
    return spans.covers(start, end)


@dataclass(frozen=True)
class Stretch:
    """The time a driver taking a ride gives, and who may take it. A wait-and-return is one
    driver's from the ride out's pickup to the end of the return (the driver waiting brings
    the pets back): its ride out asks for the whole stretch, and its return goes only to the
    ride out's driver (`only_driver_id`; None while the ride out has none: nobody yet)."""

    starts_at: datetime
    ends_at: datetime
    rides: tuple[int, ...]  # the rides in it (not clashes with each other)
    follows_outbound: bool = False
    only_driver_id: int | None = None


NOT_STARTED = [RideStatus.PENDING_PAYMENT, RideStatus.CONFIRMED, RideStatus.ASSIGNED]


def stretch_of(ride: Ride) -> Stretch:
    """Read once per ride instance (one query for a wait-and-return's leg, none otherwise)."""
    cached = getattr(ride, "_stretch", None)
    if cached is not None:
        return cached
    stretch = Stretch(ride.scheduled_at, ride.ends_at, (ride.pk,))
    if ride.trip == Trip.WAIT_RETURN and ride.is_return_leg:
        outbound = Ride.objects.filter(pk=ride.outbound_id).values("driver_id", "status").first()
        held = outbound and outbound["status"] in LOAD_STATUSES
        stretch = replace(
            stretch, follows_outbound=True, only_driver_id=held and outbound["driver_id"] or None
        )
    elif ride.trip == Trip.WAIT_RETURN:
        back = (
            Ride.objects.filter(outbound_id=ride.pk, status__in=NOT_STARTED).values("pk", "ends_at").first()
        )
        if back:
            stretch = replace(stretch, ends_at=back["ends_at"], rides=(ride.pk, back["pk"]))
    ride._stretch = stretch
    return stretch


def exclusion_reasons(profile: DriverProfile, ride: Ride, *, busy: bool, keeping: bool = False) -> list[str]:
    """Every reason `profile`'s driver can't take `ride` (empty: eligible).
    `busy`: whether they hold another ride overlapping the time it takes (`stretch_of`).
    `keeping`: the driver holds `ride` and it moves (`driver_keeps`): holding it is no reason,
    and nor is duty, which says whether they take new rides now, not at the new time."""
    stretch = stretch_of(ride)
    reasons = []
    if not profile.user.is_active:
        reasons.append("Account deactivated")
    if ride.driver_id == profile.user_id and not keeping:
        reasons.append("Has this ride now")
    if stretch.follows_outbound and stretch.only_driver_id != profile.user_id:
        reasons.append("Not the driver waiting there: the ride out's driver brings the pets back")
    if not profile.on_duty and not keeping:
        reasons.append("Off duty")
    if not works_through(profile, stretch.starts_at, stretch.ends_at):
        reasons.append("Not working then (hours or day off)")
    reasons += vehicle_fit_reasons(profile, ride.party_pets)
    if busy:
        reasons.append("Has another ride in this time window")
    return reasons


def driver_keeps(*, ride: Ride, starts_at, ends_at, exclude_ride_ids=()) -> bool:
    """Whether `ride`'s driver is still eligible for it moved to [starts_at, ends_at): the
    checks dispatch makes, on the moved window, where the rides moving with it don't clash."""
    profile = (
        DriverProfile.objects.select_related("user")
        .prefetch_related(*hours_prefetch(starts_at, ends_at))
        .filter(user_id=ride.driver_id)
        .first()
    )
    if profile is None:
        return False
    moved = copy(ride)
    moved.__dict__.pop("_stretch", None)
    moved.scheduled_at, moved.ends_at = starts_at, ends_at
    stretch = stretch_of(moved)  # who may take it (a wait-and-return's return: its ride out's driver)
    moved._stretch = replace(
        stretch, starts_at=starts_at, ends_at=ends_at, rides=tuple({*stretch.rides, *exclude_ride_ids})
    )
    busy = clashing_rides(moved).filter(driver_id=ride.driver_id).exists()
    return not exclusion_reasons(profile, moved, busy=busy, keeping=True)


def hours_prefetch(start, end) -> list[Prefetch]:
    """Working hours and the days off near [start, end), to prefetch on DriverProfiles."""
    first, last = days_around(start, end)
    return [
        Prefetch("working_hours"),
        Prefetch("time_off", queryset=TimeOff.objects.filter(starts_on__lte=last, ends_on__gte=first)),
    ]


def clashing_rides(ride: Ride) -> QuerySet[Ride]:
    """Rides a driver holds overlapping the time `ride` takes (`stretch_of`; filter by driver)."""
    stretch = stretch_of(ride)
    return Ride.objects.filter(
        status__in=DRIVER_HELD_STATUSES,
        scheduled_at__lt=stretch.ends_at,
        ends_at__gt=stretch.starts_at,
    ).exclude(pk__in=stretch.rides)


def rides_on_day(day_start: datetime, day_end: datetime, *, exclude_ride: Ride | None = None):
    """Annotation: how many rides the driver (OuterRef "user_id") holds or drove that day."""
    rides = Ride.objects.filter(
        driver=OuterRef("user_id"),
        status__in=LOAD_STATUSES,
        scheduled_at__gte=day_start,
        scheduled_at__lt=day_end,
    )
    if exclude_ride is not None:
        rides = rides.exclude(pk=exclude_ride.pk)
    count = rides.order_by().values("driver").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(count, output_field=IntegerField()), Value(0))


def candidates(ride: Ride) -> list[Candidate]:
    """Every driver with a vehicle, eligible ones first and best first (one query)."""
    profiles = (
        DriverProfile.objects.filter(user__role=User.Role.DRIVER)
        .select_related("user")
        .prefetch_related(*hours_prefetch(stretch_of(ride).starts_at, stretch_of(ride).ends_at))
        .annotate(
            busy=Exists(clashing_rides(ride).filter(driver=OuterRef("user_id"))),
            rides_that_day=rides_on_day(*operations_day(ride.scheduled_at), exclude_ride=ride),
        )
    )
    declined = set(
        RideEvent.objects.filter(ride_id=ride.pk, action="decline", actor__isnull=False).values_list(
            "actor_id", flat=True
        )
    )
    pickup = Point(ride.pickup_lat, ride.pickup_lng)
    other_leg_driver = other_leg_driver_id(ride)
    found = [
        Candidate(
            profile=profile,
            reasons=tuple(exclusion_reasons(profile, ride, busy=profile.busy)),
            distance_miles=(
                round(straight_line_miles(Point(profile.last_lat, profile.last_lng), pickup), 1)
                if profile.has_position
                else None
            ),
            rides_that_day=profile.rides_that_day,
            declined=profile.user_id in declined,
            drives_other_leg=other_leg_driver is not None and profile.user_id == other_leg_driver,
        )
        for profile in profiles
    ]
    return sorted(found, key=Candidate.rank_key)


def other_leg_driver_id(ride: Ride) -> int | None:
    """The driver holding the other ride of `ride`'s round trip, if any."""
    if not ride.is_trip_leg:
        return None
    legs = Ride.objects.filter(status__in=LOAD_STATUSES)
    legs = legs.filter(pk=ride.outbound_id) if ride.is_return_leg else legs.filter(outbound_id=ride.pk)
    return legs.values_list("driver_id", flat=True).first()


def eligible_candidates(ride: Ride) -> list[Candidate]:
    return [c for c in candidates(ride) if c.eligible]
