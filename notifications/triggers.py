"""Who hears about what: from a lifecycle occasion to the messages it calls for.

An occasion is a ride move (`ride_moved`), a money event (`payment_changed`,
named "payment:<kind>") or a due reminder. Each planner returns `Planned`
messages (kind, recipient, occurrence, facts for the wording); the entry point
(`services.notify`) then picks channels from the recipient's preferences.

| occasion                | customer                              | driver                          |
|-------------------------|---------------------------------------|---------------------------------|
| confirm                 | booking_confirmed (not a return leg)  |                                 |
| reminder (24 h, 1 h)    | reminder                              |                                 |
| assign / reassign       | driver_assigned                       | driver_new_ride (the new one),  |
|                         |                                       | driver_ride_removed (the old)   |
| unassign                |                                       | driver_ride_removed             |
| start / pickup          | driver_on_the_way / picked_up         |                                 |
| complete                | ride_completed                        |                                 |
| no_show                 | no_show                               |                                 |
| cancel / expire         | ride_cancelled (expire: email only)   | driver_ride_removed             |
| reschedule              | ride_rescheduled                      | driver_ride_removed (if lost)   |
| call_return             | ride_rescheduled (the return's time)  |                                 |
| payment:captured        | receipt                               |                                 |
| payment:refunded        | refund_issued                         |                                 |
| payment:action_required | payment_action                        |                                 |

"book", "accept", "decline", payment "authorized" and "voided" send nothing: the
customer is on the payment page, the driver acted themselves, "confirm" and
"cancel" already tell the customer.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC

from django.contrib.auth import get_user_model
from django.urls import reverse

from billing.models import Transaction
from bookings.models import Ride, RideEvent, RideStatus
from notifications.kinds import Kind

# Reminders go to rides that are on; unpaid, ended and cancelled rides get none.
REMINDER_STATUSES = [RideStatus.CONFIRMED, RideStatus.ASSIGNED]


@dataclass(frozen=True)
class Occasion:
    """Something that happened to a ride that people may need to hear about. Ids only:
    it travels through the task queue."""

    name: str  # a ride move, "payment:<kind>" or "reminder"
    ride_id: int
    event_id: int | None = None
    transaction_id: int | None = None  # money events: billing's ledger row
    lead_minutes: int | None = None  # reminders: how long before pickup


@dataclass(frozen=True)
class Planned:
    kind: Kind
    recipient: object  # a User
    occurrence: str = ""
    facts: dict = field(default_factory=dict)
    by_sms: bool = True  # False: this occasion is told by email only, whatever the kind allows


def reminder_occurrence(ride: Ride, lead_minutes: int) -> str:
    """A reminder is once per ride, lead and pickup time: a new time gets new reminders."""
    return f"{lead_minutes}m@{pickup_stamp(ride)}"


def pickup_stamp(ride: Ride) -> str:
    return ride.scheduled_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- Facts read from the ride's history and billing's ledger ------------------


def driver_before(ride: Ride, event: RideEvent | None):
    """The driver who held the ride just before `event` (moves like reschedule clear it)."""
    if event is None:
        return ride.driver
    history = ride.events.filter(id__lt=event.id, action__in=["assign", "reassign", "unassign", "decline"])
    last = history.order_by("-id").first()
    if last is None or last.action in ("unassign", "decline"):
        return None
    return get_user_model().objects.filter(pk=last.data.get("driver_id")).first()


def payment_amount(occasion: Occasion) -> tuple[int, str] | None:
    """(cents, currency) of the ledger row behind a money event; None when there is none
    (the message then falls back to the fare as quoted)."""
    row = Transaction.objects.filter(pk=occasion.transaction_id).values("amount_cents", "currency").first()
    return (row["amount_cents"], row["currency"]) if row else None


# --- Planners -------------------------------------------------------------------


def _customer(kind: Kind, **facts) -> Callable:
    return lambda occasion, ride, event: [Planned(kind, ride.customer, facts=facts)]


def _driver_assigned(occasion, ride, event):
    driver = get_user_model().objects.filter(pk=(event.data if event else {}).get("driver_id")).first()
    driver = driver or ride.driver
    if driver is None:
        return []
    occurrence = str(occasion.event_id or "")
    plans = [
        Planned(
            Kind.DRIVER_ASSIGNED,
            ride.customer,
            occurrence,
            {"driver_name": driver.name, "changed": occasion.name == "reassign"},
        ),
        Planned(Kind.DRIVER_NEW_RIDE, driver, occurrence),
    ]
    if occasion.name == "reassign" and (previous := driver_before(ride, event)) and previous != driver:
        plans.append(Planned(Kind.DRIVER_RIDE_REMOVED, previous, occurrence, {"why": "reassigned"}))
    return plans


def _removal(occasion, ride, event, **facts) -> list[Planned]:
    """Tell the driver who held the ride before `event` that it is no longer theirs."""
    driver = driver_before(ride, event)
    # A driver who made the move themselves needs no message about it.
    if driver is None or (event is not None and event.actor_id == driver.pk):
        return []
    return [Planned(Kind.DRIVER_RIDE_REMOVED, driver, str(occasion.event_id or ""), facts)]


def _unassigned(occasion, ride, event):
    return _removal(occasion, ride, event, why="unassigned")


# A customer's message never quotes an event's note: notes are operations' (an admin's cancel
# reason, a driver's no-show reason). What the customer may read of an event is its
# customer_note, and the messages word that themselves.


def _cancelled(occasion, ride, event):
    by = (event.data or {}).get("cancelled_by") if event else None
    if occasion.name == "expire":
        by = "system"
    facts = {"cancelled_by": by or "admin"}
    # An unpaid booking that lapses is told by email only: anyone can book with any number,
    # so a text here would let them make us text a stranger by booking and not paying.
    return [
        Planned(Kind.RIDE_CANCELLED, ride.customer, facts=facts, by_sms=occasion.name != "expire"),
        *_removal(occasion, ride, event, why="cancelled"),
    ]


def _rescheduled(occasion, ride, event):
    data = event.data if event else {}
    old = data.get("old_scheduled_at")
    price_changed = data.get("old_price_cents") != data.get("new_price_cents")
    facts = {"old_scheduled_at": old, "price_changed": price_changed}
    plans = [Planned(Kind.RIDE_RESCHEDULED, ride.customer, str(occasion.event_id or ""), facts)]
    # The driver hears only when the move took the ride off them (a driver still free keeps it).
    if (
        event is not None
        and event.from_status == RideStatus.ASSIGNED
        and event.to_status != RideStatus.ASSIGNED
    ):
        plans += _removal(occasion, ride, event, why="rescheduled", old_scheduled_at=old)
    return plans


def _return_called(occasion, ride, event):
    """An open return got its pickup time (called by the customer, or by operations for them)."""
    facts = {"old_scheduled_at": None, "price_changed": False, "called": True}
    return [Planned(Kind.RIDE_RESCHEDULED, ride.customer, str(occasion.event_id or ""), facts)]


def _no_show(occasion, ride, event):
    return [Planned(Kind.NO_SHOW, ride.customer)]


def _reminder(occasion, ride, event):
    lead = occasion.lead_minutes or 0
    return [Planned(Kind.REMINDER, ride.customer, reminder_occurrence(ride, lead), {"lead_minutes": lead})]


def _receipt(occasion, ride, event):
    return [
        Planned(
            Kind.RECEIPT,
            ride.customer,
            str(occasion.transaction_id or ""),
            {"charged": payment_amount(occasion)},
        )
    ]


def _refund(occasion, ride, event):
    facts = {"refunded": payment_amount(occasion)}
    return [Planned(Kind.REFUND_ISSUED, ride.customer, str(occasion.transaction_id or ""), facts)]


def _payment_action(occasion, ride, event):
    occurrence = str(occasion.transaction_id or "")
    return [
        Planned(
            Kind.PAYMENT_ACTION,
            ride.customer,
            occurrence,
            {"pay_url": reverse("billing:checkout", args=[ride.pk])},
        )
    ]


def _confirmed(occasion, ride, event):
    """A round trip is confirmed once: its outbound's message lists the return."""
    if ride.is_return_leg:
        return []
    return [Planned(Kind.BOOKING_CONFIRMED, ride.customer)]


PLANNERS: dict[str, Callable] = {
    "confirm": _confirmed,
    "reminder": _reminder,
    "assign": _driver_assigned,
    "reassign": _driver_assigned,
    "unassign": _unassigned,
    "start": _customer(Kind.DRIVER_ON_THE_WAY),
    "pickup": _customer(Kind.PICKED_UP),
    "complete": _customer(Kind.RIDE_COMPLETED),
    "no_show": _no_show,
    "cancel": _cancelled,
    "expire": _cancelled,
    "reschedule": _rescheduled,
    "call_return": _return_called,
    "payment:captured": _receipt,
    "payment:refunded": _refund,
    "payment:action_required": _payment_action,
}


def plan(occasion: Occasion, ride: Ride, event: RideEvent | None) -> list[Planned]:
    planner = PLANNERS.get(occasion.name)
    return planner(occasion, ride, event) if planner else []
