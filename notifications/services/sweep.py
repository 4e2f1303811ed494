"""The periodic sweep (a Django-Q schedule, every minute): due reminders, retries
whose time has come, lost tasks and sends interrupted by a dying worker."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from bookings.models import Ride, RideEvent
from core.retry import Backoff, due_rows
from notifications.kinds import Kind
from notifications.models import AttemptOutcome, Notification, NotificationAttempt, Status
from notifications.services.queueing import enqueue_on_commit, notify
from notifications.triggers import REMINDER_STATUSES, Occasion


def _reminder_leads() -> list[int]:
    return sorted({int(lead.total_seconds() // 60) for lead in settings.NOTIFY_REMINDER_LEADS}, reverse=True)


def rides_due_reminder(*, lead_minutes: int, until_minutes: int, now: datetime):
    """Open rides whose `lead` reminder is due now and not yet sent for their current time.

    Due: pickup is between `until` and `lead` from now (a scheduler that ran late
    still sends, but a reminder overtaken by the next one is skipped). Rides booked
    or moved inside the window skip it: the confirmation just told them.
    """
    lead, until = timedelta(minutes=lead_minutes), timedelta(minutes=until_minutes)
    last_reschedule = (
        RideEvent.objects.filter(ride=OuterRef("pk"), action__in=["reschedule", "call_return"])
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    already = Notification.objects.filter(
        ride=OuterRef("pk"),
        kind=Kind.REMINDER,
        occurrence__startswith=f"{lead_minutes}m@",
        created_at__gte=OuterRef("scheduled_since"),
    )
    return (
        Ride.objects.filter(
            status__in=REMINDER_STATUSES,
            scheduled_at__gt=now + until,
            scheduled_at__lte=now + lead,
            on_call_until__isnull=True,  # an open return has no pickup time to remind of yet
        )
        .annotate(scheduled_since=Coalesce(Subquery(last_reschedule), "created_at"))
        .filter(scheduled_since__lte=F("scheduled_at") - lead)
        .exclude(Exists(already))
        .values_list("pk", flat=True)
    )


def reminders_queue_due(*, now: datetime | None = None) -> int:
    """Create the reminders that are due (each once per ride, lead and pickup time)."""
    now = now or timezone.now()
    leads = _reminder_leads()
    created = 0
    for index, lead in enumerate(leads):
        until = leads[index + 1] if index + 1 < len(leads) else 0
        for ride_id in list(rides_due_reminder(lead_minutes=lead, until_minutes=until, now=now)):
            created += len(notify(occasion=Occasion("reminder", ride_id, lead_minutes=lead)))
    return created


def notifications_requeue_due(*, now: datetime) -> int:
    """Queue sends whose retry time has come, and any whose task was lost on the way."""
    lost_before = now - settings.NOTIFY_REQUEUE_AFTER
    due = due_rows(Notification.objects, waiting_status=Status.QUEUED, now=now).filter(
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=lost_before)
    )
    ids = list(due.values_list("pk", flat=True)[:1000])
    if ids:
        with transaction.atomic():
            Notification.objects.filter(pk__in=ids).update(enqueued_at=now)
            enqueue_on_commit(ids)
    return len(ids)


def notifications_requeue_interrupted(*, now: datetime) -> int:
    """A worker that died mid-send leaves its row in `sending`. The attempt is recorded with
    an unknown outcome and the row goes back to the queue: before sending again, a text is
    looked up at Twilio (found: marked sent, not resent); an email is sent again with the same
    Message-ID (SMTP is at-least-once). Past its last retry it is failed for a person."""
    stuck = Notification.objects.filter(
        status=Status.SENDING, last_attempt_at__lt=now - settings.NOTIFY_REQUEUE_AFTER
    )
    backoff = Backoff(settings.NOTIFY_RETRY_DELAYS)
    error = "The worker stopped while sending; the provider may have sent it."
    requeued, taken = [], 0
    for notification in stuck.only("pk", "last_attempt_at", "attempts"):
        retry = backoff.next_attempt_at(attempts=notification.attempts, now=now) is not None
        changes = (
            {"status": Status.QUEUED, "next_attempt_at": now, "enqueued_at": now}
            if retry
            else {"status": Status.FAILED, "error_code": "interrupted"}
        )
        last_error = error if retry else f"Gave up after {notification.attempts} attempts. {error}"
        with transaction.atomic():
            # Conditional per row: a send that finishes meanwhile keeps its outcome.
            if not stuck.filter(pk=notification.pk).update(**changes, last_error=last_error, updated_at=now):
                continue
            taken += 1
            NotificationAttempt.objects.create(
                notification=notification,
                started_at=notification.last_attempt_at,
                outcome=AttemptOutcome.UNKNOWN,
                error_code="interrupted",
                error=error,
            )
            if retry:
                requeued.append(notification.pk)
    enqueue_on_commit(requeued)
    return taken


def notifications_run_due(*, now: datetime | None = None) -> dict[str, int]:
    """The periodic sweep (a Django-Q schedule, every minute)."""
    now = now or timezone.now()
    return {
        "reminders": reminders_queue_due(now=now),
        "requeued": notifications_requeue_due(now=now),
        "interrupted": notifications_requeue_interrupted(now=now),
    }
