"""The ride state machine: every allowed move and who may make it, in one table.

Services in `bookings.services` are the only code that changes a ride's status;
each one names its move here. The HTML portals and the API show and accept only
what `allowed_moves()` returns, so the rules live in this file alone.

The same table says who reads each move on a ride's timeline and in what words
(`Move.customer`, `Move.driver`; `EVENT_TELLINGS` for the events that are not
moves). Operations read every event as it was written, note and actor included;
the customer and the driver read only the events told to them, worded for them.
`audience_fields()` turns that into the RideEvent's columns when the event is
written, so a timeline never decides after the fact what a reader may see.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.utils import timezone

from bookings.models import Audience, Ride, RideStatus

S = RideStatus


class Actor(StrEnum):
    CUSTOMER = "customer"  # the ride's own customer
    DRIVER = "driver"  # the ride's assigned driver
    ADMIN = "admin"  # operations
    SYSTEM = "system"  # background tasks: payments, dispatch, expiry


@dataclass(frozen=True)
class Telling:
    """How one reader (the ride's customer, or its driver) reads an event on their timeline.

    The event's own note is for operations. The reader gets `note`, a line written for them,
    unless the note was written for them too (`shares_note`: a payment line, the new pickup
    time) or by them (`own_note`: a customer's own cancel reason, a driver's own no-show reason).
    `by_us`: the reader reads that Whiskers & Wheels acted, whoever did (who declined is not theirs
    to know).
    """

    title: str
    note: str = ""
    shares_note: bool = False
    own_note: bool = False
    by_us: bool = False

    def note_for_reader(self, note: str, *, written_by_reader: bool) -> str:
        if self.shares_note or (self.own_note and written_by_reader):
            return note
        return self.note


@dataclass(frozen=True)
class Move:
    name: str
    label: str
    targets: dict[str, str]  # from status -> to status: every state the move starts from, and where it goes
    actors: frozenset[Actor]
    # A further condition on the ride: returns why the move is refused, or None.
    guard: Callable[[Ride], str | None] | None = None
    # Who reads the move on their timeline besides operations (None: not told to them).
    customer: Telling | None = None
    driver: Telling | None = None
    # Where the move goes instead when its service finds it must (from status -> to status).
    fallbacks: dict[str, str] | None = None

    @property
    def sources(self) -> frozenset[str]:
        return frozenset(self.targets)

    def target_from(self, status: str) -> str:
        return self.targets[status]

    def refusal(self, ride: Ride) -> str | None:
        return self.guard(ride) if self.guard else None


def _move(name, label, targets, actors, guard=None, *, customer=None, driver=None, fallbacks=None) -> Move:
    return Move(name, label, dict(targets), frozenset(actors), guard, customer, driver, fallbacks)


def _to(target, *sources) -> dict[str, str]:
    return {source: target for source in sources}


def _not_accepted_yet(message: str):
    return lambda ride: message if ride.accepted_at is not None else None


def _fare_secured(ride: Ride) -> str | None:
    """No driver is given a ride whose fare billing has not secured (Ride.payment_secured_cents),
    nor an open return that has no time until the customer calls it."""
    if ride.awaiting_call:
        return "This return has no pickup time until the customer calls for it."
    if ride.payment_covers_fare:
        return None
    return "The fare isn't secured on the customer's card yet: a driver is assigned once it is."


def start_opens_at(ride: Ride):
    """The earliest moment the driver may set off for `ride` (RIDE_START_WINDOW before pickup)."""
    return ride.scheduled_at - settings.RIDE_START_WINDOW


def _start_window_open(ride: Ride) -> str | None:
    """A driver sets off shortly before pickup, never days early: a ride run ahead of its time
    is captured before the customer expects it. Operations move a ride by rescheduling it."""
    opens = start_opens_at(ride)
    if timezone.now() >= opens:
        return None
    local = timezone.localtime(opens)
    when = local.strftime("%-I:%M %p")
    if local.date() != timezone.localdate():
        when = f"{local.strftime('%a %-d %b')}, {when}"
    minutes = int(settings.RIDE_START_WINDOW.total_seconds() // 60)
    return f"You can set off from {when}, {minutes} minutes before pickup."


def _awaiting_call(ride: Ride) -> str | None:
    return None if ride.awaiting_call else "This return already has a pickup time."


C, D, A, SYS = Actor.CUSTOMER, Actor.DRIVER, Actor.ADMIN, Actor.SYSTEM

# Where a new booking (PENDING_PAYMENT) is paid: billing's checkout, which "confirm"s it once the
# card is held. Bookings knows that page by its URL name only, never by importing billing.
PAYMENT_STEP = "billing:checkout"

# What the customer reads when the ride changes hands: never who, never why.
DRIVER_CHANGED = Telling(
    "Your driver changed", note="We're finding another driver for your ride.", by_us=True
)

MOVES: dict[str, Move] = {
    m.name: m
    for m in [
        # Payment authorised: the ride is on. Billing's note is the payment line, for the customer.
        _move(
            "confirm",
            "Confirm",
            _to(S.CONFIRMED, S.PENDING_PAYMENT),
            [SYS],
            customer=Telling("Confirmed", shares_note=True),
        ),
        # Unpaid bookings give their slot back after a while.
        _move(
            "expire",
            "Expire unpaid booking",
            _to(S.CANCELLED, S.PENDING_PAYMENT),
            [SYS],
            customer=Telling("Booking released", shares_note=True),
        ),
        # The assign note is dispatch's (who was nearest, why): operations only.
        _move(
            "assign",
            "Assign driver",
            _to(S.ASSIGNED, S.CONFIRMED),
            [A, SYS],
            customer=Telling("Driver assigned"),
            driver=Telling("Assigned to you"),
            guard=_fare_secured,
        ),
        _move(
            "reassign",
            "Reassign driver",
            _to(S.ASSIGNED, S.ASSIGNED),
            [A],
            customer=DRIVER_CHANGED,
            driver=Telling("Assigned to you"),
        ),
        # The ride leaves its driver: the customer hears only that it changed hands.
        _move("unassign", "Unassign driver", _to(S.CONFIRMED, S.ASSIGNED), [A, SYS], customer=DRIVER_CHANGED),
        _move(
            "accept",
            "Accept ride",
            _to(S.ASSIGNED, S.ASSIGNED),
            [D],
            guard=_not_accepted_yet("You have already accepted this ride."),
            customer=Telling("Driver confirmed"),
            driver=Telling("You accepted"),
        ),
        _move(
            "decline",
            "Decline ride",
            _to(S.CONFIRMED, S.ASSIGNED),
            [D],
            guard=_not_accepted_yet("You accepted this ride; ask operations to reassign it."),
            customer=DRIVER_CHANGED,
        ),
        _move(
            "start",
            "On my way",
            _to(S.EN_ROUTE, S.ASSIGNED),
            [D],
            guard=_start_window_open,
            customer=Telling("Driver on the way"),
            driver=Telling("On your way"),
        ),
        # The photo is the customer's to see; the driver's handover note stays with them and operations.
        _move(
            "pickup",
            "Picked up",
            _to(S.PICKED_UP, S.EN_ROUTE),
            [D],
            customer=Telling("Picked up"),
            driver=Telling("Picked up", own_note=True),
        ),
        _move(
            "complete",
            "Delivered",
            _to(S.COMPLETED, S.PICKED_UP),
            [D, A],
            customer=Telling("Delivered"),
            driver=Telling("Delivered", own_note=True),
        ),
        _move(
            "no_show",
            "No-show",
            _to(S.NO_SHOW, S.EN_ROUTE),
            [D, A],
            customer=Telling(
                "No-show", note="Our driver couldn't collect your pet, so the ride is closed as a no-show."
            ),
            driver=Telling("No-show", own_note=True),
        ),
        # A customer reads their own reason; operations' reason is theirs alone.
        _move(
            "cancel",
            "Cancel ride",
            _to(S.CANCELLED, S.PENDING_PAYMENT, S.CONFIRMED, S.ASSIGNED, S.EN_ROUTE),
            [C, A, SYS],  # the system: a round trip's return when the ride out was a no-show
            customer=Telling("Cancelled", note="Our team cancelled this ride.", own_note=True),
            driver=Telling("Ride cancelled"),
        ),
        # A new time. An assigned ride keeps its driver while they are still eligible for the
        # new window (bookings.availability.driver_keeps); else it goes back to dispatch
        # (services.ride_reschedule clears the driver). The note is the new time.
        _move(
            "reschedule",
            "Reschedule",
            {S.PENDING_PAYMENT: S.PENDING_PAYMENT, S.CONFIRMED: S.CONFIRMED, S.ASSIGNED: S.ASSIGNED},
            [C, A],
            customer=Telling("Rescheduled", shares_note=True),
            fallbacks={S.ASSIGNED: S.CONFIRMED},
        ),
        # An open return ("when I call") gets its pickup time and goes to dispatch.
        _move(
            "call_return",
            "Call for the return",
            _to(S.CONFIRMED, S.CONFIRMED),
            [C, A],
            guard=_awaiting_call,
            customer=Telling("Return called", shares_note=True),
        ),
    ]
}

# Events that are not moves, and who reads them. Flags ("flag", "clear_flag") and any other
# action are for operations alone.
EVENT_TELLINGS: dict[str, tuple[Telling | None, Telling | None]] = {
    "book": (Telling("Booked"), None),
    "notes": (Telling("Notes for the driver updated"), Telling("Owner's notes updated")),
    "wait_cancelled": (None, Telling("No wait at the drop-off", shares_note=True)),
}


def telling(action: str, audience: Audience) -> Telling | None:
    """How the customer or the driver reads an event `action`; None where they are not told."""
    customer, driver = (
        (MOVES[action].customer, MOVES[action].driver)
        if action in MOVES
        else EVENT_TELLINGS.get(action, (None, None))
    )
    return {Audience.CUSTOMER: customer, Audience.DRIVER: driver}.get(audience)


def audience_fields(action: str, *, by: Actor | None, note: str = "") -> dict:
    """The RideEvent columns saying who reads an event and what note each reader gets, for an
    event `action` made by `by` (the capacity they acted in) with the internal `note`."""
    customer, driver = telling(action, Audience.CUSTOMER), telling(action, Audience.DRIVER)
    note = (note or "").strip()
    return {
        "for_customer": customer is not None,
        "customer_note": customer.note_for_reader(note, written_by_reader=by == Actor.CUSTOMER)
        if customer
        else "",
        "for_driver": driver is not None,
        "driver_note": driver.note_for_reader(note, written_by_reader=by == Actor.DRIVER) if driver else "",
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


def refusal_for(ride: Ride, user, move_name: str) -> str | None:
    """Why `user` may not make `move_name` on `ride` now although its status and their part in
    the ride allow it (the move's guard: e.g. "On my way" before its window opens); None when
    the move is open to them or not theirs to make at all."""
    move = MOVES[move_name]
    if ride.status not in move.sources or actor_for(ride, user) not in move.actors:
        return None
    return move.refusal(ride)


def allowed_moves(ride: Ride, user) -> list[str]:
    """Moves `user` may make on `ride` now (for buttons; services check again)."""
    return [name for name in MOVES if can(ride, user, name)]
