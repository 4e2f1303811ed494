"""Sending one notification (what the Django-Q task runs), retries and the ops retry."""

import logging
import time
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.errors import DomainError
from core.retry import Backoff, claim_due_row
from notifications import channels, triggers
from notifications.channels import SendError
from notifications.kinds import Kind, spec_for
from notifications.models import AttemptOutcome, Channel, Notification, NotificationAttempt, Status
from notifications.rendering import absolute
from notifications.services.preferences import preferences_of, sms_opt_out
from notifications.services.queueing import enqueue_on_commit, sms_refusal
from notifications.triggers import REMINDER_STATUSES

logger = logging.getLogger("notifications")


def _not_wanted_any_more(notification: Notification) -> str:
    """Why a queued message should no longer go out (empty: it should)."""
    user, ride = notification.user, notification.ride
    if not user.is_active:
        return "The account is deactivated."
    if notification.channel == Channel.SMS:
        preference = preferences_of(user)
        if preference.sms_opted_out:
            return "The recipient replied STOP."
        if spec_for(notification.kind).sms_optional and notification.kind in preference.sms_muted_kinds:
            return "The recipient turned these texts off."
        if not user.phone:
            return "The recipient removed their phone number."
        if refusal := sms_refusal(user):
            return refusal
    if notification.kind == Kind.REMINDER and ride is not None:
        if ride.status not in REMINDER_STATUSES:
            return f"The ride is {ride.get_status_display().lower()}."
        if notification.occurrence != triggers.reminder_occurrence(ride, _lead_of(notification)):
            return "The ride moved to a new time."
    return ""


def _lead_of(notification: Notification) -> int:
    return int(notification.occurrence.partition("m@")[0] or 0)


def _current_address(notification: Notification) -> str:
    # Contact details may have been corrected since the message was queued.
    user = notification.user
    return str(user.phone) if notification.channel == Channel.SMS else user.email


def _already_sent(notification: Notification) -> channels.SendResult | None:
    """After an attempt with an unknown outcome, the SMS Twilio accepted from it, if any.

    Email has no such lookup: SMTP is at-least-once, with one Message-ID per notification."""
    if notification.channel != Channel.SMS:
        return None
    first_unknown = (
        notification.attempt_log.filter(outcome=AttemptOutcome.UNKNOWN).order_by("started_at").first()
    )
    if first_unknown is None:
        return None
    taken = Notification.objects.filter(channel=Channel.SMS, to=notification.to).exclude(pk=notification.pk)
    return channels.sms_backend().find_sent(
        to=notification.to,
        body=notification.message,
        since=first_unknown.started_at,
        exclude=set(taken.exclude(provider_id="").values_list("provider_id", flat=True)),
    )


def _deliver(notification: Notification) -> channels.SendResult:
    if notification.channel == Channel.SMS:
        callback = (
            absolute(reverse("notifications_webhooks:twilio_status"))
            if settings.TWILIO_STATUS_CALLBACKS
            else None
        )
        return channels.sms_backend().send(
            to=notification.to, body=notification.message, status_callback=callback
        )
    return channels.send_email(
        to=notification.to,
        subject=notification.subject,
        text=notification.message,
        html=notification.message_html,
        notification_id=notification.pk,
    )


def _finish(notification: Notification, **fields) -> bool:
    """Leave the SENDING state; a conditional UPDATE so nothing else's change is overwritten."""
    fields["updated_at"] = timezone.now()
    return bool(Notification.objects.filter(pk=notification.pk, status=Status.SENDING).update(**fields))


def notification_send(*, notification_id: int) -> str:
    """Send one queued notification (the Django-Q task). Returns what happened.

    Safe to run twice and from several workers: only the run that moves the row
    from queued to sending goes on to call the provider.
    """
    notification = (
        Notification.objects.select_related("user", "ride", "user__notification_preference")
        .filter(pk=notification_id)
        .first()
    )
    now = timezone.now()
    if notification is None or notification.status != Status.QUEUED or notification.next_attempt_at > now:
        return "skipped"
    if reason := _not_wanted_any_more(notification):
        Notification.objects.filter(pk=notification.pk, status=Status.QUEUED).update(
            status=Status.CANCELLED, last_error=reason, updated_at=now
        )
        NotificationAttempt.objects.create(
            notification=notification, started_at=now, outcome=AttemptOutcome.CANCELLED, error=reason
        )
        return "cancelled"
    # No lease: a row left in `sending` by a dying worker is recorded as an unknown attempt
    # and queued again by the sweep (notifications_requeue_interrupted), which looks first.
    claimed = claim_due_row(
        Notification.objects,
        pk=notification.pk,
        waiting_status=Status.QUEUED,
        now=now,
        status=Status.SENDING,
        last_attempt_at=now,
        to=_current_address(notification),
        updated_at=now,
    )
    if not claimed:
        return "skipped"  # another worker has it
    notification.refresh_from_db(fields=["attempts", "to", "status"])

    started = time.monotonic()
    try:
        result = reconciled = _already_sent(notification)
        if result is None:
            result = _deliver(notification)
    except SendError as exc:
        return _record_failure(notification, exc, now, started)
    except Exception as exc:  # a bug or an SDK surprise must not leave the row "sending"
        logger.exception("Unexpected error sending notification %s", notification.pk)
        # The provider may have accepted it before failing: a person checks before any retry.
        unexpected = SendError(
            f"Unexpected error, check before retrying: {exc!r}", permanent=True, code="error"
        )
        return _record_failure(notification, unexpected, now, started)
    elapsed = int((time.monotonic() - started) * 1000)
    _finish(
        notification,
        status=Status.SENT,
        provider_id=result.provider_id,
        sent_at=timezone.now(),
        last_error="",
        error_code="",
    )
    NotificationAttempt.objects.create(
        notification=notification,
        started_at=now,
        duration_ms=elapsed,
        outcome=AttemptOutcome.RECONCILED if reconciled else AttemptOutcome.SENT,
        provider_id=result.provider_id,
    )
    return "reconciled" if reconciled else "sent"


def _record_failure(notification: Notification, exc: SendError, now: datetime, started: float) -> str:
    elapsed = int((time.monotonic() - started) * 1000)
    retry_at = Backoff(settings.NOTIFY_RETRY_DELAYS).next_attempt_at(attempts=notification.attempts, now=now)
    give_up = exc.permanent or retry_at is None
    error = str(exc.message)
    if give_up and not exc.permanent:
        error = f"Gave up after {notification.attempts} attempts. Last error: {error}"
    if give_up:
        _finish(notification, status=Status.FAILED, last_error=error, error_code=exc.code)
    else:
        _finish(
            notification,
            status=Status.QUEUED,
            last_error=error,
            error_code=exc.code,
            next_attempt_at=retry_at,
            enqueued_at=None,  # the sweeper queues it again when it is due
        )
    NotificationAttempt.objects.create(
        notification=notification,
        started_at=now,
        duration_ms=elapsed,
        outcome=_attempt_outcome(exc, give_up=give_up),
        error_code=exc.code,
        error=error,
    )
    if exc.opted_out:
        # Twilio knows they replied STOP (maybe before we had the inbound webhook): remember it.
        sms_opt_out(phone=notification.to, word="21610")
    log = logger.warning if give_up else logger.info
    log("Notification %s %s: %s", notification.pk, "failed" if give_up else "will be retried", exc)
    return "failed" if give_up else "retry"


def _attempt_outcome(exc: SendError, *, give_up: bool) -> str:
    # An unknown outcome stays on record even when we give up, so that a person's retry
    # from the back office also looks the message up before sending it again.
    if exc.unknown:
        return AttemptOutcome.UNKNOWN
    return AttemptOutcome.FAILED if give_up else AttemptOutcome.RETRY


def notification_retry(*, notification: Notification, by) -> Notification:
    """Operations: send a failed message again, re-using its row (never a duplicate)."""
    if notification.status != Status.FAILED:
        raise DomainError("Only failed messages can be retried.", code="illegal_move")
    if notification.channel == Channel.SMS and preferences_of(notification.user).sms_opted_out:
        raise DomainError(
            "This customer replied STOP. They must text START before we can text them again.",
            code="not_allowed",
        )
    now = timezone.now()
    with transaction.atomic():
        updated = Notification.objects.filter(pk=notification.pk, status=Status.FAILED).update(
            status=Status.QUEUED,
            attempts=0,
            next_attempt_at=now,
            enqueued_at=now,
            last_error="",
            error_code="",
            updated_at=now,
        )
        if not updated:
            raise DomainError("Someone else has just retried this message.", code="conflict")
        NotificationAttempt.objects.create(
            notification=notification, started_at=now, outcome=AttemptOutcome.REQUEUED, by=by
        )
        enqueue_on_commit([notification.pk])
    notification.refresh_from_db()
    return notification
