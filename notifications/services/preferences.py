"""Choices people make about messages: SMS per kind on the preferences page, and
STOP/START replies by text (recorded from Twilio's inbound webhook or its 21610 error)."""

import re

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from core.errors import DomainError
from notifications.kinds import customer_sms_choices
from notifications.models import Channel, Notification, NotificationPreference, Status, TwilioCallback
from notifications.services.delivery import twilio_callback_first_time

# Twilio's opt-out and opt-in words (single-word replies, any case).
OPT_OUT_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
OPT_IN_WORDS = {"START", "YES", "UNSTOP"}


def preferences_of(user) -> NotificationPreference:
    """The user's saved preferences, or the defaults (unsaved) when they never chose."""
    try:
        return user.notification_preference
    except NotificationPreference.DoesNotExist:
        return NotificationPreference(user=user)


def preferences_update(*, user, sms_kinds: set[str]) -> NotificationPreference:
    """Save which kinds may come by SMS (only the optional ones can be switched off)."""
    optional = [spec.kind.value for spec in customer_sms_choices()]
    unknown = set(sms_kinds) - set(optional)
    if unknown:
        raise DomainError("Choose from the listed messages.", errors={"sms_kinds": ["Unknown choice."]})
    muted = [kind for kind in optional if kind not in sms_kinds]
    preference, _created = NotificationPreference.objects.update_or_create(
        user=user, defaults={"sms_muted_kinds": muted}
    )
    return preference


def _phone_users(phone: str):

    return get_user_model().objects.filter(phone=phone)


def sms_opt_out(*, phone: str, word: str) -> int:
    """Record an opt-out for everyone with this number and cancel their queued texts."""
    now = timezone.now()
    users = list(_phone_users(phone))
    with transaction.atomic():
        for user in users:
            NotificationPreference.objects.update_or_create(
                user=user, defaults={"sms_opted_out_at": now, "sms_opt_out_word": word[:20]}
            )
        cancelled = Notification.objects.filter(
            user__in=users, channel=Channel.SMS, status=Status.QUEUED
        ).update(status=Status.CANCELLED, last_error=f"The recipient replied {word}.", updated_at=now)
    return cancelled


def sms_opt_in(*, phone: str) -> int:
    users = list(_phone_users(phone))
    return NotificationPreference.objects.filter(user__in=users).update(
        sms_opted_out_at=None, sms_opt_out_word="", updated_at=timezone.now()
    )


def sms_inbound(*, message_sid: str, from_number: str, body: str, opt_out_type: str = "") -> str:
    """A text to our number, applied once per MessageSid. Twilio itself blocks or unblocks
    the sender on these words; we record it so that no later send even tries. Returns what
    it was ("duplicate" for a replay, which changes nothing)."""
    if not message_sid:
        return "ignored"  # Twilio always sends one; without it a replay could not be told apart
    word = opt_out_type.upper() or re.sub(r"[^A-Z]", "", (body or "").upper())
    with transaction.atomic():
        if not twilio_callback_first_time(kind=TwilioCallback.Kind.INBOUND, message_sid=message_sid):
            return "duplicate"
        if word in OPT_OUT_WORDS:
            sms_opt_out(phone=from_number, word=word)
            return "opted_out"
        if word in OPT_IN_WORDS:
            sms_opt_in(phone=from_number)
            return "opted_in"
    return "ignored"
