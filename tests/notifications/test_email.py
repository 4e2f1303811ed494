"""Email through a real SMTP server (aiosmtpd, started by the test), parsed as it arrived."""

import socket

import pytest
from django.utils import timezone

from notifications import services
from notifications.models import AttemptOutcome, Notification, Status
from notifications.services import notification_send, notify
from notifications.triggers import Occasion

pytestmark = pytest.mark.django_db


def test_confirmation_email_arrives_as_text_and_html(ride, customer, smtp_server, settings, committed):
    with committed():
        notify(occasion=Occasion("confirm", ride.pk))

    email = Notification.objects.get(channel="email")
    assert email.status == Status.SENT
    [received] = smtp_server.messages
    message = received["message"]
    assert received["to"] == [customer.email]
    assert received["from"] == "rides@whiskers.example"
    assert message["Subject"] == email.subject
    assert message["Subject"].startswith(f"Booked: {ride.party_pets[0].name}'s ride on ")
    assert message["Message-ID"] == email.provider_id
    assert message["X-Whiskers-Notification"] == str(email.pk)
    assert message["Reply-To"] == settings.NOTIFY_SUPPORT_EMAIL
    assert message.get_content_type() == "multipart/alternative"

    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for body in (text, html):
        assert f"Hi {customer.get_short_name()}," in body
        assert ride.pickup_address in body
        assert f"{settings.SITE_URL}/app/rides/{ride.pk}/" in body
    assert "<h1" in html and f"{ride.party_pets[0].name}'s ride is booked" in html
    assert "<" not in text


@pytest.mark.parametrize(
    ("reply", "status", "permanent"),
    [
        ("550 5.1.1 No such user here", Status.FAILED, True),
        ("451 4.3.0 Mailbox busy, try again later", Status.QUEUED, False),
    ],
)
def test_refused_addresses_are_sorted_by_smtp_code(
    ride, customer, smtp_server, committed, reply, status, permanent
):
    smtp_server.refuse[customer.email] = reply
    with committed():
        notify(occasion=Occasion("confirm", ride.pk))
    email = Notification.objects.get(channel="email")
    assert email.status == status
    assert email.error_code == f"smtp {reply[:3]}"
    assert reply.split(" ", 2)[2] in email.last_error
    assert smtp_server.messages == []


@pytest.mark.parametrize("misbehave", ["drop", "hang"])
def test_a_resent_email_carries_the_same_message_id(ride, smtp_server, settings, committed, misbehave):
    """The server took the message, then hung up or went quiet before saying so: SMTP
    cannot be asked what it kept, so the email goes again (at least once) under the
    same Message-ID, for the receiver to drop the copy."""
    settings.EMAIL_TIMEOUT = 0.3
    settings.SITE_URL = "https://whiskers.example"
    smtp_server.after_data_next = [misbehave]
    with committed():
        notify(occasion=Occasion("confirm", ride.pk))
    email = Notification.objects.get(channel="email")
    assert email.status == Status.QUEUED and email.error_code == "unknown"
    assert "may have taken the message" in email.last_error

    Notification.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
    with committed():
        services.notifications_run_due()

    email.refresh_from_db()
    first, second = (received["message"] for received in smtp_server.messages)
    assert first["Message-ID"] == second["Message-ID"] == email.provider_id
    assert email.provider_id == f"<notification-{email.pk}@whiskers.example>"
    assert email.status == Status.SENT
    assert [a.outcome for a in email.attempt_log.all()] == [AttemptOutcome.UNKNOWN, AttemptOutcome.SENT]


def test_mail_server_down_is_transient(ride, settings, committed):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    with committed():
        notify(occasion=Occasion("confirm", ride.pk))
    email = Notification.objects.get(channel="email")
    assert email.status == Status.QUEUED and email.attempts == 1
    assert "Could not reach the mail server" in email.last_error


def test_a_bad_address_fails_without_trying(ride, customer, mailoutbox, committed):
    notify(occasion=Occasion("confirm", ride.pk))
    type(customer).objects.filter(pk=customer.pk).update(email="not-an-address")
    email = Notification.objects.get(channel="email")
    assert notification_send(notification_id=email.pk) == "failed"
    email.refresh_from_db()
    assert email.status == Status.FAILED and email.error_code == "bad_address"
    assert mailoutbox == []
