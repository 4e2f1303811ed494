from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from bookings.models import party_prefetch
from notifications.kinds import Kind


class Channel(models.TextChoices):
    SMS = "sms", "SMS"
    EMAIL = "email", "Email"


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"  # claimed by one worker; never sent by a second one
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"  # no longer wanted: opted out, ride moved or cancelled


class NotificationQuerySet(models.QuerySet):
    def with_list_relations(self):
        return self.select_related("user", "ride").prefetch_related(party_prefetch("ride__party"))


class Notification(models.Model):
    """One message to one person by one channel, from queued to delivered or failed.

    `occurrence` tells apart notifications of one kind that may rightly happen more
    than once for a ride: the pickup time a reminder is for, the event of a driver
    change, the payment of a refund. It is empty for once-per-ride kinds, so the
    unique constraint makes "booking confirmed" impossible to create twice.
    """

    Channel = Channel
    Status = Status

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    ride = models.ForeignKey(
        "bookings.Ride", on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    occurrence = models.CharField(max_length=64, blank=True, default="")
    to = models.CharField("sent to", max_length=254, help_text="Phone number or email address.")
    subject = models.CharField(max_length=200, blank=True)
    message = models.TextField(help_text="The SMS text, or the plain-text email.")
    message_html = models.TextField(blank=True)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    provider_id = models.CharField(
        max_length=100, blank=True, db_index=True, help_text="Twilio message SID or email Message-ID."
    )
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Send attempts since last queued.")
    last_error = models.TextField(blank=True)
    error_code = models.CharField(max_length=32, blank=True)

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    next_attempt_at = models.DateTimeField(default=timezone.now, help_text="Not sent before this time.")
    # When a send task was last put on the queue; lets the sweeper re-queue lost tasks.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ride", "kind", "channel", "user", "occurrence"], name="notification_once_per_ride"
            ),
            # NULLs never collide in a unique index, so ride-less messages get their own rule.
            models.UniqueConstraint(
                fields=["kind", "channel", "user", "occurrence"],
                condition=Q(ride__isnull=True),
                name="notification_once_without_ride",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["-created_at", "-id"]),
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["kind", "-created_at"]),
            models.Index(fields=["channel", "-created_at"]),
            models.Index(fields=["user", "channel", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.get_channel_display()} to {self.to}"

    @property
    def can_retry(self) -> bool:
        return self.status == Status.FAILED


class AttemptOutcome(models.TextChoices):
    SENT = "sent", "Sent"
    RETRY = "retry", "Failed, will retry"
    FAILED = "failed", "Failed for good"
    CANCELLED = "cancelled", "Not sent"
    REQUEUED = "requeued", "Queued again"  # by a person, from the back office
    # Timed out after the request went: the provider may have it. An SMS is looked up at
    # Twilio before any resend; an email is resent with the same Message-ID.
    UNKNOWN = "unknown", "Outcome unknown"
    RECONCILED = "reconciled", "Found sent at the provider"  # an unknown attempt had gone through


class NotificationAttempt(models.Model):
    """The history of sends: one row per try (and per manual retry), so a retried
    message keeps every error and who sent it again."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="attempt_log")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=10, choices=AttemptOutcome.choices)
    provider_id = models.CharField(max_length=100, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} at {self.started_at:%Y-%m-%d %H:%M:%S}"


class NotificationPreference(models.Model):
    """A user's choices: which kinds may come by SMS, and whether they replied STOP.

    Kept here rather than on the User so accounts knows nothing of notifications.
    No row means the defaults: every SMS kind on, not opted out.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    sms_muted_kinds = models.JSONField(default=list, blank=True, help_text="Kinds not wanted by SMS.")
    sms_opted_out_at = models.DateTimeField(
        null=True, blank=True, help_text="When they replied STOP (or a carrier reported the opt-out)."
    )
    sms_opt_out_word = models.CharField(max_length=20, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Notification preferences of {self.user}"

    @property
    def sms_opted_out(self) -> bool:
        return self.sms_opted_out_at is not None

    def wants_sms(self, kind: str) -> bool:
        return not self.sms_opted_out and kind not in self.sms_muted_kinds


class TwilioCallback(models.Model):
    """A Twilio callback we have applied, by its message id, so a replay changes nothing.

    Signatures never expire: whoever kept a copy of a signed request (a proxy log, a
    compromised box) could post it again, e.g. an old STOP after the person texted START.
    Twilio also retries a callback it thinks failed. A text to our number is applied once
    per MessageSid; a delivery report once per MessageSid and status, since one message
    rightly reports queued, sent and delivered.
    """

    class Kind(models.TextChoices):
        INBOUND = "inbound", "Text to our number"
        STATUS = "status", "Delivery report"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    message_sid = models.CharField(max_length=64)
    status = models.CharField(max_length=20, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "message_sid", "status"], name="twilio_callback_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.message_sid} {self.status}".strip()
