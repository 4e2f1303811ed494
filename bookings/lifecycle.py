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
    sources: frozenset[str]
    actors: frozenset[Actor]
    target: str | None = None  # None: the status stays as it is
    # A further condition on the ride: returns why the move is refused, or None.
    guard: Callable[[Ride], str | None] | None = None

    def target_from(self, status: str) -> str:
        return self.target or status

    def refusal(self, ride: Ride) -> str | None:
        return self.guard(ride) if self.guard else None


def _move(name, label, sources, actors, target=None, guard=None) -> Move:
    return Move(name, label, frozenset(sources), frozenset(actors), target, guard)


def _not_accepted_yet(message: str):
    return lambda ride: message if ride.accepted_at is not None else None


C, D, A, SYS = Actor.CUSTOMER, Actor.DRIVER, Actor.ADMIN, Actor.SYSTEM

# Where a new booking (PENDING_PAYMENT) is paid: billing's checkout, which "confirm"s it once the
# card is held. Bookings knows that page by its URL name only, never by importing billing.
PAYMENT_STEP = "billing:checkout"

MOVES: dict[str, Move] = {
    m.name: m
    for m in [
        # Payment authorised (or no payment needed): the ride is on.
        _move("confirm", "Confirm", [S.PENDING_PAYMENT], [SYS], S.CONFIRMED),
        # Unpaid bookings give their slot back after a while.
        _move("expire", "Expire unpaid booking", [S.PENDING_PAYMENT], [SYS], S.CANCELLED),
        _move("assign", "Assign driver", [S.CONFIRMED], [A, SYS], S.ASSIGNED),
        _move("reassign", "Reassign driver", [S.ASSIGNED], [A]),
        _move("unassign", "Unassign driver", [S.ASSIGNED], [A, SYS], S.CONFIRMED),
        _move(
            "accept",
            "Accept ride",
            [S.ASSIGNED],
            [D],
            guard=_not_accepted_yet("You have already accepted this ride."),
        ),
        _move(
            "decline",
            "Decline ride",
            [S.ASSIGNED],
            [D],
            S.CONFIRMED,
            guard=_not_accepted_yet("You accepted this ride; ask operations to reassign it."),
        ),
        _move("start", "On my way", [S.ASSIGNED], [D], S.EN_ROUTE),
        _move("pickup", "Picked up", [S.EN_ROUTE], [D], S.PICKED_UP),
        _move("complete", "Delivered", [S.PICKED_UP], [D, A], S.COMPLETED),
        _move("no_show", "No-show", [S.EN_ROUTE], [D, A], S.NO_SHOW),
        _move(
            "cancel",
            "Cancel ride",
            [S.PENDING_PAYMENT, S.CONFIRMED, S.ASSIGNED, S.EN_ROUTE],
            [C, A],
            S.CANCELLED,
        ),
        # A new time; an assigned ride goes back to dispatch (see services.ride_reschedule).
        _move("reschedule", "Reschedule", [S.PENDING_PAYMENT, S.CONFIRMED, S.ASSIGNED], [C, A]),
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
