"""Delivery reports from Twilio's status callback, and applying each callback once."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications.models import Channel, Notification, Status, TwilioCallback

# Twilio MessageStatus -> ours, and how far along each of ours is (never go backwards).
TWILIO_STATUS = {
    "accepted": Status.SENT,
    "scheduled": Status.SENT,
    "queued": Status.SENT,
    "sending": Status.SENT,
    "sent": Status.SENT,
    "delivered": Status.DELIVERED,
    "read": Status.DELIVERED,
    "undelivered": Status.FAILED,
    "failed": Status.FAILED,
}


def twilio_callback_first_time(*, kind: str, message_sid: str, status: str = "") -> bool:
    """Record a callback by its message id; False when it was seen before. Call it in the
    transaction that applies the callback, so one that failed half-way is not taken for a
    replay when Twilio retries it."""
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction stays usable
            TwilioCallback.objects.create(kind=kind, message_sid=message_sid[:64], status=status[:20])
    except IntegrityError:
        return False
    return True


def notification_status_update(*, provider_id: str, provider_status: str, error_code: str = "") -> bool:
    """Apply a Twilio delivery report once. Returns False when it changes nothing (unknown
    message, unknown status, a replay, or a report older than what we already know)."""
    status = TWILIO_STATUS.get((provider_status or "").lower())
    if not provider_id or status is None or status == Status.SENT:
        return False  # "sent" is what we recorded when Twilio accepted the message
    now = timezone.now()
    fields = {"status": status, "updated_at": now}
    if status == Status.DELIVERED:
        fields["delivered_at"] = now
    else:
        fields["error_code"] = error_code or ""
        fields["last_error"] = f"The carrier reported the message {provider_status.lower()}" + (
            f" (error {error_code})." if error_code else "."
        )
    with transaction.atomic():
        if not twilio_callback_first_time(
            kind=TwilioCallback.Kind.STATUS, message_sid=provider_id, status=provider_status.lower()
        ):
            return False
        updated = Notification.objects.filter(
            provider_id=provider_id, channel=Channel.SMS, status__in=[Status.SENDING, Status.SENT]
        ).update(**fields)
    return bool(updated)
