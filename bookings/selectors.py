"""Reads for pets, saved places and rides. Customer queries start from the user, so another
customer's rows are unreachable (they 404)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from bookings import availability
from bookings.filters import CustomerRideFilterSet, OpsRideFilterSet
from bookings.geocoding import AddressNotFound, get_geocoder, road_miles
from bookings.lifecycle import telling
from bookings.models import OPEN_STATUSES, Audience, Pet, Place, Ride, RideEvent, RideStatus
from bookings.pricing import estimated_end
from bookings.services import pickup_time_errors
from core.dates import day_bounds, operations_zone
from core.errors import DomainError
from core.filters import MAX_ID


def customer_pets(user) -> QuerySet[Pet]:
    """The customer's pets that can still be booked (archived ones keep only their history)."""
    return Pet.objects.filter(owner=user).active()


def customer_pets_listed(user) -> QuerySet[Pet]:
    """The customer's pets for their list, each with `open_rides`: while it has any, the pet
    can't be deleted (services.pet_delete), and the list says so before Delete is pressed."""
    return customer_pets(user).annotate(
        open_rides=Count("rides", filter=Q(rides__status__in=OPEN_STATUSES), distinct=True)
    )


def pet_open_rides(pet: Pet) -> QuerySet[Ride]:
    """The rides that keep `pet` from being deleted, soonest first."""
    return pet.rides.filter(status__in=OPEN_STATUSES).order_by("scheduled_at", "id")


def customer_pet(user, pk) -> Pet:
    """One of the customer's bookable pets; anyone else's is a 404."""
    return get_object_or_404(customer_pets(user), pk=pk)


def customer_places(user) -> QuerySet[Place]:
    """The customer's saved places, by label."""
    return Place.objects.filter(owner=user)


def customer_place(user, pk) -> Place:
    """One of the customer's saved places; anyone else's is a 404."""
    return get_object_or_404(customer_places(user), pk=pk)


def customer_recent_addresses(user, *, rides: int = 5) -> list[str]:
    """The distinct pickup and drop-off addresses of the customer's last `rides` bookings,
    most recent first (one query)."""
    recent = Ride.objects.for_customer(user).order_by("-created_at", "-id")
    seen: dict[str, str] = {}
    for pickup, dropoff in recent.values_list("pickup_address", "dropoff_address")[:rides]:
        for address in (pickup, dropoff):
            seen.setdefault(" ".join(address.lower().split()), address)
    return list(seen.values())


@dataclass(frozen=True)
class RebookDraft:
    """What "Book again" fills the booking form (and the API's draft) with."""

    pets: list[Pet]  # the ride's pets that can still be booked (a removed pet is left out)
    pickup_address: str
    dropoff_address: str
    scheduled_at: datetime
    notes: str

    def as_booking_fields(self) -> dict:
        """The booking form's (and POST /bookings') fields, pets as ids."""
        return {
            "pets": [pet.pk for pet in self.pets],
            "pickup_address": self.pickup_address,
            "dropoff_address": self.dropoff_address,
            "scheduled_at": self.scheduled_at,
            "notes": self.notes,
        }


def next_pickup_like(moment: datetime, *, tz, now: datetime | None = None) -> datetime:
    """The same local time of day as `moment` (in `tz`), on the first day from today on which
    that time is at least BOOKING_MIN_NOTICE away: today if there is time, else tomorrow."""
    now = now or timezone.now()
    local = timezone.localtime(moment, tz)
    day = timezone.localtime(now, tz).date()
    while True:
        candidate = timezone.make_aware(datetime.combine(day, time(local.hour, local.minute)), tz)
        if candidate >= now + settings.BOOKING_MIN_NOTICE:
            return candidate
        day += timedelta(days=1)


def rebook_draft(ride: Ride, *, now: datetime | None = None) -> RebookDraft:
    """A new booking like `ride` (one of the reader's, see `customer_ride`): the same pets (those
    still bookable), addresses and notes, at the same local time on the next day it can be."""
    return RebookDraft(
        pets=[pet for pet in ride.party_pets if pet.archived_at is None],
        pickup_address=ride.pickup_address,
        dropoff_address=ride.dropoff_address,
        scheduled_at=next_pickup_like(ride.scheduled_at, tz=ride.customer.tzinfo, now=now),
        notes=ride.notes,
    )


def customer_rides(*, customer, filters: Mapping | None = None, tz=None) -> QuerySet[Ride]:
    """The customer's rides, narrowed by CustomerRideFilterSet (every ride without a `status`);
    days are read in `tz` (default: the active zone)."""
    rides = Ride.objects.for_customer(customer).select_related("driver", "return_leg").with_party()
    # Upcoming reads soonest first; history reads newest first (the model's order).
    if filters and filters.get("status") == "upcoming":
        rides = rides.order_by("scheduled_at", "id")
    return CustomerRideFilterSet(filters, queryset=rides, tz=tz).qs


def customer_ride(user, pk) -> Ride:
    return get_object_or_404(
        Ride.objects.for_customer(user).select_related("driver", "return_leg").with_party(), pk=pk
    )


# A ride's way from booking to delivery, as the customer's progress bar shows it.
PROGRESS = [
    (RideStatus.CONFIRMED, "Booked"),
    (RideStatus.ASSIGNED, "Driver assigned"),
    (RideStatus.EN_ROUTE, "On the way"),
    (RideStatus.PICKED_UP, "Picked up"),
    (RideStatus.COMPLETED, "Delivered"),
]


def ride_progress(ride: Ride) -> list[tuple[str, str]]:
    """(label, "done" | "current" | "todo") for each step; empty for a ride that will not get
    there (unpaid, cancelled, no-show)."""
    order = [status for status, _label in PROGRESS]
    if ride.status not in order:
        return []
    reached = order.index(ride.status)
    delivered = ride.status == RideStatus.COMPLETED

    def state(i: int) -> str:
        if i < reached or delivered:
            return "done"
        return "current" if i == reached else "todo"

    return [(label, state(i)) for i, (_status, label) in enumerate(PROGRESS)]


def other_leg(ride: Ride) -> Ride | None:
    """A round trip's other ride: an outbound's return, a return's outbound (bookings.trips)."""
    if not ride.is_trip_leg:
        return None
    legs = Ride.objects.select_related("driver").with_party()
    if ride.is_return_leg:
        return legs.filter(pk=ride.outbound_id).first()
    return legs.filter(outbound_id=ride.pk).first()


# --- Timelines: one per reader ---------------------------------------------------------

# Who a reader other than operations is told acted: never an admin's or another driver's name.
WE = "Whiskers & Wheels"


@dataclass(frozen=True)
class TimelineEntry:
    """One event as its reader reads it (the template and the API show these, never the row)."""

    id: int
    at: datetime
    action: str
    title: str
    note: str
    by: str
    from_status: str
    to_status: str
    has_photo: bool


def _events(ride: Ride) -> QuerySet[RideEvent]:
    return ride.events.select_related("actor").order_by("created_at", "id")


def _entry(event: RideEvent, *, title: str, note: str, by: str) -> TimelineEntry:
    return TimelineEntry(
        id=event.pk,
        at=event.created_at,
        action=event.action,
        title=title,
        note=note,
        by=by,
        from_status=event.from_status,
        to_status=event.to_status,
        has_photo=bool(event.photo),
    )


def _title(event: RideEvent, audience: Audience) -> str:
    """The reader's title for the event (bookings.lifecycle); an event written for them
    without one reads as operations' title."""
    told = telling(event.action, audience)
    return told.title if told else event.title


def _told_as_ours(event: RideEvent, audience: Audience) -> bool:
    told = telling(event.action, audience)
    return told is not None and told.by_us


def ops_timeline(ride: Ride) -> list[TimelineEntry]:
    """Every event as written: operations' title, the note, who acted."""
    return [
        _entry(event, title=event.title, note=event.note, by=event.actor.name if event.actor else WE)
        for event in _events(ride)
    ]


def customer_timeline(ride: Ride) -> list[TimelineEntry]:
    """The events meant for the ride's customer, in their words: no flags, no dispatch details,
    no reasons but their own, and no one's name (their current driver is on the driver panel)."""

    def by(event):
        if _told_as_ours(event, Audience.CUSTOMER):
            return WE
        if event.actor_id and event.actor_id == ride.customer_id:
            return "You"
        if event.actor and event.actor.is_driver:
            return "Your driver"
        return WE

    return [
        _entry(event, title=_title(event, Audience.CUSTOMER), note=event.customer_note, by=by(event))
        for event in _events(ride).filter(for_customer=True)
    ]


def _driver_events(ride: Ride, driver) -> QuerySet[RideEvent]:
    """The events meant for `driver` on a ride they hold, from the move that gave it to them:
    never what happened under an earlier driver (their decline, their note)."""
    if driver is None or ride.driver_id != driver.pk:
        return RideEvent.objects.none()
    events = _events(ride).filter(for_driver=True)
    given = ride.events.filter(action__in=["assign", "reassign"]).order_by("-created_at", "-id").first()
    if given is not None:
        events = events.filter(
            Q(created_at__gt=given.created_at) | Q(created_at=given.created_at, id__gte=given.pk)
        )
    return events


def driver_timeline(ride: Ride, driver) -> list[TimelineEntry]:
    """The events of `driver`'s time on the ride, in their words; empty if it isn't theirs."""

    def by(event):
        if _told_as_ours(event, Audience.DRIVER):
            return WE
        if event.actor_id == driver.pk:
            return "You"
        if event.actor_id and event.actor_id == ride.customer_id:
            return "The owner"
        return WE

    return [
        _entry(event, title=_title(event, Audience.DRIVER), note=event.driver_note, by=by(event))
        for event in _driver_events(ride, driver)
    ]


def ride_timeline(ride: Ride, *, audience: Audience, reader=None) -> list[TimelineEntry]:
    """The ride's timeline for one audience (`reader`: the driver, for the driver's)."""
    if audience == Audience.OPERATIONS:
        return ops_timeline(ride)
    if audience == Audience.CUSTOMER:
        return customer_timeline(ride)
    if audience == Audience.DRIVER:
        return driver_timeline(ride, reader)
    raise ValueError(f"No timeline for {audience!r}.")


def ride_photo_event(user, pk) -> RideEvent:
    """A handover photo, for whoever reads its event on their timeline: operations, the ride's
    customer, or the driver who holds the ride now (else 404)."""
    event = get_object_or_404(RideEvent.objects.exclude(photo="").select_related("ride"), pk=pk)
    ride = event.ride
    if user.is_admin:
        return event
    if user.is_customer and ride.customer_id == user.pk and event.for_customer:
        return event
    if user.is_driver and _driver_events(ride, user).filter(pk=event.pk).exists():
        return event
    raise Http404("No such photo.")


def ops_rides(*, filters: Mapping | None = None, tz=None) -> QuerySet[Ride]:
    """Every ride, soonest first, narrowed by OpsRideFilterSet; days are operations days
    (core.dates.operations_zone) unless `tz` says otherwise."""
    rides = Ride.objects.with_list_relations().order_by("scheduled_at", "id")
    return OpsRideFilterSet(filters, queryset=rides, tz=tz or operations_zone()).qs


def cancellation_fee_cents(ride: Ride) -> int:
    """The fee decided when the ride was cancelled (`services.ride_cancel`); 0 if it wasn't."""
    event = ride.events.filter(action="cancel").order_by("created_at", "id").last()
    return (event.data.get("fee_cents") or 0) if event else 0


# --- Availability: when the fleet can take a party of pets (bookings.availability) ------


@dataclass(frozen=True)
class DayAvailability:
    window: timedelta  # how long a ride takes a driver, pickup to free again
    slots: list[datetime]  # servable pickup times that day
    requested: availability.Answer | None  # the answer for one asked-about time


def availability_day(
    *, customer, day, pet_ids: str, pickup_address: str, dropoff_address: str | None = None, at=None, now=None
) -> DayAvailability:
    """The servable pickup times of `day` (the customer's zone) for the customer's pets `pet_ids`
    ("1,2") from `pickup_address`. With a drop-off the window is the ride's real one; without,
    the shortest ride's (so a longer ride may find fewer times). DomainError (400) per bad field."""

    from bookings import availability

    now = now or timezone.now()
    tz = customer.tzinfo
    errors: dict[str, list[str]] = {}
    try:
        ids = {int(part) for part in pet_ids.split(",") if part.strip()}
    except ValueError:
        ids = set()
    if not all(1 <= pk <= MAX_ID for pk in ids) or (pet_ids.strip() and not ids):
        ids = set()
        errors["pets"] = ["List your pets' ids separated by commas, e.g. 1,2."]
    pets = list(customer_pets(customer).filter(pk__in=ids)) if ids else []
    if "pets" not in errors and (not ids or len(pets) != len(ids)):
        errors["pets"] = ["Choose one or more of your pets."]
    points = {}
    for field, address in (("pickup", pickup_address), ("dropoff", dropoff_address)):
        if address is None:
            continue
        if not address.strip():
            errors[field] = ["Enter an address."]
            continue
        try:
            points[field] = get_geocoder().geocode(address)
        except AddressNotFound as exc:
            errors[field] = [str(exc)]
    # The horizon first: a day far off (year 9999) has no local midnight to compute.
    today = timezone.localtime(now, tz).date()
    if not today <= day <= (now + settings.BOOKING_HORIZON).date():
        errors["date"] = [f"Choose a day from today up to {settings.BOOKING_HORIZON.days} days ahead."]
    else:
        first, last = day_bounds(day, tz)
        if last <= now + settings.BOOKING_MIN_NOTICE:
            errors["date"] = [f"Choose a day from today up to {settings.BOOKING_HORIZON.days} days ahead."]
    # `at` obeys the booking form's rules (past, notice, horizon) before any arithmetic on it.
    if at is not None and (at_errors := pickup_time_errors(at, now)):
        errors["at"] = at_errors
    if errors:
        raise DomainError("Please correct the fields listed in errors.", errors=errors)
    miles = road_miles(points["pickup"], points["dropoff"]) if "dropoff" in points else 0
    window = estimated_end(first, miles) - first
    slots = availability.servable_starts(
        pets=pets, pickup=points["pickup"], first=first, last=last, duration=window, now=now
    )
    requested = None
    if at is not None:
        requested = availability.check(
            pets=pets, pickup=points["pickup"], starts_at=at, ends_at=at + window, now=now, tz=tz
        )
    return DayAvailability(window=window, slots=slots, requested=requested)
