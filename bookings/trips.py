"""Round trips: a booking of two linked rides, the ride out and its return.

- *One way*: one ride, as always.
- *Round trip*: the return leg is picked up at the drop-off at a time the customer sets, or
  *when they call* (an open return: priced and paid at booking, given its pickup time by
  `services.ride_call_return`, by the customer or operations, within TRIP_OPEN_RETURN_WITHIN
  of the outbound pickup; after that operations are asked to call the customer).
- *Wait and return*: the driver waits at the destination for the chosen time, then brings the
  pets back. The outbound's window runs through the wait (so its driver is given no other ride
  then) and the return starts when the wait ends; the wait is charged on the return's fare
  (`pricing.wait_lines`), and dispatch gives the return to the outbound's driver.

Each leg is a normal ride (its own quote, state machine, driver, timeline, money); the return
points at its outbound (`Ride.outbound`). One checkout secures both: billing holds each leg's
fare on the card saved once (`billing.services.checkout`). Cancelling the outbound cancels the
return, a return can be cancelled alone, a no-show on the way out cancels the return
(`services.ride_cancel`, `services.ride_no_show`); legs are moved one at a time and keep their
order (`services.ride_reschedule`).

This module plans a whole booking (`trip_plan`), says whether the fleet can serve it
(`trip_availability`) and books it (`trip_book`): the booking form, its live quote and the API
all go through these three.
"""

from dataclasses import dataclass, replace
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bookings import availability
from bookings.models import Pet, Ride, Trip
from bookings.services import (
    RidePlan,
    count_booking,
    format_pickup,
    must_be_servable,
    ride_availability,
    ride_book,
    ride_create,
    ride_plan,
)
from core.errors import DomainError

RETURN_FIELD = "return_at"  # the form's and the API's field for a round trip's return time


@dataclass(frozen=True)
class TripPlan:
    trip: str
    outbound: RidePlan
    back: RidePlan | None = None  # the return leg
    on_call_until: datetime | None = None  # an open return: the latest it may be called

    @property
    def legs(self) -> list[RidePlan]:
        return [self.outbound, self.back] if self.back else [self.outbound]

    @property
    def total_cents(self) -> int:
        return sum(leg.quote.total_cents for leg in self.legs)

    @property
    def currency(self) -> str:
        return self.outbound.quote.currency

    @property
    def pets(self) -> list[Pet]:
        return self.outbound.pets

    @property
    def return_on_call(self) -> bool:
        return self.on_call_until is not None


def trip_errors(trip: str, *, return_at, return_on_call: bool, wait_minutes) -> dict[str, list[str]]:
    """What is wrong with the trip's own choices (before any leg is planned)."""
    if trip not in Trip.values:
        return {"trip": ["Choose one way, round trip or wait and return."]}
    if trip == Trip.ROUND_TRIP and not return_on_call and return_at is None:
        return {RETURN_FIELD: ['Choose when to come back, or "when I call".']}
    if trip == Trip.WAIT_RETURN and wait_minutes not in settings.TRIP_WAIT_CHOICES:
        waits = ", ".join(str(m) for m in settings.TRIP_WAIT_CHOICES)
        return {"wait_minutes": [f"Choose how long the driver waits: {waits} minutes."]}
    return {}


def trip_plan(
    *,
    customer,
    pets: list[Pet],
    pickup_address: str,
    dropoff_address: str,
    scheduled_at: datetime | None,
    trip: str = Trip.ONE_WAY,
    return_at: datetime | None = None,
    return_on_call: bool = False,
    wait_minutes: int | None = None,
    now: datetime | None = None,
) -> TripPlan:
    """Check and price a whole booking, or raise DomainError with every field's problem (the
    return leg's time problems under RETURN_FIELD)."""
    now = now or timezone.now()
    errors = trip_errors(trip, return_at=return_at, return_on_call=return_on_call, wait_minutes=wait_minutes)
    try:
        outbound = ride_plan(
            customer=customer,
            pets=pets,
            pickup_address=pickup_address,
            dropoff_address=dropoff_address,
            scheduled_at=scheduled_at,
            now=now,
        )
    except DomainError as exc:
        raise DomainError(exc.message, errors={**exc.errors, **errors}) from exc
    if errors:
        raise DomainError("Please correct the highlighted fields.", errors=errors)
    if trip == Trip.ONE_WAY:
        return TripPlan(trip=trip, outbound=outbound)

    on_call_until = None
    charge_wait = 0
    if trip == Trip.WAIT_RETURN:
        outbound = replace(outbound, wait_minutes=wait_minutes)
        back_at, charge_wait = outbound.ends_at, wait_minutes
    elif return_on_call:
        back_at = outbound.ends_at  # a placeholder: the earliest it could be called
        on_call_until = outbound.scheduled_at + settings.TRIP_OPEN_RETURN_WITHIN
    else:
        back_at = return_at
        if back_at < outbound.ends_at:
            when = format_pickup(outbound.ends_at, customer.tzinfo)
            raise DomainError(
                "Please correct the highlighted fields.",
                errors={RETURN_FIELD: [f"The return is picked up after the ride out arrives: from {when}."]},
            )
    try:
        back = ride_plan(
            customer=customer,
            pets=pets,
            pickup_address=outbound.dropoff_address,
            dropoff_address=outbound.pickup_address,
            scheduled_at=back_at,
            now=now,
            charge_wait_minutes=charge_wait,
            timed=on_call_until is None,
        )
    except DomainError as exc:
        errors = {RETURN_FIELD if name == "scheduled_at" else name: msgs for name, msgs in exc.errors.items()}
        raise DomainError(exc.message, errors=errors) from exc
    return TripPlan(trip=trip, outbound=outbound, back=back, on_call_until=on_call_until)


@dataclass(frozen=True)
class Window:
    """One stretch of time the fleet must serve for a booking, and the field it answers."""

    field: str
    plan: RidePlan
    ends_at: datetime


def trip_windows(plan: TripPlan) -> list[Window]:
    """The ride out; a wait-and-return's whole stretch for one driver; a set return's own
    window. An open return is checked when it is called."""
    outbound = plan.outbound
    if plan.trip == Trip.WAIT_RETURN:
        return [Window("scheduled_at", outbound, plan.back.ends_at)]
    windows = [Window("scheduled_at", outbound, outbound.ends_at)]
    if plan.back is not None and not plan.return_on_call:
        windows.append(Window(RETURN_FIELD, plan.back, plan.back.ends_at))
    return windows


def trip_availability(
    *, plan: TripPlan, customer, now: datetime | None = None, suggest: bool = True
) -> dict[str, availability.Answer]:
    """Whether the fleet can serve each of the booking's windows, by field."""
    return {
        window.field: ride_availability(
            plan=window.plan, customer=customer, now=now, suggest=suggest, ends_at=window.ends_at
        )
        for window in trip_windows(plan)
    }


def trip_book(*, customer, plan: TripPlan, notes: str = "", client_ip: str = "", **stop_notes) -> Ride:
    """Book the whole trip in one transaction, or nothing (rate limit, `Unavailable` for any of
    its windows). Returns the outbound ride; its return leg is `ride.return_leg`.
    `stop_notes`: pickup_notes / dropoff_notes of the saved places used (the return swaps them)."""
    if plan.back is None:
        return ride_book(
            customer=customer, plan=plan.outbound, notes=notes, client_ip=client_ip, **stop_notes
        )
    count_booking(customer=customer, client_ip=client_ip)
    pickup_notes, dropoff_notes = stop_notes.get("pickup_notes", ""), stop_notes.get("dropoff_notes", "")
    with transaction.atomic():
        for window in trip_windows(plan):
            must_be_servable(plan=window.plan, customer=customer, ends_at=window.ends_at, field=window.field)
        outbound = ride_create(
            customer=customer,
            plan=plan.outbound,
            notes=notes,
            pickup_notes=pickup_notes,
            dropoff_notes=dropoff_notes,
            trip=plan.trip,
        )
        ride_create(
            customer=customer,
            plan=plan.back,
            notes=notes,
            pickup_notes=dropoff_notes,
            dropoff_notes=pickup_notes,
            trip=plan.trip,
            outbound=outbound,
            on_call_until=plan.on_call_until,
        )
    return outbound
