"""Delivery reports from Twilio's status callback."""

from django.utils import timezone

from notifications.models import Channel, Notification, Status

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


def notification_status_update(*, provider_id: str, provider_status: str, error_code: str = "") -> bool:
    """Apply a Twilio delivery report. Returns False when it changes nothing (unknown
    message, unknown status, or a report older than what we already know)."""
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
    updated = Notification.objects.filter(
        provider_id=provider_id, channel=Channel.SMS, status__in=[Status.SENDING, Status.SENT]
    ).update(**fields)
    return bool(updated)
