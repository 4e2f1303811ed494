"""The driver's steps on a ride: what each asks for and which ride service it calls.
The portal (fleet.views) and the API (fleet.api) both use this table, so a step
behaves the same whichever way a driver takes it."""

from collections.abc import Callable
from dataclasses import dataclass

from bookings import services as rides
from bookings.forms import RequiredReasonForm
from fleet.forms import DeclineForm, PhotoStepForm


@dataclass(frozen=True)
class Step:
    move: str  # the move's name in bookings.lifecycle
    form: type | None  # what the step asks for, if anything
    call: Callable  # (ride, driver, cleaned_data) -> Ride, through bookings.services
    done: str  # what the driver reads afterwards


# URL slug -> step. Only the ride's assigned driver can make these; the services check.
STEPS = {
    "accept": Step("accept", None, lambda r, d, _: rides.ride_accept(ride=r, by=d), "Ride accepted."),
    "decline": Step(
        "decline",
        DeclineForm,
        lambda r, d, data: rides.ride_decline(ride=r, by=d, reason=data["reason"]),
        "Ride declined. Dispatch will find another driver.",
    ),
    "start": Step(
        "start",
        None,
        lambda r, d, _: rides.ride_start(ride=r, by=d),
        "You're on your way. The owner can follow the ride.",
    ),
    "pickup": Step(
        "pickup",
        PhotoStepForm,
        lambda r, d, data: rides.ride_pickup(ride=r, by=d, photo=data["photo"], note=data["note"]),
        "Picked up. Drive safely!",
    ),
    "complete": Step(
        "complete",
        PhotoStepForm,
        lambda r, d, data: rides.ride_complete(ride=r, by=d, photo=data["photo"], note=data["note"]),
        "Delivered. Thank you!",
    ),
    "no-show": Step(
        "no_show",
        RequiredReasonForm,
        lambda r, d, data: rides.ride_no_show(ride=r, by=d, reason=data["reason"]),
        "No-show recorded. Operations will follow up.",
    ),
}
