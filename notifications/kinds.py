"""Every kind of message we send, who it is for and by which channels, in one table.

The wording of each kind lives in one template, `templates/notifications/messages/<kind>.txt`
(subject, heading, body, button and SMS text as blocks); the email layouts and the
SMS layout decide the format. Which lifecycle step sends which kind is in
`notifications/triggers.py`.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.db import models


class Kind(models.TextChoices):
    BOOKING_CONFIRMED = "booking_confirmed", "Booking confirmed"
    REMINDER = "reminder", "Reminder"
    DRIVER_ASSIGNED = "driver_assigned", "Driver assigned"
    DRIVER_ON_THE_WAY = "driver_on_the_way", "Driver on the way"
    PICKED_UP = "picked_up", "Pet picked up"
    RIDE_COMPLETED = "ride_completed", "Pet delivered"
    RECEIPT = "receipt", "Receipt"
    RIDE_CANCELLED = "ride_cancelled", "Ride cancelled"
    RIDE_RESCHEDULED = "ride_rescheduled", "Ride rescheduled"
    NO_SHOW = "no_show", "No-show"
    REFUND_ISSUED = "refund_issued", "Refund issued"
    PAYMENT_ACTION = "payment_action", "Payment needs attention"
    DRIVER_NEW_RIDE = "driver_new_ride", "New ride for a driver"
    DRIVER_RIDE_REMOVED = "driver_ride_removed", "Ride taken off a driver"


class Audience(StrEnum):
    CUSTOMER = "customer"
    DRIVER = "driver"


class Email(StrEnum):
    ALWAYS = "always"
    FALLBACK = "fallback"  # only when no SMS goes out (a receipt email follows anyway)
    NEVER = "never"


@dataclass(frozen=True)
class KindSpec:
    kind: Kind
    audience: Audience
    email: Email
    sms: bool  # may go by SMS at all
    sms_optional: bool  # the customer can turn SMS off for it (preferences page)
    help: str = ""  # one line on the preferences page

    @property
    def label(self) -> str:
        return self.kind.label


K, C, D = Kind, Audience.CUSTOMER, Audience.DRIVER

KINDS: dict[str, KindSpec] = {
    spec.kind.value: spec
    for spec in [
        KindSpec(K.BOOKING_CONFIRMED, C, Email.ALWAYS, True, True, "When a booking is confirmed."),
        KindSpec(K.REMINDER, C, Email.ALWAYS, True, True, "Before pickup, to get your pet ready."),
        KindSpec(K.DRIVER_ASSIGNED, C, Email.ALWAYS, True, True, "Who will drive your pet."),
        KindSpec(K.DRIVER_ON_THE_WAY, C, Email.ALWAYS, True, True, "When the driver sets off to you."),
        KindSpec(K.PICKED_UP, C, Email.ALWAYS, True, True, "When your pet is on board."),
        KindSpec(K.RIDE_COMPLETED, C, Email.FALLBACK, True, True, "When your pet has arrived."),
        # Receipts carry a fare breakdown: email only, always.
        KindSpec(K.RECEIPT, C, Email.ALWAYS, False, False),
        KindSpec(K.RIDE_CANCELLED, C, Email.ALWAYS, True, True, "When a ride is cancelled."),
        KindSpec(K.RIDE_RESCHEDULED, C, Email.ALWAYS, True, True, "When a ride moves to a new time."),
        KindSpec(K.NO_SHOW, C, Email.ALWAYS, True, True, "When the driver could not collect your pet."),
        KindSpec(K.REFUND_ISSUED, C, Email.ALWAYS, True, True, "When we refund you."),
        KindSpec(K.PAYMENT_ACTION, C, Email.ALWAYS, True, True, "When your card needs attention."),
        # Work messages: drivers get them by every channel they have.
        KindSpec(K.DRIVER_NEW_RIDE, D, Email.ALWAYS, True, False),
        KindSpec(K.DRIVER_RIDE_REMOVED, D, Email.ALWAYS, True, False),
    ]
}


def spec_for(kind: str) -> KindSpec:
    return KINDS[kind]


def customer_sms_choices() -> list[KindSpec]:
    """The kinds a customer can switch SMS on or off for, in the order they happen."""
    return [spec for spec in KINDS.values() if spec.audience == C and spec.sms_optional]
