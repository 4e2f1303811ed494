"""A Twilio or mail server that accepts the connection and never answers fails the send as
worth retrying, inside a web request's budget (phone codes and sign-up emails are sent while
the person waits) and so well inside a task's time limit."""

import time

import pytest

from notifications.channels import SendError, send_email, sms_backend


def test_a_text_to_a_hung_twilio_fails_for_a_retry_within_the_budget(twilio, hung_server, settings):
    settings.TWILIO_API_URL = hung_server

    started = time.monotonic()
    with pytest.raises(SendError) as failed:
        sms_backend().send(to="+12125550123", body="Your pickup is at 9:00")
    elapsed = time.monotonic() - started

    assert not failed.value.permanent
    # The request went and no answer came: Twilio may have the text, so the retry looks first.
    assert failed.value.message.startswith("No answer from Twilio after sending")
    assert failed.value.unknown
    assert settings.TWILIO_TIMEOUT_SECONDS <= elapsed < settings.WEB_REQUEST_BUDGET_SECONDS


def test_an_email_to_a_hung_mail_server_fails_for_a_retry_within_the_budget(
    smtp_server, hung_server, settings
):
    settings.EMAIL_PORT = int(hung_server.rsplit(":", 1)[1])  # accepts, never greets

    started = time.monotonic()
    with pytest.raises(SendError) as failed:
        send_email(to="ann@example.com", subject="Pickup", text="At 9:00", html="", notification_id=1)
    elapsed = time.monotonic() - started

    assert not failed.value.permanent
    assert (
        failed.value.message == "Could not reach the mail server: Connection unexpectedly closed: timed out"
    )
    assert settings.EMAIL_TIMEOUT <= elapsed < settings.WEB_REQUEST_BUDGET_SECONDS
