"""Sending through the real Twilio SDK against a local Messages API: success, the
permanent failures (21211 invalid number, 21610 replied STOP), transient ones
retried with exponential back-off, and exactly-once claims."""

import base64
from datetime import timedelta

import pytest
from django.utils import timezone

from bookings import services as ride_services
from notifications import services
from notifications.models import (
    AttemptOutcome,
    Notification,
    NotificationAttempt,
    NotificationPreference,
    Status,
)
from notifications.services import notify
from notifications.triggers import Occasion
from project.accounts.models import User
from tests.factories import AdminFactory, CustomerFactory, make_ride
from tests.notifications.fixtures import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER

pytestmark = pytest.mark.django_db


def confirm_sms(ride, committed) -> Notification:
    """Announce a booking confirmation and return its SMS."""
    with committed():
        notify(occasion=Occasion("confirm", ride.pk))
    return Notification.objects.get(ride=ride, channel="sms")


def time_passes(notification: Notification) -> None:
    """Move the retry time into the past, as if the back-off had elapsed."""
    Notification.objects.filter(pk=notification.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def test_sms_goes_through_the_twilio_sdk_with_a_status_callback(ride, twilio, committed):
    sms = confirm_sms(ride, committed)

    assert sms.status == Status.SENT
    [request] = twilio.requests
    assert request["form"]["To"] == "+12125550123"
    assert request["form"]["From"] == FROM_NUMBER
    assert request["form"]["Body"] == sms.message
    assert request["form"]["StatusCallback"] == "https://whiskers.example/webhooks/twilio/status/"
    assert request["auth"] == "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert sms.provider_id == request["sid"]
    assert sms.attempts == 1 and sms.sent_at is not None
    assert [a.outcome for a in sms.attempt_log.all()] == [AttemptOutcome.SENT]


def test_a_messaging_service_replaces_the_sender_number(ride, twilio, settings, committed):
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "1" * 32
    confirm_sms(ride, committed)
    form = twilio.requests[0]["form"]
    assert form["MessagingServiceSid"] == "MG" + "1" * 32 and "From" not in form


def test_invalid_number_21211_fails_at_once_without_retry(ride, twilio, committed):
    twilio.fail_numbers["+12125550123"] = (
        400,
        21211,
        "The 'To' number +12125550123 is not a valid phone number.",
    )
    sms = confirm_sms(ride, committed)

    assert sms.status == Status.FAILED
    assert sms.error_code == "21211" and "not a valid phone number" in sms.last_error
    assert sms.attempts == 1
    # The sweep never picks a failed message up again.
    time_passes(sms)
    with committed():
        services.notifications_run_due()
    assert len(twilio.requests) == 1
    assert [a.outcome for a in sms.attempt_log.all()] == [AttemptOutcome.FAILED]
    # The email still went.
    assert Notification.objects.get(ride=ride, channel="email").status == Status.SENT


def test_replied_stop_21610_fails_and_stops_every_later_text(ride, customer, twilio, committed):
    twilio.fail_numbers["+12125550123"] = (400, 21610, "Attempt to send to unsubscribed recipient")
    sms = confirm_sms(ride, committed)

    assert sms.status == Status.FAILED and sms.error_code == "21610"
    preference = NotificationPreference.objects.get(user=customer)
    assert preference.sms_opted_out and preference.sms_opt_out_word == "21610"

    with committed():
        ride_services.ride_cancel(ride=ride, by=customer, reason="Plans changed")
    assert set(Notification.objects.filter(kind="ride_cancelled").values_list("channel", flat=True)) == {
        "email"
    }
    assert len(twilio.requests) == 1


@pytest.mark.parametrize(
    "error",
    [
        (500, 20500, "Internal Server Error"),
        (503, 20503, "Service Unavailable"),
        (429, 20429, "Too Many Requests"),
    ],
)
def test_transient_errors_are_retried_with_exponential_back_off(ride, twilio, settings, committed, error):
    settings.NOTIFY_RETRY_DELAYS = [timedelta(seconds=60), timedelta(seconds=120), timedelta(seconds=240)]
    twilio.fail_next = [error, error, error]
    started = timezone.now()
    sms = confirm_sms(ride, committed)

    delays = []
    for attempt in (1, 2, 3):
        sms.refresh_from_db()
        assert sms.status == Status.QUEUED and sms.attempts == attempt
        assert sms.error_code == str(error[1]) and sms.enqueued_at is None
        delays.append(round((sms.next_attempt_at - sms.last_attempt_at).total_seconds()))
        # Not due yet: the sweep leaves it alone.
        with committed():
            assert services.notifications_run_due()["requeued"] == 0
        time_passes(sms)
        with committed():
            assert services.notifications_run_due()["requeued"] == 1
    assert delays == [60, 120, 240]

    sms.refresh_from_db()
    assert sms.status == Status.SENT and sms.attempts == 4 and sms.last_error == ""
    assert sms.last_attempt_at >= started
    assert [a.outcome for a in sms.attempt_log.all()] == ["retry", "retry", "retry", "sent"]
    assert len(twilio.sent()) == 1


def test_transient_errors_give_up_after_the_attempt_limit(ride, twilio, settings, committed):
    settings.NOTIFY_RETRY_DELAYS = [timedelta(seconds=60)]  # two attempts
    twilio.fail_next = [(500, 20500, "Internal Server Error")] * 5
    sms = confirm_sms(ride, committed)
    time_passes(sms)
    with committed():
        services.notifications_run_due()
    sms.refresh_from_db()
    assert sms.status == Status.FAILED and sms.attempts == 2
    assert sms.last_error.startswith("Gave up after 2 attempts.")
    assert len(twilio.requests) == 2


def test_twilio_unreachable_is_transient(ride, twilio, settings, committed):
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.TWILIO_API_URL = f"http://127.0.0.1:{port}"  # nothing listens there
    sms = confirm_sms(ride, committed)
    assert sms.status == Status.QUEUED and sms.attempts == 1
    assert "Could not reach Twilio" in sms.last_error


@pytest.fixture
def twilio_times_out(twilio, settings):
    """Twilio answers later than our client waits."""
    settings.TWILIO_TIMEOUT_SECONDS = 0.3
    twilio.hang_seconds = 1.0
    return twilio


def test_a_text_twilio_took_before_timing_out_is_found_not_sent_again(ride, twilio_times_out, committed):
    twilio = twilio_times_out
    twilio.hang_next = ["after_accept"]
    sms = confirm_sms(ride, committed)

    [accepted] = twilio.sent()  # Twilio has it, but we never heard back
    assert sms.status == Status.QUEUED and sms.attempts == 1 and sms.error_code == "unknown"
    assert "may have accepted" in sms.last_error
    time_passes(sms)
    with committed():
        services.notifications_run_due()

    sms.refresh_from_db()
    assert sms.status == Status.SENT and sms.provider_id == accepted["sid"]
    assert len(twilio.requests) == 1  # looked up, not posted again
    assert [lookup["query"]["To"] for lookup in twilio.lookups] == ["+12125550123"]
    attempts = list(sms.attempt_log.all())
    assert [a.outcome for a in attempts] == [AttemptOutcome.UNKNOWN, AttemptOutcome.RECONCILED]
    assert attempts[1].provider_id == accepted["sid"]


def test_a_text_that_never_got_into_twilio_is_sent_on_retry(ride, twilio_times_out, committed):
    twilio = twilio_times_out
    twilio.hang_next = ["before_accept"]
    sms = confirm_sms(ride, committed)
    assert sms.status == Status.QUEUED and sms.error_code == "unknown" and twilio.sent() == []

    time_passes(sms)
    with committed():
        services.notifications_run_due()

    sms.refresh_from_db()
    [sent] = twilio.sent()
    assert sms.status == Status.SENT and sms.provider_id == sent["sid"]
    assert len(twilio.lookups) == 1
    assert [a.outcome for a in sms.attempt_log.all()] == [AttemptOutcome.UNKNOWN, AttemptOutcome.SENT]


def test_the_same_text_of_another_notification_is_not_taken_for_this_one(ride, twilio_times_out, committed):
    twilio = twilio_times_out
    sms = confirm_sms(ride, committed)  # sent; a second one with the same words and number follows
    twin = Notification.objects.create(
        user=sms.user, ride=None, channel="sms", kind=sms.kind, to=sms.to, message=sms.message
    )
    twilio.hang_next = ["before_accept"]
    assert services.notification_send(notification_id=twin.pk) == "retry"
    time_passes(twin)
    assert services.notification_send(notification_id=twin.pk) == "sent"
    twin.refresh_from_db()
    assert len(twilio.sent()) == 2 and twin.provider_id not in {sms.provider_id, ""}


def test_when_twilio_cannot_be_asked_nothing_is_sent(ride, twilio_times_out, settings, committed):
    twilio = twilio_times_out
    twilio.hang_next = ["after_accept"]
    sms = confirm_sms(ride, committed)
    time_passes(sms)
    twilio.fail_next = [(503, 20503, "Service Unavailable")]  # the lookup fails
    assert services.notification_send(notification_id=sms.pk) == "retry"
    sms.refresh_from_db()
    assert sms.status == Status.QUEUED and len(twilio.requests) == 1
    assert [a.outcome for a in sms.attempt_log.all()] == [AttemptOutcome.UNKNOWN, AttemptOutcome.RETRY]
    time_passes(sms)
    assert services.notification_send(notification_id=sms.pk) == "reconciled"
    assert len(twilio.sent()) == 1


def test_an_operator_retry_after_an_unknown_outcome_looks_first(ride, twilio_times_out, settings, committed):
    settings.NOTIFY_RETRY_DELAYS = []  # one attempt, then a person decides
    twilio = twilio_times_out
    twilio.hang_next = ["after_accept"]
    sms = confirm_sms(ride, committed)
    assert sms.status == Status.FAILED and sms.error_code == "unknown"

    with committed():
        services.notification_retry(notification=sms, by=AdminFactory())
    sms.refresh_from_db()
    assert sms.status == Status.SENT and sms.provider_id == twilio.sent()[0]["sid"]
    assert len(twilio.sent()) == 1


def test_missing_twilio_settings_fail_permanently(ride, twilio, settings, committed):
    settings.TWILIO_FROM_NUMBER = ""
    sms = confirm_sms(ride, committed)
    assert sms.status == Status.FAILED and "TWILIO_FROM_NUMBER" in sms.last_error
    assert twilio.requests == []


def test_a_message_is_sent_once_however_often_its_task_runs(ride, twilio, committed):
    sms = confirm_sms(ride, committed)
    assert services.notification_send(notification_id=sms.pk) == "skipped"
    assert services.notification_send(notification_id=sms.pk) == "skipped"
    assert len(twilio.requests) == 1


def test_a_row_claimed_by_another_worker_is_not_sent_again(ride, twilio):
    notify(occasion=Occasion("confirm", ride.pk))  # queued; its task never ran (no commit)
    sms = Notification.objects.get(channel="sms")
    Notification.objects.filter(pk=sms.pk).update(status=Status.SENDING)  # another worker has it
    assert services.notification_send(notification_id=sms.pk) == "skipped"
    assert twilio.requests == []


def test_a_lost_task_is_queued_again_by_the_sweep(ride, twilio, settings, committed):
    notify(occasion=Occasion("confirm", ride.pk))  # rows exist, but the broker lost the tasks
    Notification.objects.update(
        enqueued_at=timezone.now() - settings.NOTIFY_REQUEUE_AFTER - timedelta(seconds=1)
    )
    with committed():
        assert services.notifications_run_due()["requeued"] == 2
    assert set(Notification.objects.values_list("status", flat=True)) == {Status.SENT}
    assert len(twilio.requests) == 1


def test_a_send_interrupted_before_twilio_took_it_is_sent_by_the_sweep(ride, twilio, settings, committed):
    notify(occasion=Occasion("confirm", ride.pk))
    sms = Notification.objects.get(channel="sms")
    long_ago = timezone.now() - settings.NOTIFY_REQUEUE_AFTER - timedelta(minutes=1)
    # A worker claimed it (one attempt) and died before reaching Twilio.
    Notification.objects.filter(pk=sms.pk).update(status=Status.SENDING, last_attempt_at=long_ago, attempts=1)
    with committed():
        assert services.notifications_run_due()["interrupted"] == 1
    sms.refresh_from_db()
    assert sms.status == Status.SENT and sms.attempts == 2
    assert len(twilio.sent()) == 1  # looked up first (nothing there), then sent once
    assert [(a.outcome, a.error_code) for a in sms.attempt_log.order_by("started_at")] == [
        (AttemptOutcome.UNKNOWN, "interrupted"),
        (AttemptOutcome.SENT, ""),
    ]
    assert sms.attempt_log.order_by("started_at").first().started_at == long_ago


def test_a_send_interrupted_after_twilio_took_it_is_found_not_sent_again(ride, twilio, settings, committed):
    sms = confirm_sms(ride, committed)
    [accepted] = twilio.sent()
    # The worker died after Twilio took it, before recording it: the row is left sending.
    long_ago = timezone.now() - settings.NOTIFY_REQUEUE_AFTER - timedelta(minutes=1)
    Notification.objects.filter(pk=sms.pk).update(
        status=Status.SENDING, last_attempt_at=long_ago, provider_id="", sent_at=None
    )
    NotificationAttempt.objects.filter(notification=sms).delete()
    with committed():
        assert services.notifications_run_due()["interrupted"] == 1
    sms.refresh_from_db()
    assert sms.status == Status.SENT and sms.provider_id == accepted["sid"]
    assert len(twilio.sent()) == 1
    assert sms.attempt_log.order_by("-started_at").first().outcome == AttemptOutcome.RECONCILED


def test_an_email_interrupted_mid_send_goes_again_with_the_same_message_id(
    ride, settings, committed, mailoutbox
):
    notify(occasion=Occasion("confirm", ride.pk))
    email = Notification.objects.get(channel="email")
    with committed():
        assert services.notification_send(notification_id=email.pk) == "sent"
    [first] = mailoutbox
    long_ago = timezone.now() - settings.NOTIFY_REQUEUE_AFTER - timedelta(minutes=1)
    Notification.objects.filter(pk=email.pk).update(
        status=Status.SENDING, last_attempt_at=long_ago, sent_at=None
    )
    with committed():
        assert services.notifications_run_due()["interrupted"] == 1
    email.refresh_from_db()
    assert email.status == Status.SENT
    assert len(mailoutbox) == 2  # at least once over SMTP: the receiver drops the copy by its id
    assert mailoutbox[1].extra_headers["Message-ID"] == first.extra_headers["Message-ID"]


def test_a_send_interrupted_on_its_last_attempt_fails_for_a_person(ride, twilio, settings, committed):
    notify(occasion=Occasion("confirm", ride.pk))
    sms = Notification.objects.get(channel="sms")
    long_ago = timezone.now() - settings.NOTIFY_REQUEUE_AFTER - timedelta(minutes=1)
    last = len(settings.NOTIFY_RETRY_DELAYS) + 1
    Notification.objects.filter(pk=sms.pk).update(
        status=Status.SENDING, last_attempt_at=long_ago, attempts=last
    )
    with committed():
        assert services.notifications_run_due()["interrupted"] == 1
    sms.refresh_from_db()
    assert sms.status == Status.FAILED and sms.error_code == "interrupted"
    assert sms.last_error.startswith(f"Gave up after {last} attempts.")
    assert twilio.requests == []


def test_texts_queued_before_an_opt_out_are_not_sent(ride, customer, twilio):
    notify(occasion=Occasion("confirm", ride.pk))
    sms = Notification.objects.get(channel="sms")
    NotificationPreference.objects.create(
        user=customer, sms_opted_out_at=timezone.now(), sms_opt_out_word="STOP"
    )
    assert services.notification_send(notification_id=sms.pk) == "cancelled"
    sms.refresh_from_db()
    assert sms.status == Status.CANCELLED and "STOP" in sms.last_error
    assert twilio.requests == []


def test_a_corrected_phone_number_is_used_when_sending_once_verified(ride, customer, twilio):
    notify(occasion=Occasion("confirm", ride.pk))
    customer.phone = "+12125550199"
    customer.save()
    # The customer verified the new number (the code itself: tests/accounts/test_phone.py).
    User.objects.filter(pk=customer.pk).update(phone_verified_at=timezone.now())
    sms = Notification.objects.get(channel="sms")
    assert services.notification_send(notification_id=sms.pk) == "sent"
    assert twilio.requests[0]["form"]["To"] == "+12125550199"
    sms.refresh_from_db()
    assert sms.to == "+12125550199"


def test_a_queued_text_is_not_sent_to_a_new_number_nobody_verified(ride, customer, twilio):
    notify(occasion=Occasion("confirm", ride.pk))
    customer.phone = "+12125550199"
    customer.save()
    assert customer.phone_verified_at is None  # changing the number undoes the verification
    sms = Notification.objects.get(channel="sms")
    assert services.notification_send(notification_id=sms.pk) == "cancelled"
    sms.refresh_from_db()
    assert sms.status == Status.CANCELLED
    assert sms.last_error == "The number is not verified yet, so this went by email only."
    assert twilio.requests == []


def test_development_backend_records_without_sending(ride, committed, caplog):
    caplog.set_level("INFO", logger="notifications.sms")
    sms = confirm_sms(ride, committed)
    assert sms.status == Status.SENT and sms.provider_id.startswith("SMdev")
    assert "SMS to +12125550123 (development backend, not sent)" in caplog.text
    assert sms.message in caplog.text


@pytest.mark.parametrize(("number", "code"), [("+15005550001", "21211"), ("+15005550004", "21610")])
def test_development_backend_fails_like_twilio_test_numbers(number, code, committed):
    ride = make_ride(customer=CustomerFactory(phone=number))
    sms = confirm_sms(ride, committed)
    assert sms.status == Status.FAILED and sms.error_code == code


class ExplodingSmsBackend:
    """A backend with a bug: raises something that is not a SendError."""

    def send(self, **kwargs):
        raise RuntimeError("boom")


def test_an_unexpected_error_fails_the_message_for_a_person_to_check(ride, settings, committed):
    settings.SMS_BACKEND = f"{__name__}.ExplodingSmsBackend"
    sms = confirm_sms(ride, committed)
    assert sms.status == Status.FAILED and sms.error_code == "error"
    assert "RuntimeError('boom')" in sms.last_error and "check before retrying" in sms.last_error
    assert services.notification_send(notification_id=sms.pk) == "skipped"  # never on its own
