"""The one entry point, `notify()`: who hears about an occasion, by which channels,
recorded once and queued for sending after commit."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings.models import Ride, RideEvent
from core.tasks import enqueue_on_commit as enqueue_task_on_commit
from notifications import triggers
from notifications.kinds import Email, Kind, spec_for
from notifications.models import Channel, Notification, NotificationPreference, Status
from notifications.rendering import render
from notifications.services.preferences import preferences_of
from notifications.triggers import REMINDER_STATUSES, Occasion, Planned
from project.accounts import sms

SEND_TASK = "notifications.tasks.send_notification"


def enqueue_on_commit(notification_ids: list[int]) -> None:
    """Each row is its own outbox item: the sweep queues any whose task never ran."""
    for pk in notification_ids:
        enqueue_task_on_commit(
            SEND_TASK, pk, queue="messages", task_name=f"notification-{pk}", group="notifications"
        )


def sms_refusal(user) -> str:
    """Why we may not text this person's number at all (empty: we may). Only the one-time
    code that verifies a number goes to an unverified one (accounts sends it)."""
    if not user.phone_is_verified:
        return "The number is not verified yet, so this went by email only."
    if not sms.country_allowed(user.phone):
        country = sms.country_of(user.phone) or "that country"
        return f"We don't text numbers in {country} (SMS_ALLOWED_COUNTRIES), so this went by email only."
    return ""


def _channels_for(planned: Planned, user, preference: NotificationPreference) -> list[tuple[str, str, str]]:
    """(channel, address, refusal) for one message to one person, from the kind, the
    occasion and their choices. A text they would get but we may not send has a refusal:
    it is recorded cancelled with it, so operations see why, and the email goes instead."""
    spec = spec_for(planned.kind)
    wants_sms = spec.sms and planned.by_sms and bool(user.phone) and not preference.sms_opted_out
    if wants_sms and spec.sms_optional:
        wants_sms = planned.kind not in preference.sms_muted_kinds
    refusal = sms_refusal(user) if wants_sms else ""
    texted = wants_sms and not refusal
    email = spec.email == Email.ALWAYS or (spec.email == Email.FALLBACK and not texted)
    found = []
    if wants_sms:
        found.append((Channel.SMS, str(user.phone), refusal))
    if email and user.email:
        found.append((Channel.EMAIL, user.email, ""))
    return found


def _create_once(planned: Planned, ride: Ride, channel: str, to: str, refusal: str, rendered, now: datetime):
    """Insert the row unless this exact notification exists; None when it does."""
    fields = {
        "user": planned.recipient,
        "ride": ride,
        "kind": planned.kind,
        "channel": channel,
        "occurrence": planned.occurrence,
    }
    if refusal:
        fields.update(status=Status.CANCELLED, last_error=refusal)
    if channel == Channel.SMS:
        content = {"message": rendered.sms}
    else:
        content = {"subject": rendered.subject[:200], "message": rendered.text, "message_html": rendered.html}
    try:
        with transaction.atomic():  # a savepoint: a lost race leaves the outer transaction usable
            return Notification.objects.create(
                **fields, **content, to=to, next_attempt_at=now, enqueued_at=now, created_at=now
            )
    except IntegrityError:
        return None


def notify(*, occasion: Occasion) -> list[Notification]:
    """The one entry point: decide who hears about `occasion` and how, record each
    message once, and queue its sending after commit. Safe to call twice: the
    second call finds every row already there and creates nothing."""
    ride = Ride.objects.select_related("customer", "driver").with_party().filter(pk=occasion.ride_id).first()
    if ride is None:
        return []
    event = None
    if occasion.event_id is not None:
        event = RideEvent.objects.filter(pk=occasion.event_id, ride=ride).first()
    if occasion.name in ("cancel", "expire", "reschedule"):
        reminders_cancel_outdated(ride=ride)
    # Render before taking the write lock (SQLite locks the whole database while writing).
    drafts = []
    for planned in triggers.plan(occasion, ride, event):
        user = planned.recipient
        if not user.is_active:
            continue
        existing = set(
            Notification.objects.filter(
                ride=ride, kind=planned.kind, user=user, occurrence=planned.occurrence
            ).values_list("channel", flat=True)
        )
        wanted = [
            entry for entry in _channels_for(planned, user, preferences_of(user)) if entry[0] not in existing
        ]
        if wanted:
            channels_wanted = {channel for channel, _to, _refusal in wanted}
            rendered = render(
                planned, ride, sms=Channel.SMS in channels_wanted, email=Channel.EMAIL in channels_wanted
            )
            drafts.append((planned, wanted, rendered))
    created: list[Notification] = []
    now = timezone.now()
    with transaction.atomic():
        for planned, wanted, rendered in drafts:
            for channel, to, refusal in wanted:
                if row := _create_once(planned, ride, channel, to, refusal, rendered, now):
                    created.append(row)
        enqueue_on_commit([row.pk for row in created if row.status == Status.QUEUED])
    return created


def reminders_cancel_outdated(*, ride: Ride) -> int:
    """Queued reminders for a time the ride no longer has (or a ride that is off)."""
    queued = Notification.objects.filter(ride=ride, kind=Kind.REMINDER, status=Status.QUEUED)
    if ride.status in REMINDER_STATUSES:
        queued = queued.exclude(occurrence__endswith=f"@{triggers.pickup_stamp(ride)}")
    return queued.update(
        status=Status.CANCELLED, last_error="The ride was moved or cancelled.", updated_at=timezone.now()
    )
