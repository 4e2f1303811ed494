"""Reads for billing: a ride's money (receipt, panels) and the ops payments list."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404

from billing.filters import TransactionFilterSet
from billing.models import LIVE_PAYMENT_STATUSES, Payment, PaymentStatus, Transaction
from bookings.models import Ride, RideStatus, party_prefetch
from bookings.pricing import cancellation_terms
from core.dates import operations_zone

Kind, Status = Transaction.Kind, Transaction.Status


@dataclass
class RideMoney:
    """Everything a ride's payment panels and receipt show, from two queries."""

    ride: Ride
    payments: list[Payment]
    transactions: list[Transaction]
    refundable: dict[int, int] = field(default_factory=dict)  # payment id -> cents

    def _sum(self, *kinds: str) -> int:
        return sum(
            t.amount_cents for t in self.transactions if t.kind in kinds and t.status == Status.SUCCEEDED
        )

    @property
    def fare_captured_cents(self) -> int:
        return self._sum(Kind.CAPTURE)

    @property
    def fee_cents(self) -> int:
        return self._sum(Kind.FEE)

    @property
    def captured_cents(self) -> int:
        return self._sum(Kind.CAPTURE, Kind.FEE)

    @property
    def refunded_cents(self) -> int:
        return self._sum(Kind.REFUND)

    @property
    def net_cents(self) -> int:
        return self.captured_cents - self.refunded_cents

    @property
    def held_cents(self) -> int:
        return sum(p.amount_cents for p in self.payments if p.status == PaymentStatus.AUTHORIZED)

    @property
    def refunds(self) -> list[Transaction]:
        return [t for t in self.transactions if t.kind == Kind.REFUND and t.status != Status.FAILED]

    @property
    def receipt_lines(self) -> list[tuple[str, int, datetime | None]]:
        """(label, signed cents, when) for what was charged and refunded."""
        card = self.card.card_label if self.card else "your card"
        fee_label = "No-show fee" if self.ride.status == "no_show" else "Late cancellation fee"
        lines = []
        for t in self.transactions:
            if t.kind == Kind.CAPTURE and t.status == Status.SUCCEEDED:
                lines.append((f"Charged to {card}", t.amount_cents, t.completed_at))
            elif t.kind == Kind.FEE and t.status == Status.SUCCEEDED:
                lines.append((fee_label, t.amount_cents, t.completed_at))
            elif t.kind == Kind.REFUND and t.status != Status.FAILED:
                label = "Refund" if t.status == Status.SUCCEEDED else "Refund (on its way)"
                lines.append((label, -t.amount_cents, t.completed_at))
        return lines

    @property
    def current(self) -> Payment | None:
        """The payment that describes where the ride's money stands now: the ride's live one
        (a replacement still being placed is not it yet), else the latest."""
        live = [p for p in self.payments if p.status in LIVE_PAYMENT_STATUSES and not p.replacing_id]
        return live[-1] if live else self.latest

    @property
    def latest(self) -> Payment | None:
        """The latest attempt (the one a "please pay" message is about)."""
        return self.payments[-1] if self.payments else None

    @property
    def card(self) -> Payment | None:
        return next((p for p in reversed(self.payments) if p.card_last4), None)

    @property
    def is_busy(self) -> bool:
        """Something is running in the background (the ops panel refreshes itself)."""
        return any(t.status == Status.PENDING and t.next_attempt_at is not None for t in self.transactions)

    @property
    def refundable_payments(self) -> list[tuple[Payment, int]]:
        return [(p, self.refundable[p.pk]) for p in self.payments if self.refundable.get(p.pk, 0) > 0]

    @property
    def failed_capture(self) -> Payment | None:
        """A held payment whose capture (or fee) failed: operations may retry it."""
        for payment in self.payments:
            if payment.status != PaymentStatus.AUTHORIZED:
                continue
            takes = [
                t
                for t in self.transactions
                if t.payment_id == payment.pk and t.kind in (Kind.CAPTURE, Kind.FEE)
            ]
            if takes and all(t.status == Status.FAILED for t in takes):
                return payment
        return None


def ride_money(ride: Ride) -> RideMoney:
    payments = list(ride.payments.order_by("created_at", "id"))
    transactions = list(ride.transactions.select_related("initiated_by").order_by("created_at", "id"))
    refundable = {}
    for payment in payments:
        pending = sum(
            t.amount_cents
            for t in transactions
            if t.payment_id == payment.pk and t.kind == Kind.REFUND and t.status == Status.PENDING
        )
        refundable[payment.pk] = payment.captured_cents - payment.refunded_cents - pending
    return RideMoney(ride=ride, payments=payments, transactions=transactions, refundable=refundable)


@dataclass(frozen=True)
class Settling:
    """What the ride's latest move does to its money while billing's settle task (queued with
    the move, core.outbox) has not run yet. The payment row still says how things stood before
    the move, so the panels read this instead: "fee", "release", "nothing" (a cancelled ride
    whose card was only saved), "capture", "rehold" (a dearer new fare: the hold is being
    updated) or "lower" (a cheaper one: the hold stays, only the new fare is charged)."""

    kind: str
    cents: int = 0  # the fee, the capture or the new fare
    held_cents: int = 0


def _move_fee(ride: Ride) -> int:
    event = ride.events.filter(action__in=("cancel", "no_show")).order_by("-created_at", "-id").first()
    if event is None:
        return 0
    if event.action == "cancel":
        return (event.data or {}).get("fee_cents", 0)
    return cancellation_terms(ride=ride, now=event.created_at).fee_cents


def pending_settlement(money: RideMoney) -> Settling | None:
    ride, payment = money.ride, money.current
    if payment is None or payment.status not in (PaymentStatus.AUTHORIZED, PaymentStatus.CARD_SAVED):
        return None
    held = payment.amount_cents if payment.status == PaymentStatus.AUTHORIZED else 0
    if ride.status in (RideStatus.CANCELLED, RideStatus.NO_SHOW):
        if fee := _move_fee(ride):
            return Settling("fee", fee, held)
        return Settling("release", 0, held) if held else Settling("nothing")
    if ride.status == RideStatus.COMPLETED:
        return Settling("capture", min(ride.price_cents, held or ride.price_cents), held)
    if held and held != ride.price_cents:
        return Settling("rehold" if ride.price_cents > held else "lower", ride.price_cents, held)
    return None


def ops_transactions(*, filters: Mapping | None = None) -> QuerySet[Transaction]:
    """The ledger, newest first, narrowed by TransactionFilterSet (days are operations days)."""
    rows = Transaction.objects.select_related("ride__customer", "initiated_by").prefetch_related(
        party_prefetch("ride__party")
    )
    return TransactionFilterSet(
        filters, queryset=rows.order_by("-created_at", "-id"), tz=operations_zone()
    ).qs


def ops_totals(rows: QuerySet[Transaction]) -> dict:
    """Succeeded money in the filtered rows, by kind, in one query."""
    ok = Q(status=Status.SUCCEEDED)
    totals = rows.order_by().aggregate(
        count=Count("id"),
        captured=Sum("amount_cents", filter=ok & Q(kind=Kind.CAPTURE), default=0),
        fees=Sum("amount_cents", filter=ok & Q(kind=Kind.FEE), default=0),
        refunded=Sum("amount_cents", filter=ok & Q(kind=Kind.REFUND), default=0),
        failed=Count("id", filter=Q(status=Status.FAILED)),
        pending=Count("id", filter=Q(status=Status.PENDING)),
    )
    totals["net"] = totals["captured"] + totals["fees"] - totals["refunded"]
    return totals


def payment_for(user, pk) -> Payment:
    """One payment: the customer's own, or any for operations (else 404)."""
    payments = Payment.objects.select_related("ride")
    if not user.is_admin:
        payments = payments.filter(ride__customer=user)
    return get_object_or_404(payments, pk=pk)


def payment_operations_retrying() -> int:
    """Ledger rows still pending after a failed attempt: Stripe was down or slow (back-off)."""
    return Transaction.objects.filter(status=Status.PENDING, attempts__gt=0).exclude(error="").count()
