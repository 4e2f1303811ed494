"""The ride state machine: every allowed move and who may make it, in one table.

Services in `bookings.services` are the only code that changes a ride's status;
each one names its move here. The HTML portals and the API show and accept only
what `allowed_moves()` returns, so the rules live in this file alone.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from bookings.models import Ride, RideStatus

S = RideStatus


class Actor(StrEnum):
    CUSTOMER = "customer"  # the ride's own customer
    DRIVER = "driver"  # the ride's assigned driver
    ADMIN = "admin"  # operations
    SYSTEM = "system"  # background tasks: payments, dispatch, expiry


@dataclass(frozen=True)
class Move:
    name: str
    label: str
    targets: dict[str, str]  # from status -> to status: every state the move starts from, and where it goes
    actors: frozenset[Actor]
    # A further condition on the ride: returns why the move is refused, or None.
    guard: Callable[[Ride], str | None] | None = None

    @property
    def sources(self) -> frozenset[str]:
        return frozenset(self.targets)

    def target_from(self, status: str) -> str:
        return self.targets[status]

    def refusal(self, ride: Ride) -> str | None:
        return self.guard(ride) if self.guard else None


def _move(name, label, targets, actors, guard=None) -> Move:
    return Move(name, label, dict(targets), frozenset(actors), guard)


def _to(target, *sources) -> dict[str, str]:
    return {source: target for source in sources}


def _not_accepted_yet(message: str):
    return lambda ride: message if ride.accepted_at is not None else None


def _fare_secured(ride: Ride) -> str | None:
    """No driver is given a ride whose fare billing has not secured (Ride.payment_secured_cents)."""
    if ride.payment_covers_fare:
        return None
    return "The fare isn't secured on the customer's card yet: a driver is assigned once it is."


C, D, A, SYS = Actor.CUSTOMER, Actor.DRIVER, Actor.ADMIN, Actor.SYSTEM

# Where a new booking (PENDING_PAYMENT) is paid: billing's checkout, which "confirm"s it once the
# card is held. Bookings knows that page by its URL name only, never by importing billing.
PAYMENT_STEP = "billing:checkout"

MOVES: dict[str, Move] = {
    m.name: m
    for m in [
        # Payment authorised: the ride is on.
        _move("confirm", "Confirm", _to(S.CONFIRMED, S.PENDING_PAYMENT), [SYS]),
        # Unpaid bookings give their slot back after a while.
        _move("expire", "Expire unpaid booking", _to(S.CANCELLED, S.PENDING_PAYMENT), [SYS]),
        _move("assign", "Assign driver", _to(S.ASSIGNED, S.CONFIRMED), [A, SYS], guard=_fare_secured),
        _move("reassign", "Reassign driver", _to(S.ASSIGNED, S.ASSIGNED), [A]),
        _move("unassign", "Unassign driver", _to(S.CONFIRMED, S.ASSIGNED), [A, SYS]),
        _move(
            "accept",
            "Accept ride",
            _to(S.ASSIGNED, S.ASSIGNED),
            [D],
            guard=_not_accepted_yet("You have already accepted this ride."),
        ),
        _move(
            "decline",
            "Decline ride",
            _to(S.CONFIRMED, S.ASSIGNED),
            [D],
            guard=_not_accepted_yet("You accepted this ride; ask operations to reassign it."),
        ),
        _move("start", "On my way", _to(S.EN_ROUTE, S.ASSIGNED), [D]),
        _move("pickup", "Picked up", _to(S.PICKED_UP, S.EN_ROUTE), [D]),
        _move("complete", "Delivered", _to(S.COMPLETED, S.PICKED_UP), [D, A]),
        _move("no_show", "No-show", _to(S.NO_SHOW, S.EN_ROUTE), [D, A]),
        _move(
            "cancel",
            "Cancel ride",
            _to(S.CANCELLED, S.PENDING_PAYMENT, S.CONFIRMED, S.ASSIGNED, S.EN_ROUTE),
            [C, A],
        ),
        # A new time. An assigned ride goes back to dispatch: its driver was only checked free
        # for the old time (services.ride_reschedule clears the driver).
        _move(
            "reschedule",
            "Reschedule",
            {S.PENDING_PAYMENT: S.PENDING_PAYMENT, S.CONFIRMED: S.CONFIRMED, S.ASSIGNED: S.CONFIRMED},
            [C, A],
        ),
    ]
}


def actor_for(ride: Ride, user) -> Actor | None:
    """The capacity in which `user` acts on `ride`; None if they have no part in it."""
    if user is None:
        return Actor.SYSTEM
    if not user.is_active:
        return None
    if user.is_admin:
        return Actor.ADMIN
    if user.is_customer and ride.customer_id == user.pk:
        return Actor.CUSTOMER
    if user.is_driver and ride.driver_id == user.pk:
        return Actor.DRIVER
    return None


def can(ride: Ride, user, move_name: str) -> bool:
    move = MOVES[move_name]
    return ride.status in move.sources and actor_for(ride, user) in move.actors and move.refusal(ride) is None


def allowed_moves(ride: Ride, user) -> list[str]:
    """Moves `user` may make on `ride` now (for buttons; services check again)."""
    return [name for name in MOVES if can(ride, user, name)]
