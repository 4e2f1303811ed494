"""Quotes: the fare for a ride, built from transparent parts.

All amounts are integer cents. The tariff lives in settings.TARIFF; the same
`quote_ride()` serves the live quote on the booking form, the stored price of a
booking, a reschedule's new price and the API's `POST /quotes`.
"""

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import timezone

from bookings.models import Pet, Ride, RideStatus


@dataclass(frozen=True)
class QuoteLine:
    kind: str  # base | distance | pet | extra | surcharge | wait
    label: str
    cents: int


@dataclass(frozen=True)
class Quote:
    distance_miles: Decimal
    lines: list[QuoteLine] = field(default_factory=list)
    currency: str = "usd"

    @property
    def total_cents(self) -> int:
        return sum(line.cents for line in self.lines)

    def cents_of(self, kind: str) -> int:
        return sum(line.cents for line in self.lines if line.kind == kind)

    def as_json(self) -> dict:
        """What a ride stores: enough to show the breakdown later, in plain JSON types."""
        return {
            "distance_miles": str(self.distance_miles),
            "currency": self.currency,
            "total_cents": self.total_cents,
            "lines": [asdict(line) for line in self.lines],
        }


def _percent_of(cents: int, percent: int) -> int:
    return int((Decimal(cents) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def pet_lines(pet: Pet, tariff: dict, *, named: bool = False) -> list[QuoteLine]:
    """One pet's charges: its size or type, its crate, its care. `named`: each label starts
    with the pet's name, so a party's quote shows whose line is whose."""
    lines = []
    if pet.type == Pet.Type.DOG:
        for max_lb, cents, label in tariff["dog_size"]:
            if max_lb is None or pet.weight_lb < max_lb:
                lines.append(QuoteLine("pet", label, cents))
                break
    else:
        lines.append(QuoteLine("pet", pet.get_type_display(), tariff["pet_type"].get(pet.type, 0)))
    if pet.crate_required:
        lines.append(QuoteLine("extra", "Crate handling", tariff["crate"]))
    if pet.special_needs.strip():
        lines.append(QuoteLine("extra", "Special-needs care", tariff["special_needs"]))
    if named:
        lines = [QuoteLine(line.kind, f"{pet.name}: {line.label}", line.cents) for line in lines]
    return lines


def party_lines(pets: list[Pet], tariff: dict) -> list[QuoteLine]:
    """Every pet's charges, then one "extra pet" charge for each pet after the first."""
    named = len(pets) > 1
    lines = [line for pet in pets for line in pet_lines(pet, tariff, named=named)]
    lines += [QuoteLine("pet", f"Extra pet: {pet.name}", tariff["extra_pet"]) for pet in pets[1:]]
    return lines


def surcharge_lines(subtotal: int, scheduled_at: datetime, now: datetime, tz, tariff: dict, *, timed=True):
    """`timed`: the pickup time is known. An open return's is not (only its day): it gets the
    weekend surcharge, not the night or short-notice ones."""
    local = timezone.localtime(scheduled_at, tz)
    lines = []
    if local.weekday() >= 5:
        lines.append(
            QuoteLine(
                "surcharge",
                f"Weekend +{tariff['weekend_percent']}%",
                _percent_of(subtotal, tariff["weekend_percent"]),
            )
        )
    if not timed:
        return lines
    night_from, night_until = tariff["night_hours"]
    if local.hour >= night_from or local.hour < night_until:
        lines.append(
            QuoteLine(
                "surcharge",
                f"Night +{tariff['night_percent']}%",
                _percent_of(subtotal, tariff["night_percent"]),
            )
        )
    if scheduled_at - now < tariff["short_notice_within"]:
        lines.append(
            QuoteLine(
                "surcharge",
                f"Short notice +{tariff['short_notice_percent']}%",
                _percent_of(subtotal, tariff["short_notice_percent"]),
            )
        )
    return lines


def wait_lines(wait_minutes: int, tariff: dict) -> list[QuoteLine]:
    """Wait-and-return: the first `wait_free_minutes` are free, then each started block of
    `wait_block_minutes` costs `wait_block`."""
    if wait_minutes <= 0:
        return []
    charged = max(wait_minutes - tariff["wait_free_minutes"], 0)
    blocks = -(-charged // tariff["wait_block_minutes"])  # started blocks: ceil
    label = f"Waiting {wait_minutes} min ({tariff['wait_free_minutes']} free"
    label += f", {blocks} × {tariff['wait_block_minutes']} min)" if blocks else ")"
    return [QuoteLine("wait", label, blocks * tariff["wait_block"])]


def quote_ride(
    *,
    pets: list[Pet],
    distance_miles: Decimal,
    scheduled_at: datetime,
    tz,
    now: datetime | None = None,
    wait_minutes: int = 0,
    timed: bool = True,
) -> Quote:
    """`wait_minutes`: the wait before a wait-and-return's return leg, charged on that leg (no
    surcharge applies to it). `timed`: False for an open return (see `surcharge_lines`)."""
    tariff = settings.TARIFF
    now = now or timezone.now()
    billed_miles = max(distance_miles, Decimal(tariff["min_miles"]))
    distance_cents = int((billed_miles * tariff["per_mile"]).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    lines = [
        QuoteLine("base", "Base fare", tariff["base_fare"]),
        QuoteLine("distance", f"Distance {billed_miles} mi", distance_cents),
        *party_lines(pets, tariff),
    ]
    subtotal = sum(line.cents for line in lines)
    lines += surcharge_lines(subtotal, scheduled_at, now, tz, tariff, timed=timed)
    lines += wait_lines(wait_minutes, tariff)
    return Quote(distance_miles=distance_miles, lines=lines, currency=settings.CURRENCY)


def estimated_arrival(scheduled_at: datetime, distance_miles: Decimal) -> datetime:
    """When the pet arrives: drive time at the average speed (5 minutes at least)."""
    drive = timedelta(hours=float(distance_miles) / settings.RIDE_AVERAGE_SPEED_MPH)
    return scheduled_at + max(drive, timedelta(minutes=5))


def estimated_end(scheduled_at: datetime, distance_miles: Decimal, wait_minutes: int = 0) -> datetime:
    """When the driver is free again: the arrival plus the buffer, or, for a wait-and-return's
    outbound, the arrival plus the wait (the return leg starts there and then)."""
    arrival = estimated_arrival(scheduled_at, distance_miles)
    if wait_minutes:
        return arrival + timedelta(minutes=wait_minutes)
    return arrival + settings.RIDE_BUFFER


@dataclass(frozen=True)
class CancellationTerms:
    free_until: datetime  # cancelling is free before this moment
    late_fee_cents: int  # what cancelling (or a no-show) costs from then on
    late: bool  # the moment asked about is past `free_until`
    fee_cents: int  # what cancelling costs at that moment

    @property
    def is_free(self) -> bool:
        return self.fee_cents == 0


def cancellation_terms(*, ride: Ride, now: datetime | None = None) -> CancellationTerms:
    """What the ride's customer pays to cancel at `now`: nothing before the cut-off
    (CANCELLATION_FREE_UNTIL before pickup), then CANCELLATION_FEE_PERCENT of the fare.

    A ride moved after its cut-off had passed keeps that cut-off and at least the fee it
    had then (`late_fee_since`, `late_fee_min_cents`, written by `ride_reschedule`): moving a
    ride never makes cancelling it cheaper. A booking still waiting for payment has nothing
    held, so cancelling it is free.
    """
    now = now or timezone.now()
    free_until = ride.scheduled_at - settings.CANCELLATION_FREE_UNTIL
    if ride.late_fee_since is not None:
        free_until = min(free_until, ride.late_fee_since)
    late_fee = max(_percent_of(ride.price_cents, settings.CANCELLATION_FEE_PERCENT), ride.late_fee_min_cents)
    late = now >= free_until
    if ride.awaiting_call:  # an open return not called yet: no time or driver was committed
        return CancellationTerms(free_until=free_until, late_fee_cents=0, late=False, fee_cents=0)
    charged = late and ride.status != RideStatus.PENDING_PAYMENT
    return CancellationTerms(
        free_until=free_until, late_fee_cents=late_fee, late=late, fee_cents=late_fee if charged else 0
    )
