"""API for payments: secure a booking's fare, read a payment, saved cards, refund (admins).

`POST /payments` walks the same checkout as the web page (billing.services):
call it, confirm the returned client secret with Stripe.js or a mobile SDK
(`confirm_with` names the call), then call it again until `outcome` is `paid`.
"""

import uuid
from datetime import datetime

from django.conf import settings
from django.shortcuts import get_object_or_404
from ninja import Header, Path, Router, Schema, Status
from pydantic import Field

from billing import selectors, services
from billing.models import Payment
from bookings.selectors import customer_ride
from core.api import AUTH_ERRORS, ErrorOut, Id
from project.accounts.api_auth import JWTAuth, admin_auth, customer_auth

router = Router(tags=["customers"])
admin_router = Router(tags=["admin"], auth=admin_auth)


class PaymentIn(Schema):
    booking_id: int = Field(ge=1, le=2**63 - 1)


class TransactionOut(Schema):
    id: int
    kind: str
    status: str
    amount_cents: int
    currency: str
    reason: str
    created_at: datetime
    completed_at: datetime | None


class PaymentOut(Schema):
    id: int
    booking_id: int
    status: str
    status_label: str
    amount_cents: int
    currency: str
    card: str
    captured_cents: int
    refunded_cents: int
    created_at: datetime
    transactions: list[TransactionOut]

    @staticmethod
    def resolve_booking_id(payment) -> int:
        return payment.ride_id

    @staticmethod
    def resolve_status_label(payment) -> str:
        return payment.get_status_display()

    @staticmethod
    def resolve_card(payment) -> str:
        return payment.card_label if payment.card_last4 else ""

    @staticmethod
    def resolve_transactions(payment) -> list:
        return list(payment.transactions.all())


class CheckoutOut(Schema):
    outcome: str = Field(description="card: confirm the card; action: the bank's check; paid; closed")
    message: str
    client_secret: str = Field(description="For `confirm_with` in Stripe.js or a mobile SDK")
    confirm_with: str | None = Field(description="confirmCardSetup, confirmCardPayment, or null when done")
    publishable_key: str
    payment: PaymentOut | None


class RefundIn(Schema):
    amount_cents: int = Field(ge=1, le=100_000_000)
    reason: str = Field(min_length=1, max_length=500)


class CardOut(Schema):
    id: str = Field(description="Stripe's payment method id")
    brand: str = Field(alias="card.brand")
    last4: str = Field(alias="card.last4")
    exp_month: int = Field(alias="card.exp_month")
    exp_year: int = Field(alias="card.exp_year")
    booking_ids: list[int] = Field(description="Open bookings relying on this card: it can't be removed")

    @staticmethod
    def resolve_booking_ids(card) -> list[int]:
        return [ride.pk for ride in card.rides]


CardId = Path(..., min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_]+$")

CONFIRM_WITH = {"card": "confirmCardSetup", "action": "confirmCardPayment"}


@router.post(
    "/payments",
    auth=customer_auth,
    response={200: CheckoutOut, 404: ErrorOut, 422: ErrorOut, 503: ErrorOut, **AUTH_ERRORS},
)
def payment_checkout(request, payload: PaymentIn):
    """Secure the fare of one of your bookings (a hold, or a saved card for rides far ahead).
    The server checks every step with Stripe itself before confirming the ride."""
    ride = customer_ride(request.auth, payload.booking_id)
    step = services.checkout_open(ride=ride)
    return {
        "outcome": step.outcome,
        "message": step.message,
        "client_secret": step.client_secret,
        "confirm_with": CONFIRM_WITH.get(step.outcome),
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "payment": step.payment,
    }


@router.get(
    "/payments/{payment_id}",
    auth=JWTAuth("customer", "admin"),
    response={200: PaymentOut, 404: ErrorOut, 422: ErrorOut, **AUTH_ERRORS},
)
def payment_detail(request, payment_id: Id):
    """One payment with its ledger rows: yours, or any for operations."""
    return selectors.payment_for(request.auth, payment_id)


@router.get("/cards", auth=customer_auth, response={200: list[CardOut], 503: ErrorOut, **AUTH_ERRORS})
def card_list(request):
    """The cards saved on your account (at checkout), with the bookings relying on each."""
    return services.customer_cards(request.auth)


@router.delete(
    "/cards/{card_id}",
    auth=customer_auth,
    response={204: None, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 503: ErrorOut, **AUTH_ERRORS},
)
def card_remove(request, card_id: str = CardId):
    """Remove a saved card (detached at Stripe). 404 for a card that is not yours; 409 while a
    booking relies on it (its fare is held on it, or will be before pickup)."""
    services.card_remove(user=request.auth, payment_method_id=card_id)
    return Status(204, None)


@admin_router.post(
    "/admin/payments/{payment_id}/refunds",
    response={202: TransactionOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, **AUTH_ERRORS},
)
def payment_refund(
    request,
    payment_id: Id,
    payload: RefundIn,
    idempotency_key: str = Header("", alias="Idempotency-Key", max_length=100),
):
    """Refund part or all of what was captured. Send an `Idempotency-Key` header to make a retried
    request refund once. Never more than captured minus already refunded (409)."""
    payment = get_object_or_404(Payment, pk=payment_id)
    txn = services.payment_refund(
        payment=payment,
        amount_cents=payload.amount_cents,
        reason=payload.reason,
        by=request.auth,
        request_key=idempotency_key or f"api-{uuid.uuid4().hex}",
    )
    txn.refresh_from_db()
    return Status(202, txn)
