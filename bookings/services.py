"""Writes for pets, saved places and rides. Every ride move goes through `_apply_move`:
lock the row, check the move table, change, write a ride event, and announce
the move after commit. Views and the API call these; nothing else writes.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings import availability
from bookings.geocoding import AddressNotFound, Point, get_geocoder, road_miles, straight_line_miles
from bookings.lifecycle import MOVES, Actor, actor_for, audience_fields
from bookings.models import (
    ENDED_STATUSES,
    OPEN_STATUSES,
    UPCOMING_STATUSES,
    Pet,
    Place,
    Ride,
    RideEvent,
    RidePet,
    RideStatus,
    Trip,
)
from bookings.photos import clean_ride_photo
from bookings.pricing import Quote, cancellation_terms, estimated_end, quote_ride
from bookings.signals import ride_moved, ride_payment_secured
from core.errors import DomainError, required_reason
from core.ratelimit import rate_limit

# --- Pets ------------------------------------------------------------------

# What a customer says about a pet (PetForm's fields); the owner and archiving are ours.
PET_FIELDS = ["name", "type", "breed", "age_years", "weight_lb", "special_needs", "crate_required"]


def _must_own(pet: Pet, by) -> None:
    if pet.owner_id != by.pk:
        raise DomainError("Only the pet's owner may change or remove it.", code="not_allowed")


def _validated(pet: Pet, data: Mapping, fields: list[str]) -> None:
    """Put `data`'s values for `fields` on `pet` and check the pet's rules (a DomainError with
    each problem beside its field)."""
    for name in fields:
        setattr(pet, name, data[name])
    try:
        pet.full_clean(exclude=["owner"])  # the owner is the caller, not input
    except ValidationError as exc:
        raise DomainError("Please correct the pet's details.", errors=exc.message_dict) from exc


def pet_create(*, owner, data: Mapping) -> Pet:
    """A new pet for `owner` (a customer) from `data`'s PET_FIELDS; missing ones take their
    defaults."""
    if not owner.is_customer:
        raise DomainError("Only customers have pets.", code="not_allowed")
    pet = Pet(owner=owner)
    _validated(pet, data, [name for name in PET_FIELDS if name in data])
    pet.save()
    return pet


def pet_update(*, pet: Pet, by, data: Mapping) -> Pet:
    """Change the PET_FIELDS that `data` holds. Only the owner may."""
    _must_own(pet, by)
    changed = [name for name in PET_FIELDS if name in data]
    _validated(pet, data, changed)
    pet.save(update_fields=[*changed, "updated_at"])
    return pet


def pet_delete(*, pet: Pet, by) -> str:
    """Remove a pet from its owner's pets: deleted, or archived if it has ride history (the
    rides keep their pet). Refused while it has open rides. Returns "deleted"/"archived"."""
    _must_own(pet, by)
    with transaction.atomic():
        if pet.rides.filter(status__in=OPEN_STATUSES).exists():
            raise DomainError(
                f"{pet.name} has upcoming rides. Cancel them first, then delete {pet.name}.", code="conflict"
            )
        if pet.rides.exists():
            pet.archived_at = timezone.now()
            pet.save(update_fields=["archived_at", "updated_at"])
            return "archived"
        pet.delete()
        return "deleted"


# --- Saved places ------------------------------------------------------------

# What a customer says about a place (PlaceForm's fields); the owner and coordinates are ours.
PLACE_FIELDS = ["label", "kind", "address", "notes"]


def _must_own_place(place: Place, by) -> None:
    if place.owner_id != by.pk:
        raise DomainError("Only the place's owner may change or remove it.", code="not_allowed")


def _label_taken(label: str) -> str:
    return f"You already have a place called “{label}”. Choose another name."


def _place_validated(place: Place, data: Mapping, fields: list[str]) -> None:
    """Put `data`'s values for `fields` on `place`, check its rules and geocode its address the
    way a ride's addresses are (a DomainError with each problem beside its field)."""
    for name in fields:
        value = data[name]
        setattr(place, name, value.strip() if isinstance(value, str) else value)
    errors: dict[str, list[str]] = {}
    try:
        place.full_clean(exclude=["owner", "lat", "lng"])  # the owner is the caller; we geocode
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if "label" not in errors and (
        Place.objects.filter(owner_id=place.owner_id, label__iexact=place.label).exclude(pk=place.pk).exists()
    ):
        errors["label"] = [_label_taken(place.label)]
    if "address" not in errors and "address" in fields:
        try:
            point = get_geocoder().geocode(place.address)
        except AddressNotFound as exc:
            errors["address"] = [str(exc)]
        else:
            place.lat, place.lng = point.lat, point.lng
    if errors:
        raise DomainError("Please correct the place's details.", errors=errors)


def _saved(place: Place, **save_kwargs) -> Place:
    """Save, turning a label taken meanwhile (the unique constraint) into the field error."""
    try:
        with transaction.atomic():
            place.save(**save_kwargs)
    except IntegrityError as exc:
        raise DomainError(
            "Please correct the place's details.", errors={"label": [_label_taken(place.label)]}
        ) from exc
    return place


def place_create(*, owner, data: Mapping) -> Place:
    """A new saved place for `owner` (a customer) from `data`'s PLACE_FIELDS. Refused past
    PLACES_PER_CUSTOMER places (code "conflict")."""
    if not owner.is_customer:
        raise DomainError("Only customers have saved places.", code="not_allowed")
    with transaction.atomic():
        # One customer's places are counted one request at a time (the owner's row is the lock).
        get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
        limit = settings.PLACES_PER_CUSTOMER
        if Place.objects.filter(owner=owner).count() >= limit:
            raise DomainError(
                f"You can keep up to {limit} saved places. Delete one you no longer use, then add this one.",
                code="conflict",
            )
        place = Place(owner=owner)
        _place_validated(place, data, [name for name in PLACE_FIELDS if name in data])
        return _saved(place)


def place_update(*, place: Place, by, data: Mapping) -> Place:
    """Change the PLACE_FIELDS that `data` holds (a new address is geocoded again). Only the
    owner may. Rides already booked keep the address and notes they were booked with."""
    _must_own_place(place, by)
    changed = [name for name in PLACE_FIELDS if name in data]
    _place_validated(place, data, changed)
    extra = ["lat", "lng"] if "address" in changed else []
    return _saved(place, update_fields=[*changed, *extra, "updated_at"])


def place_delete(*, place: Place, by) -> None:
    """Remove a saved place. Rides booked from it keep their copy of its address and notes."""
    _must_own_place(place, by)
    place.delete()


# --- Planning a ride: the rules every booking and reschedule obey ------------


@dataclass(frozen=True)
class RidePlan:
    pets: list[Pet]  # the party, in the order booked
    pickup_address: str
    pickup: Point
    dropoff_address: str
    dropoff: Point
    scheduled_at: datetime
    distance_miles: Decimal
    quote: Quote
    # Wait-and-return's outbound: the driver waits this long at the drop-off (bookings.trips).
    wait_minutes: int = 0

    @property
    def ends_at(self) -> datetime:
        return estimated_end(self.scheduled_at, self.distance_miles, self.wait_minutes)


def _normalised(address: str) -> str:
    return " ".join(address.lower().replace(",", " ").replace(".", " ").split())


def same_address(a: str, b: str) -> bool:
    """Whether two addresses read the same (case, commas, full stops and spacing aside)."""
    return _normalised(a or "") == _normalised(b or "")


def pickup_time_errors(scheduled_at: datetime | None, now: datetime) -> list[str]:
    if scheduled_at is None:
        return ["Choose a pickup date and time."]
    if scheduled_at <= now:
        return ["That time has already passed."]
    notice = settings.BOOKING_MIN_NOTICE
    if scheduled_at < now + notice:
        return [f"Book at least {int(notice.total_seconds() // 60)} minutes ahead so we can find a driver."]
    if scheduled_at > now + settings.BOOKING_HORIZON:
        return [f"We take bookings up to {settings.BOOKING_HORIZON.days} days ahead."]
    return []


def party_errors(customer, pets: list[Pet]) -> list[str]:
    """What is wrong with a ride's party: none chosen, someone else's or a removed pet, the same
    pet twice, more pets than one ride takes. (Whether a vehicle fits it is dispatch's word.)"""
    if not pets:
        return ["Choose at least one of your pets."]
    if any(pet is None or pet.owner_id != customer.pk or pet.archived_at is not None for pet in pets):
        return ["Choose among your own pets."]
    if len({pet.pk for pet in pets}) != len(pets):
        return ["Each pet can only be chosen once."]
    if len(pets) > settings.BOOKING_MAX_PETS:
        return [f"One ride takes up to {settings.BOOKING_MAX_PETS} pets. Book another ride for the others."]
    return []


def outside_service_area(point: Point) -> str | None:
    """Why we can't drive to or from `point`, or None when it is inside the service area."""
    lat, lng = settings.SERVICE_AREA_CENTER
    radius = settings.SERVICE_AREA_RADIUS_MILES
    if straight_line_miles(Point(Decimal(str(lat)), Decimal(str(lng))), point) <= radius:
        return None
    return f"We don't drive there yet: we serve within {radius} miles of {settings.SERVICE_AREA_NAME}."


def too_far(distance_miles: Decimal) -> str | None:
    if distance_miles <= settings.BOOKING_MAX_MILES:
        return None
    return (
        f"This ride is about {distance_miles} miles: we take rides up to "
        f"{settings.BOOKING_MAX_MILES} miles. Choose a closer drop-off."
    )


def ride_plan(
    *,
    customer,
    pets: list[Pet],
    pickup_address: str,
    dropoff_address: str,
    scheduled_at: datetime | None,
    now: datetime | None = None,
    charge_wait_minutes: int = 0,
    timed: bool = True,
) -> RidePlan:
    """Check a requested ride and price it, or raise DomainError with every field's problem.
    `charge_wait_minutes`: a wait-and-return's return leg pays for the wait before it;
    `timed` False: an open return, whose time is not known (`pricing.surcharge_lines`)."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if pet_errors := party_errors(customer, pets):
        errors["pets"] = pet_errors
    if time_errors := pickup_time_errors(scheduled_at, now):
        errors["scheduled_at"] = time_errors
    points = {}
    for field, address in (("pickup_address", pickup_address), ("dropoff_address", dropoff_address)):
        if not (address or "").strip():
            errors[field] = ["Enter an address."]
            continue
        try:
            points[field] = get_geocoder().geocode(address)
        except AddressNotFound as exc:
            errors[field] = [str(exc)]
            continue
        if outside := outside_service_area(points[field]):
            errors[field] = [outside]
    if (pickup_address or "").strip() and same_address(pickup_address, dropoff_address):
        errors["dropoff_address"] = ["Drop-off must be a different address from pickup."]
    if errors:
        raise DomainError("Please correct the highlighted fields.", errors=errors)
    distance = road_miles(points["pickup_address"], points["dropoff_address"])
    if longest := too_far(distance):
        raise DomainError("Please correct the highlighted fields.", errors={"dropoff_address": [longest]})
    quote = quote_ride(
        pets=list(pets),
        distance_miles=distance,
        scheduled_at=scheduled_at,
        tz=customer.tzinfo,
        now=now,
        wait_minutes=charge_wait_minutes,
        timed=timed,
    )
    return RidePlan(
        pets=list(pets),
        pickup_address=pickup_address.strip(),
        pickup=points["pickup_address"],
        dropoff_address=dropoff_address.strip(),
        dropoff=points["dropoff_address"],
        scheduled_at=scheduled_at,
        distance_miles=distance,
        quote=quote,
    )


def _plan_fields(plan: RidePlan) -> dict:
    return {
        "pickup_address": plan.pickup_address,
        "pickup_lat": plan.pickup.lat,
        "pickup_lng": plan.pickup.lng,
        "dropoff_address": plan.dropoff_address,
        "dropoff_lat": plan.dropoff.lat,
        "dropoff_lng": plan.dropoff.lng,
        "distance_miles": plan.distance_miles,
        "scheduled_at": plan.scheduled_at,
        "ends_at": plan.ends_at,
        "price_cents": plan.quote.total_cents,
        "currency": plan.quote.currency,
        "quote": plan.quote.as_json(),
        "wait_minutes": plan.wait_minutes,
    }


# --- Ride moves -------------------------------------------------------------


def _announce(ride: Ride, event: RideEvent) -> None:
    payload = {
        "ride_id": ride.pk,
        "move": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "actor_id": event.actor_id,
        "event_id": event.pk,
    }
    # Inside the move's transaction: what receivers record (core.outbox) commits with the move.
    ride_moved.send(sender=Ride, **payload)


def _apply_move(
    *,
    ride: Ride,
    move: str,
    by,
    note: str = "",
    photo=None,
    data: dict | Callable[[Ride], dict] | None = None,
    changes: dict | Callable[[Ride], dict] | None = None,
    check: Callable[[Ride], None] | None = None,
) -> Ride:
    """Lock the ride, check the move is allowed for `by` now, apply it, record it."""
    spec = MOVES[move]
    with transaction.atomic():
        locked = Ride.objects.select_for_update().get(pk=ride.pk)
        acting_as = actor_for(locked, by)
        if acting_as not in spec.actors:
            raise DomainError(f"You can't {spec.label.lower()} on this ride.", code="not_allowed")
        if locked.status not in spec.sources:
            raise DomainError(
                f"This ride is {locked.get_status_display().lower()}: “{spec.label}” is not possible now.",
                code="illegal_move",
            )
        if refusal := spec.refusal(locked):
            raise DomainError(refusal, code="illegal_move")
        if check:
            check(locked)
        event_data = data(locked) if callable(data) else dict(data or {})
        from_status = locked.status
        locked.status = spec.target_from(from_status)
        updates = changes(locked) if callable(changes) else dict(changes or {})
        if "status" in updates:  # the move's fallback, and only that (the table says so)
            if updates["status"] != (spec.fallbacks or {}).get(from_status):
                raise ValueError(f"{move} can't take a ride from {from_status} to {updates['status']}")
            locked.status = updates.pop("status")
        if locked.status in ENDED_STATUSES:
            updates["ended_at"] = timezone.now()
        for name, value in updates.items():
            setattr(locked, name, value)
        locked.save(update_fields=["status", "updated_at", *updates])
        event = RideEvent.objects.create(
            ride=locked,
            actor=by,
            action=move,
            from_status=from_status,
            to_status=locked.status,
            note=note.strip(),
            photo=photo or "",
            data=event_data,
            **audience_fields(move, by=acting_as, note=note),
        )
        _announce(locked, event)
    return locked


def count_booking(*, customer, client_ip: str) -> None:
    """Bookings per customer and per IP address: an unpaid booking holds a driver's slot
    until it lapses, so an unlimited stream of them would empty the calendar."""
    too_many = "You have made too many bookings in a short time."
    rate_limit(
        scope="booking-user", key=str(customer.pk), rates=settings.BOOKING_RATE_PER_USER, message=too_many
    )
    rate_limit(
        scope="booking-ip",
        key=client_ip,
        rates=settings.BOOKING_RATE_PER_IP,
        message="Too many bookings were made from your network in a short time.",
    )


def party_record(*, ride: Ride, pets: list[Pet]) -> None:
    """Write a new ride's party, in order, each pet crated as its profile says today."""
    RidePet.objects.bulk_create(
        RidePet(ride=ride, pet=pet, crated=pet.crate_required, position=index)
        for index, pet in enumerate(pets)
    )


# --- Availability: can the fleet serve the ride then? (bookings.availability) ------


class Unavailable(DomainError):
    """No driver can serve the requested time. `suggestions`: the nearest servable pickup times."""

    def __init__(self, message: str, *, suggestions: tuple[datetime, ...], errors: dict):
        super().__init__(message, code="conflict", errors=errors)
        self.suggestions = suggestions


def format_pickup(moment: datetime, tz) -> str:
    return timezone.localtime(moment, tz).strftime("%a %-d %b, %-I:%M %p")


def ride_availability(
    *,
    plan: RidePlan,
    customer,
    now: datetime | None = None,
    exclude_ride_ids=(),
    suggest: bool = True,
    ends_at: datetime | None = None,
) -> availability.Answer:
    """`ends_at`: the end of the window one driver must be free for, when it is longer than the
    ride's own (a wait-and-return's two legs, bookings.trips)."""
    return availability.check(
        pets=plan.pets,
        pickup=plan.pickup,
        starts_at=plan.scheduled_at,
        ends_at=ends_at or plan.ends_at,
        now=now,
        exclude_ride_ids=exclude_ride_ids,
        suggest=suggest,
        tz=customer.tzinfo,
    )


def unavailable_error(
    answer: availability.Answer, tz, *, field: str = "scheduled_at", what: str = "pickup"
) -> Unavailable:
    message = f"No driver is free for that {what} time."
    if answer.suggestions:
        message += " Try " + ", ".join(format_pickup(t, tz) for t in answer.suggestions) + "."
    else:
        message += " Please choose another day."
    return Unavailable(message, suggestions=answer.suggestions, errors={field: [message]})


def must_be_servable(
    *, plan: RidePlan, customer, now=None, exclude_ride_ids=(), ends_at=None, field="scheduled_at"
) -> None:
    """Inside the booking's transaction: take the day's booking lock, then check the fleet can
    serve the window with what is committed now (so of two bookings racing for the last free
    driver, the second sees the first and gets the suggestions). `field`, `ends_at`: a round
    trip's return time, a wait-and-return's whole window (bookings.trips)."""
    ends_at = ends_at or plan.ends_at
    availability.lock_window(plan.scheduled_at, ends_at)
    answer = ride_availability(
        plan=plan, customer=customer, now=now, exclude_ride_ids=exclude_ride_ids, ends_at=ends_at
    )
    if not answer.servable:
        what = "return" if field == "return_at" else "pickup"
        raise unavailable_error(answer, customer.tzinfo, field=field, what=what)


def ride_book(
    *,
    customer,
    plan: RidePlan,
    notes: str = "",
    client_ip: str = "",
    pickup_notes: str = "",
    dropoff_notes: str = "",
) -> Ride:
    """Create a booking. It waits for payment (PAYMENT_STEP); billing confirms it once the card is held.
    Over a booking rate limit it raises DomainError(code="rate_limited") and writes nothing; at a
    time no driver can serve (`bookings.availability`, checked under the day's booking lock) it
    raises `Unavailable` (code "conflict", with suggested times) and writes nothing.
    `pickup_notes` / `dropoff_notes`: the driver's notes of the saved places it was booked from."""
    count_booking(customer=customer, client_ip=client_ip)
    with transaction.atomic():
        must_be_servable(plan=plan, customer=customer)
        return ride_create(
            customer=customer, plan=plan, notes=notes, pickup_notes=pickup_notes, dropoff_notes=dropoff_notes
        )


def ride_create(
    *, customer, plan: RidePlan, notes: str = "", pickup_notes: str = "", dropoff_notes: str = "", **fields
) -> Ride:
    """Inside the caller's transaction, once its checks passed: write a booked ride, its party and
    its "book" event. `fields`: a round trip's leg fields (bookings.trips)."""
    ride = Ride.objects.create(
        customer=customer,
        notes=notes.strip(),
        pickup_notes=pickup_notes.strip(),
        dropoff_notes=dropoff_notes.strip(),
        status=RideStatus.PENDING_PAYMENT,
        **_plan_fields(plan),
        **fields,
    )
    party_record(ride=ride, pets=plan.pets)
    event = RideEvent.objects.create(
        ride=ride,
        actor=customer,
        action="book",
        to_status=ride.status,
        data={"price_cents": ride.price_cents},
        **audience_fields("book", by=Actor.CUSTOMER),
    )
    _announce(ride, event)
    return ride


def ride_confirm(*, ride: Ride, by=None, note: str = "") -> Ride:
    """Payment is secured: the ride is on. Called by billing once the card is held."""
    return _apply_move(ride=ride, move="confirm", by=by, note=note or "Payment authorised.")


def ride_expire(*, ride: Ride) -> Ride:
    with transaction.atomic():
        ride = _apply_move(ride=ride, move="expire", by=None, note="Not paid in time; the slot is released.")
        if ride.is_return_leg and ride.trip == Trip.WAIT_RETURN:
            _end_the_wait(ride.outbound_id, by=None)
    return ride


def _must_be_driver(user) -> None:
    if user is None or not user.is_driver or not user.is_active:
        raise DomainError("Only an active driver can take a ride.", code="invalid")


def ride_assign(*, ride: Ride, driver, by, note: str = "") -> Ride:
    """Give a confirmed ride to a driver. Fleet checks eligibility and overlap before calling."""
    _must_be_driver(driver)
    return _apply_move(
        ride=ride,
        move="assign",
        by=by,
        note=note,
        changes={"driver": driver, "accepted_at": None, "attention": ""},
        data={"driver_id": driver.pk, "driver": driver.name},
    )


def ride_reassign(*, ride: Ride, driver, by, reason: str) -> Ride:
    _must_be_driver(driver)

    def check(locked):
        if locked.driver_id == driver.pk:
            raise DomainError(f"{driver.name} already has this ride.", code="conflict")

    return _apply_move(
        ride=ride,
        move="reassign",
        by=by,
        note=reason,
        check=check,
        changes={"driver": driver, "accepted_at": None},
        data={"driver_id": driver.pk, "driver": driver.name},
    )


def ride_unassign(*, ride: Ride, by, reason: str) -> Ride:
    with transaction.atomic():
        ride = _apply_move(
            ride=ride, move="unassign", by=by, note=reason, changes={"driver": None, "accepted_at": None}
        )
        _return_leaves_too(ride, by=by)
    return ride


def _return_leaves_too(outbound: Ride, *, by) -> None:
    """A wait-and-return's ride out lost its driver (declined, unassigned): so does its return,
    which only the driver waiting there can do. Both go back to dispatch together."""
    if outbound.trip != Trip.WAIT_RETURN or outbound.is_return_leg:
        return
    back = Ride.objects.filter(outbound_id=outbound.pk, status=RideStatus.ASSIGNED).first()
    if back is not None:
        note = "Follows the ride out, which lost its driver."
        _apply_move(
            ride=back, move="unassign", by=None, note=note, changes={"driver": None, "accepted_at": None}
        )


def ride_accept(*, ride: Ride, by) -> Ride:
    return _apply_move(ride=ride, move="accept", by=by, changes={"accepted_at": timezone.now()})


def ride_decline(*, ride: Ride, by, reason: str = "") -> Ride:
    with transaction.atomic():
        ride = _apply_move(
            ride=ride, move="decline", by=by, note=reason, changes={"driver": None, "accepted_at": None}
        )
        _return_leaves_too(ride, by=by)
    return ride


def ride_start(*, ride: Ride, by) -> Ride:
    """The driver sets off to the pickup (starting also accepts the ride)."""
    return _apply_move(
        ride=ride,
        move="start",
        by=by,
        changes=lambda locked: {"accepted_at": locked.accepted_at or timezone.now()},
    )


def _photo_required(photo, what: str):
    """The checked, re-encoded photo to store (see bookings.photos), before any row is locked."""
    if not photo:
        raise DomainError(f"Add a {what} photo.", code="invalid", errors={"photo": [f"Add a {what} photo."]})
    return clean_ride_photo(photo, what=what.replace("-", ""))


def ride_pickup(*, ride: Ride, by, photo, note: str = "") -> Ride:
    photo = _photo_required(photo, "pickup")
    return _apply_move(ride=ride, move="pickup", by=by, photo=photo, note=note)


def ride_complete(*, ride: Ride, by, photo=None, note: str = "") -> Ride:
    """Pet delivered. The driver must show the handover; an admin may close a ride without one."""
    if photo or by is None or not by.is_admin:
        photo = _photo_required(photo, "drop-off")
    return _apply_move(ride=ride, move="complete", by=by, photo=photo, note=note)


def ride_no_show(*, ride: Ride, by, reason: str) -> Ride:
    """The pet was not handed over. A round trip's return then has nothing to bring back: it is
    cancelled with it, free."""
    reason = required_reason(reason, "the pet was not handed over")
    with transaction.atomic():
        ride = _apply_move(ride=ride, move="no_show", by=by, note=reason)
        if (back := open_return_leg(ride)) is not None:
            _cancel_move(back, by=None, note="The pet was not collected for the ride out: no return.")
    return ride


def open_return_leg(ride: Ride) -> Ride | None:
    """A round trip's return leg, when `ride` is its outbound and the return has not started
    (one under way is the driver's and operations' to finish, not a cancel's)."""
    if ride.is_return_leg or not ride.is_trip_leg:
        return None
    return Ride.objects.filter(outbound_id=ride.pk, status__in=UPCOMING_STATUSES).first()


def _cancel_move(ride: Ride, *, by, note: str) -> Ride:
    actor = actor_for(ride, by)

    def data(locked):
        fee = cancellation_terms(ride=locked).fee_cents if actor == Actor.CUSTOMER else 0
        return {"cancelled_by": actor.value if actor else None, "fee_cents": fee}

    return _apply_move(ride=ride, move="cancel", by=by, note=note, data=data)


def ride_cancel(*, ride: Ride, by, reason: str = "") -> Ride:
    """Cancel before pickup. The fee is decided here, on the locked ride at the moment of
    cancelling, and recorded on the event (`fee_cents`, with `cancelled_by`): billing charges
    exactly that and the API answers with it. Operations never charge a fee.

    A round trip's outbound takes its return with it (each leg under its own terms); a return
    leg is cancelled alone, and a wait-and-return's outbound then no longer keeps its driver
    waiting (its window shrinks back)."""
    with transaction.atomic():
        cancelled = _cancel_move(ride, by=by, note=reason)
        if (back := open_return_leg(cancelled)) is not None:
            _cancel_move(back, by=by, note=reason or "Cancelled with the ride out.")
        elif cancelled.is_return_leg and cancelled.trip == Trip.WAIT_RETURN:
            _end_the_wait(cancelled.outbound_id, by=by)
    return cancelled


def _end_the_wait(outbound_id: int, *, by) -> None:
    outbound = Ride.objects.select_for_update().get(pk=outbound_id)
    if outbound.is_ended or not outbound.wait_minutes:
        return
    outbound.ends_at = estimated_end(outbound.scheduled_at, outbound.distance_miles)
    outbound.wait_minutes = 0
    outbound.save(update_fields=["ends_at", "wait_minutes", "updated_at"])
    RideEvent.objects.create(
        ride=outbound,
        actor=by,
        action="wait_cancelled",
        note="The return was cancelled: the driver no longer waits at the drop-off.",
        **audience_fields("wait_cancelled", by=actor_for(outbound, by)),
    )


def ride_reschedule(
    *,
    ride: Ride,
    by,
    scheduled_at: datetime,
    now: datetime | None = None,
    pickup_address: str | None = None,
    dropoff_address: str | None = None,
) -> Ride:
    """Move a ride to a new time, and/or new addresses (a one-way ride's): same rules as
    booking, before the cut-off, re-quoted. A stop whose address changes loses the saved
    place's notes it was booked with.

    An assigned ride keeps its driver when they are still eligible for the new window (fleet
    answers: `availability.driver_keeps`); otherwise it goes back to dispatch (the move's
    fallback, CONFIRMED). A wait-and-return moves as one: its ride out to the new time, its
    return to when the wait then ends, with one driver free for the whole stretch
    (bookings.trips); both keep the driver, or both go back to dispatch.
    """
    now = now or timezone.now()
    moves = plan_reschedule(
        ride=ride,
        scheduled_at=scheduled_at,
        now=now,
        pickup_address=pickup_address,
        dropoff_address=dropoff_address,
    )
    if len(moves) == 1:
        with transaction.atomic():
            moved = _reschedule(ride=ride, by=by, plan=moves[0][1], now=now)
            _open_return_follows(moved)
        return moved
    (_, plan), (back, back_plan) = moves
    with transaction.atomic():
        moved = _reschedule(
            ride=ride, by=by, plan=plan, now=now, servable_until=back_plan.ends_at, also_free=(back.pk,)
        )
        _reschedule(
            ride=back,
            by=by,
            plan=back_plan,
            now=now,
            check_fleet=False,
            keep_driver=moved.driver_id is not None,
        )
    return moved


def plan_reschedule(
    *, ride: Ride, scheduled_at: datetime, now=None, pickup_address=None, dropoff_address=None
) -> list[tuple[Ride, RidePlan]]:
    """Each ride a move of `ride` to `scheduled_at` (and new addresses, if given) moves, with
    its new plan (re-quoted): the ride; or a wait-and-return's ride out and its return, which
    starts when the wait ends. A round trip's legs keep their addresses: each one's stops are
    the other's, so changing them is a new booking."""
    pickup_address = ride.pickup_address if pickup_address is None else pickup_address
    dropoff_address = ride.dropoff_address if dropoff_address is None else dropoff_address
    moved_stops = {
        field: ["A round trip's two rides share their addresses: cancel and book again to change them."]
        for field, new, old in (
            ("pickup_address", pickup_address, ride.pickup_address),
            ("dropoff_address", dropoff_address, ride.dropoff_address),
        )
        if not same_address(new, old)
    }
    if moved_stops and ride.is_trip_leg:
        raise DomainError("Please correct the highlighted fields.", code="invalid", errors=moved_stops)
    plan = ride_plan(
        customer=ride.customer,
        pets=ride.party_pets,
        pickup_address=pickup_address,
        dropoff_address=dropoff_address,
        scheduled_at=scheduled_at,
        now=now,
    )
    if ride.trip != Trip.WAIT_RETURN:
        return [(ride, plan)]
    if ride.is_return_leg:
        raise DomainError(
            "The driver waits between the two rides of a wait-and-return: move the ride out, "
            "and the return follows it.",
            code="illegal_move",
        )
    back = open_return_leg(ride)
    if back is None:  # the return was cancelled: a one-way ride now
        return [(ride, plan)]
    plan = replace(plan, wait_minutes=ride.wait_minutes)
    back_plan = ride_plan(
        customer=ride.customer,
        pets=ride.party_pets,
        pickup_address=back.pickup_address,
        dropoff_address=back.dropoff_address,
        scheduled_at=plan.ends_at,
        now=now,
        charge_wait_minutes=ride.wait_minutes,
    )
    return [(ride, plan), (back, back_plan)]


def _reschedule(
    *,
    ride: Ride,
    by,
    plan: RidePlan,
    now: datetime,
    check_fleet: bool = True,
    servable_until: datetime | None = None,
    also_free=(),
    keep_driver: bool | None = None,
) -> Ride:
    """One ride's move to `plan`. Unless `check_fleet` is off (a wait-and-return's return,
    checked with its ride out), the fleet must serve it until `servable_until` (default: its
    own end), not counting the ride itself and `also_free`, rides moving with it. An assigned
    ride keeps its driver if they are eligible for that window (`keep_driver`: decided with
    the ride out)."""
    scheduled_at = plan.scheduled_at

    def check(locked):
        if locked.scheduled_at - now < settings.RESCHEDULE_CUTOFF:
            hours = int(settings.RESCHEDULE_CUTOFF.total_seconds() // 3600)
            raise DomainError(
                f"Rides can be moved up to {hours} hours before pickup. Please cancel instead, or call us.",
                code="illegal_move",
            )
        if locked.scheduled_at == scheduled_at and not stops_move(locked):
            raise DomainError(
                "That is the time the ride already has.",
                code="invalid",
                errors={"scheduled_at": ["Choose a different time."]},
            )
        if locked.trip != Trip.WAIT_RETURN:
            _check_legs_stay_in_order(locked, plan)
        if check_fleet:
            must_be_servable(
                plan=plan,
                customer=ride.customer,
                now=now,
                exclude_ride_ids=(ride.pk, *also_free),
                ends_at=servable_until,
            )

    def stops_move(locked) -> dict:
        """The new addresses (and the place notes that no longer apply), if any stop moves."""
        fields = {}
        for side, point in (("pickup", plan.pickup), ("dropoff", plan.dropoff)):
            address = getattr(plan, f"{side}_address")
            if not same_address(address, getattr(locked, f"{side}_address")):
                fields.update({f"{side}_address": address, f"{side}_lat": point.lat, f"{side}_lng": point.lng,
                               f"{side}_notes": ""})  # fmt: skip
        if fields:
            fields["distance_miles"] = plan.distance_miles
        return fields

    def changes(locked):
        fields = {
            "scheduled_at": plan.scheduled_at,
            "ends_at": plan.ends_at,
            "price_cents": plan.quote.total_cents,
            "quote": plan.quote.as_json(),
            **stops_move(locked),
        }
        if locked.status == RideStatus.ASSIGNED:
            keeps = keep_driver
            if keeps is None:
                keeps = availability.driver_keeps(
                    ride=locked,
                    starts_at=plan.scheduled_at,
                    ends_at=servable_until or plan.ends_at,
                    exclude_ride_ids=(ride.pk, *also_free),
                )
            if not keeps:  # the move's fallback: back to dispatch, no driver holds it any more
                fields.update(status=RideStatus.CONFIRMED, driver=None, accepted_at=None)
        terms = cancellation_terms(ride=locked, now=now)  # still the old time and fare
        if terms.late and locked.status != RideStatus.PENDING_PAYMENT:
            # Moved inside its late-cancellation window: the ride keeps that window and its fee,
            # so moving it further out can't make cancelling free (or cheaper).
            fields.update(late_fee_since=terms.free_until, late_fee_min_cents=terms.late_fee_cents)
        return fields

    tz = ride.customer.tzinfo
    old, new = format_pickup(ride.scheduled_at, tz), format_pickup(scheduled_at, tz)
    note = f"Pickup moved from {old} to {new}." if old != new else f"Pickup still {new}."
    for side in ("pickup", "dropoff"):
        address = getattr(plan, f"{side}_address")
        if not same_address(address, getattr(ride, f"{side}_address")):
            note += f" {'Pickup' if side == 'pickup' else 'Drop-off'} now {address}."
    return _apply_move(
        ride=ride,
        move="reschedule",
        by=by,
        note=note,
        check=check,
        changes=changes,
        data={
            "old_scheduled_at": ride.scheduled_at.isoformat(),
            "new_scheduled_at": scheduled_at.isoformat(),
            "old_price_cents": ride.price_cents,
            "new_price_cents": plan.quote.total_cents,
        },
    )


def _check_legs_stay_in_order(ride: Ride, plan: RidePlan) -> None:
    """A round trip's legs keep their order: the return is picked up after the ride out
    arrives. An open return has no time yet to move (it follows its ride out)."""
    if not ride.is_trip_leg:
        return
    if ride.awaiting_call:
        raise DomainError(
            "This return comes when you call for it: there is no time to move.", code="illegal_move"
        )
    tz = ride.customer.tzinfo
    if ride.is_return_leg:
        outbound = Ride.objects.get(pk=ride.outbound_id)
        if not outbound.is_ended and plan.scheduled_at < outbound.ends_at:
            when = format_pickup(outbound.ends_at, tz)
            raise DomainError(
                f"The return must be after the ride out arrives: from {when}.",
                code="invalid",
                errors={"scheduled_at": [f"Choose {when} or later."]},
            )
        return
    back = Ride.objects.filter(outbound_id=ride.pk, status__in=OPEN_STATUSES).first()
    if back is not None and not back.awaiting_call and plan.ends_at > back.scheduled_at:
        when = format_pickup(back.scheduled_at, tz)
        raise DomainError(
            f"Your return is picked up at {when}: choose a time that arrives before it, "
            "or move the return first.",
            code="invalid",
            errors={"scheduled_at": [f"The ride out must arrive before the return at {when}."]},
        )


def _open_return_follows(outbound: Ride) -> None:
    """An open return waiting for its call moves with its outbound: its earliest time and the
    latest it may be called."""
    back = open_return_leg(outbound)
    if back is None or not back.awaiting_call:
        return
    Ride.objects.filter(pk=back.pk).update(
        scheduled_at=outbound.ends_at,
        ends_at=estimated_end(outbound.ends_at, back.distance_miles),
        on_call_until=outbound.scheduled_at + settings.TRIP_OPEN_RETURN_WITHIN,
        updated_at=timezone.now(),
    )


def ride_call_return(*, ride: Ride, by, now: datetime | None = None) -> Ride:
    """The customer (or operations) calls an open return: it gets the earliest pickup a driver
    can do, from TRIP_CALL_NOTICE after the call, and goes to dispatch. Its fare is the one
    quoted at booking. If no driver is free that day it still gets that earliest time, flagged
    for operations: a pet is waiting to come home."""
    now = now or timezone.now()
    earliest = max(now + settings.TRIP_CALL_NOTICE, ride.scheduled_at)
    answer = availability.check(
        pets=ride.party_pets,
        pickup=Point(ride.pickup_lat, ride.pickup_lng),
        starts_at=earliest,
        ends_at=estimated_end(earliest, ride.distance_miles),
        now=now,
        exclude_ride_ids=(ride.pk,),
        tz=ride.customer.tzinfo,
    )
    later = sorted(t for t in answer.suggestions if t >= earliest)
    at = earliest if answer.servable or not later else later[0]
    tz = ride.customer.tzinfo
    # Nobody free today: it still gets the earliest time, and operations find a driver.
    unserved = not answer.servable and (
        not later or timezone.localtime(at, tz).date() != timezone.localtime(earliest, tz).date()
    )
    if unserved:
        at = earliest

    def check(locked):
        if not locked.awaiting_call:
            raise DomainError("This return already has a pickup time.", code="illegal_move")
        outbound = Ride.objects.get(pk=locked.outbound_id)
        if outbound.status not in (RideStatus.PICKED_UP, RideStatus.COMPLETED):
            raise DomainError(
                f"Call the return once {locked.pet_names} has been picked up for the ride out.",
                code="illegal_move",
            )
        availability.lock_window(at, changes["ends_at"])  # bookings for that day wait for this one

    changes = {
        "scheduled_at": at,
        "ends_at": estimated_end(at, ride.distance_miles),
        "on_call_until": None,
        # A flag for a return not called in time is answered by the call.
        "attention": "Return called, but no driver is free today: find one." if unserved else "",
    }
    when = format_pickup(at, ride.customer.tzinfo)
    return _apply_move(
        ride=ride,
        move="call_return",
        by=by,
        note=f"Return pickup at about {when}.",
        check=check,
        changes=changes,
        data={"scheduled_at": at.isoformat()},
    )


def returns_not_called(*, now: datetime | None = None) -> int:
    """Open returns whose call limit has passed: operations are asked to call the customer
    (once: a flagged ride is not flagged again). Returns how many were flagged."""
    now = now or timezone.now()
    lapsed = Ride.objects.filter(on_call_until__lte=now, status__in=OPEN_STATUSES, attention="").values_list(
        "pk", flat=True
    )
    flagged = 0
    for ride in Ride.objects.filter(pk__in=list(lapsed[:200])):
        ride_flag(ride=ride, reason="Open return not called in time: call the customer.")
        flagged += 1
    return flagged


def ride_update_notes(*, ride: Ride, by, notes: str) -> Ride:
    """The customer's notes for the driver, editable while the ride is still ahead."""
    with transaction.atomic():
        locked = Ride.objects.select_for_update().get(pk=ride.pk)
        acting_as = actor_for(locked, by)
        if acting_as not in (Actor.CUSTOMER, Actor.ADMIN):
            raise DomainError("You can't change this ride's notes.", code="not_allowed")
        if locked.status not in OPEN_STATUSES or locked.status in (RideStatus.PICKED_UP,):
            raise DomainError("Notes can only change before pickup.", code="illegal_move")
        locked.notes = notes.strip()
        locked.save(update_fields=["notes", "updated_at"])
        RideEvent.objects.create(
            ride=locked,
            actor=by,
            action="notes",
            note="Notes for the driver updated.",
            **audience_fields("notes", by=acting_as),
        )
    return locked


def ride_set_payment_secured(*, ride_id: int, amount_cents: int) -> None:
    """Billing records how much of the ride's fare is secured now (0: nothing). When that comes
    to cover the fare of a ride waiting for a driver, `ride_payment_secured` is sent, so
    dispatch (which assigns no ride whose fare is not covered) tries again after commit."""
    with transaction.atomic():
        locked = Ride.objects.select_for_update().get(pk=ride_id)
        if locked.payment_secured_cents == amount_cents:
            return
        was_covered = locked.payment_covers_fare
        locked.payment_secured_cents = amount_cents
        locked.save(update_fields=["payment_secured_cents", "updated_at"])
        if locked.payment_covers_fare and not was_covered and locked.status == RideStatus.CONFIRMED:
            ride_payment_secured.send(sender=Ride, ride_id=ride_id)


def ride_flag(*, ride: Ride, reason: str, by=None) -> None:
    """Ask operations to look at a ride (e.g. dispatch found no driver, a payment failed).
    The flag and its clearing are operations' alone: no customer or driver timeline shows them."""
    with transaction.atomic():
        updated = Ride.objects.filter(pk=ride.pk).update(attention=reason[:255], updated_at=timezone.now())
        if updated:
            RideEvent.objects.create(
                ride_id=ride.pk, actor=by, action="flag", note=reason, **audience_fields("flag", by=None)
            )


def ride_clear_flag(*, ride: Ride, by) -> None:
    with transaction.atomic():
        if (
            Ride.objects.filter(pk=ride.pk)
            .exclude(attention="")
            .update(attention="", updated_at=timezone.now())
        ):
            RideEvent.objects.create(
                ride_id=ride.pk,
                actor=by,
                action="clear_flag",
                note="Resolved.",
                **audience_fields("clear_flag", by=None),
            )
