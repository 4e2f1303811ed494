"""Money records: who pays (StripeCustomer), each attempt to secure a ride's fare
(Payment, one Stripe SetupIntent/PaymentIntent pair), the ledger of every money
movement (Transaction) and the Stripe events we have processed (WebhookEvent).

Stripe holds the money; these rows are our account of it. Ledger rows are
append-only: a row is written once per operation with its idempotency key, and
only its outcome (pending -> succeeded | failed, provider id, error, attempts)
is filled in later, once, by `billing.services.ledger`.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from bookings.models import Ride


class StripeCustomer(models.Model):
    """The Stripe Customer that a user's saved cards belong to."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    customer_id = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.customer_id


class PaymentStatus(models.TextChoices):
    REQUIRES_CARD = "requires_card", "Waiting for a card"
    REQUIRES_ACTION = "requires_action", "Waiting for the bank's check"
    CARD_SAVED = "card_saved", "Card saved, hold to follow"
    AUTHORIZED = "authorized", "Held on card"
    RELEASING = "releasing", "Releasing the hold"
    CAPTURED = "captured", "Charged"
    VOIDED = "voided", "Hold released"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Not needed"  # ended before any money was held


# A ride has at most one of these at a time, plus at most one replacement being placed
# (database constraints say so).
LIVE_PAYMENT_STATUSES = [
    PaymentStatus.REQUIRES_CARD,
    PaymentStatus.REQUIRES_ACTION,
    PaymentStatus.CARD_SAVED,
    PaymentStatus.AUTHORIZED,
]
# Still waiting for the customer at checkout.
CHECKOUT_STATUSES = [PaymentStatus.REQUIRES_CARD, PaymentStatus.REQUIRES_ACTION]
# The fare is secured: held now, or a saved card that gets the hold before pickup.
SECURED_STATUSES = [PaymentStatus.CARD_SAVED, PaymentStatus.AUTHORIZED]


class Payment(models.Model):
    """One attempt to secure a ride's fare: a SetupIntent that saves the card,
    then a PaymentIntent (manual capture) that holds the fare.

    A ride moved to a pricier time needs a bigger hold. That hold is a new Payment
    `replacing` the one that holds the fare now; the old one stays the ride's payment, and
    keeps its hold, until the new one is secured (then it is released and `replacing` is
    cleared). A replacement that fails leaves the old hold in place.
    """

    Status = PaymentStatus

    ride = models.ForeignKey(Ride, on_delete=models.PROTECT, related_name="payments")
    status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.REQUIRES_CARD
    )
    amount_cents = models.PositiveIntegerField(help_text="Held (or to be held) on the card.")
    currency = models.CharField(max_length=3, default="usd")
    setup_intent_id = models.CharField(max_length=255, blank=True)
    payment_method_id = models.CharField(max_length=255, blank=True)
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    payment_intent_id = models.CharField(max_length=255, blank=True)
    captured_cents = models.PositiveIntegerField(default=0)
    refunded_cents = models.PositiveIntegerField(default=0)
    authorized_at = models.DateTimeField(null=True, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    replacing = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="The held payment this one replaces once secured.",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["status", "ride"]),
            models.Index(fields=["setup_intent_id"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["ride"],
                condition=Q(status__in=LIVE_PAYMENT_STATUSES, replacing__isnull=True),
                name="one_live_payment_per_ride",
            ),
            models.UniqueConstraint(
                fields=["ride"],
                condition=Q(status__in=LIVE_PAYMENT_STATUSES, replacing__isnull=False),
                name="one_replacement_per_ride",
            ),
            models.UniqueConstraint(
                fields=["payment_intent_id"], condition=~Q(payment_intent_id=""), name="payment_intent_once"
            ),
            # The last line of defence against over-refunds (localstripe would allow them).
            models.CheckConstraint(
                condition=Q(refunded_cents__lte=F("captured_cents")), name="refund_le_capture"
            ),
            models.CheckConstraint(
                condition=Q(captured_cents__lte=F("amount_cents")), name="capture_le_hold"
            ),
        ]

    def __str__(self) -> str:
        return f"Payment #{self.pk} for ride #{self.ride_id} ({self.status})"

    @property
    def card_label(self) -> str:
        return f"{self.card_brand.title()} •••• {self.card_last4}" if self.card_last4 else "your card"

    @property
    def net_cents(self) -> int:
        return self.captured_cents - self.refunded_cents


class Transaction(models.Model):
    """One movement of money (or an attempt at one): the ledger."""

    class Kind(models.TextChoices):
        AUTHORIZATION = "authorization", "Hold"
        CAPTURE = "capture", "Capture"
        FEE = "fee", "Fee"
        VOID = "void", "Hold released"
        REFUND = "refund", "Refund"
        # A hold at Stripe that no payment of ours recorded (e.g. a crash between Stripe's
        # answer and our commit), cancelled by the reconciliation sweep. Its own kind, so
        # nothing that settles a payment's own hold ever mistakes it for one.
        ORPHAN_VOID = "orphan_void", "Orphaned hold released"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Source(models.TextChoices):
        CHECKOUT = "checkout", "Customer at checkout"
        SCHEDULE = "schedule", "Scheduled task"
        RIDE = "ride", "Ride event"
        OPS = "ops", "Operations"
        WEBHOOK = "webhook", "Stripe webhook"
        RECONCILE = "reconcile", "Stripe reconciliation"

    ride = models.ForeignKey(Ride, on_delete=models.PROTECT, related_name="transactions")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="transactions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    provider_id = models.CharField(max_length=255, blank=True, help_text="Stripe PaymentIntent or Refund id.")
    idempotency_key = models.CharField(max_length=255, unique=True)
    reason = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    initiated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=12, choices=Source.choices)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When a pending row may be (re)tried: back-off after transient errors, or a lease while running.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["created_at"]),
            models.Index(fields=["kind", "created_at"]),
            models.Index(fields=["provider_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount_cents} {self.currency} ({self.status})"

    @property
    def signed_cents(self) -> int:
        """Money that moved to us (+) or back to the customer (−); holds and voids move none."""
        if self.status != self.Status.SUCCEEDED:
            return 0
        return {"capture": 1, "fee": 1, "refund": -1}.get(self.kind, 0) * self.amount_cents


class WebhookEvent(models.Model):
    """A Stripe event we have received: stored once, so a replay is a no-op."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    outcome = models.CharField(max_length=255, blank=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
