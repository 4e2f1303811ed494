"""The customer's saved cards: the ones on their Stripe customer, and removing one.

A card is listed from Stripe itself (a card saved at checkout lives on the customer's Stripe
Customer; our Payment rows only copy its brand and last 4). A card that a ride still relies
on (a Payment holding the fare on it, or keeping it for a hold placed before pickup) cannot
be removed: the capture, or the later off-session hold, needs it. A customer who never
reached checkout has no Stripe customer, and so no cards, without asking Stripe.
"""

from dataclasses import dataclass, field

from django.http import Http404
from django.utils import timezone

from billing.gateway import GatewayError, SavedCard, get_gateway
from billing.models import SECURED_STATUSES, Payment, StripeCustomer
from bookings.models import Ride
from core.errors import DomainError

UNAVAILABLE = (
    "We can't reach our payment provider right now, so your saved cards can't be shown or "
    "changed. Please try again in a minute."
)


@dataclass(frozen=True)
class CustomerCard:
    card: SavedCard
    rides: list[Ride] = field(default_factory=list)  # the rides that rely on it, soonest first

    @property
    def id(self) -> str:
        return self.card.id

    @property
    def label(self) -> str:
        return f"{self.card.brand.title()} •••• {self.card.last4}"

    @property
    def in_use(self) -> bool:
        return bool(self.rides)


def _customer_id(user) -> str | None:
    return StripeCustomer.objects.filter(user=user).values_list("customer_id", flat=True).first()


def customer_cards(user) -> list[CustomerCard]:
    """The cards saved on `user`'s Stripe customer, each with the rides relying on it.
    Raises DomainError("unavailable") when Stripe cannot be reached."""
    customer_id = _customer_id(user)
    if not customer_id:
        return []
    try:
        cards = get_gateway().customer_cards(customer_id)
    except GatewayError as exc:
        raise DomainError(UNAVAILABLE, code="unavailable") from exc
    uses = Payment.objects.filter(
        ride__customer=user,
        status__in=SECURED_STATUSES,
        payment_method_id__in=[card.id for card in cards],
    ).values_list("payment_method_id", "ride_id")
    rides = Ride.objects.with_party().in_bulk({ride_id for _pm, ride_id in uses})
    by_card: dict[str, list[Ride]] = {}
    for pm, ride_id in uses:
        if rides[ride_id] not in by_card.setdefault(pm, []):
            by_card[pm].append(rides[ride_id])
    return [
        CustomerCard(card, sorted(by_card.get(card.id, []), key=lambda ride: (ride.scheduled_at, ride.pk)))
        for card in cards
    ]


def rides_label(rides: list[Ride], tz=None) -> str:
    """ "ride #12 (Biscuit, Dec 4)", "ride #12 (…) and ride #14 (…)"; days read in `tz`."""
    names = []
    for ride in rides:
        when = timezone.localtime(ride.scheduled_at, tz)
        names.append(f"ride #{ride.pk} ({ride.pet_names}, {when:%b} {when.day})")
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def card_remove(*, user, payment_method_id: str) -> CustomerCard:
    """Detach one of `user`'s saved cards at Stripe. A card not on their Stripe customer is a
    404; one that a ride relies on is refused (code "conflict"), naming the rides."""
    if not _customer_id(user):
        raise Http404("No such card.")
    card = next((c for c in customer_cards(user) if c.id == payment_method_id), None)
    if card is None:
        raise Http404("No such card.")
    if card.in_use:
        raise DomainError(
            f"{card.label} can't be removed: {rides_label(card.rides, user.tzinfo)} "
            f"{'needs' if len(card.rides) == 1 else 'need'} it for the fare's hold. "
            "You can remove it once the ride is done or cancelled.",
            code="conflict",
        )
    try:
        get_gateway().detach_card(card.id, key=f"card-detach-{card.id}")
    except GatewayError as exc:
        if exc.transient:
            raise DomainError(UNAVAILABLE, code="unavailable") from exc
        raise DomainError(f"{card.label} could not be removed: {exc.message}", code="conflict") from exc
    return card
