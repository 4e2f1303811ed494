"""Twilio's callbacks: signatures (valid, forged, missing, behind a TLS proxy),
delivery reports, and STOP/START replies respected by every later send."""

import uuid
from http import HTTPStatus

import pytest
from django.urls import reverse
from twilio.request_validator import RequestValidator

from bookings import services as ride_services
from bookings.models import RideStatus
from notifications.models import Notification, NotificationPreference, Status, TwilioCallback
from notifications.services import notify
from notifications.triggers import Occasion
from tests.factories import make_ride
from tests.notifications.fixtures import AUTH_TOKEN, FROM_NUMBER

pytestmark = pytest.mark.django_db

PUBLIC = "https://whiskers.example"
STATUS_PATH = "/webhooks/twilio/status/"
INBOUND_PATH = "/webhooks/twilio/inbound/"


def sign(url: str, params: dict, token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def post_signed(client, path: str, params: dict, *, signed_url: str | None = None, **headers):
    signature = sign(signed_url or f"{PUBLIC}{path}", params)
    return client.post(path, params, headers={"X-Twilio-Signature": signature, **headers})


@pytest.fixture
def sent_sms(ride, twilio, committed) -> Notification:
    with committed():
        notify(occasion=Occasion("confirm", ride.pk))
    return Notification.objects.get(channel="sms", status=Status.SENT)


def report(sms, status, **extra):
    return {"MessageSid": sms.provider_id, "MessageStatus": status, "AccountSid": "AC" + "0" * 32, **extra}


def test_a_signed_delivery_report_marks_the_message_delivered(client, sent_sms):
    response = post_signed(client, STATUS_PATH, report(sent_sms, "delivered"))
    assert response.status_code == HTTPStatus.NO_CONTENT
    sent_sms.refresh_from_db()
    assert sent_sms.status == Status.DELIVERED and sent_sms.delivered_at is not None


@pytest.mark.parametrize(
    "headers",
    [
        {},  # missing
        {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},  # forged
    ],
    ids=["missing", "forged"],
)
def test_unsigned_or_forged_reports_are_refused_and_change_nothing(client, sent_sms, headers):
    response = client.post(STATUS_PATH, report(sent_sms, "delivered"), headers=headers)
    assert response.status_code == HTTPStatus.FORBIDDEN
    sent_sms.refresh_from_db()
    assert sent_sms.status == Status.SENT


def test_a_report_signed_with_another_token_is_refused(client, sent_sms):
    params = report(sent_sms, "delivered")
    bad = RequestValidator("someone-elses-token").compute_signature(f"{PUBLIC}{STATUS_PATH}", params)
    response = client.post(STATUS_PATH, params, headers={"X-Twilio-Signature": bad})
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_a_signature_for_changed_parameters_is_refused(client, sent_sms):
    signature = sign(f"{PUBLIC}{STATUS_PATH}", report(sent_sms, "failed"))
    response = client.post(
        STATUS_PATH, report(sent_sms, "delivered"), headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_without_a_twilio_token_every_callback_is_refused(client, sent_sms, settings):
    params = report(sent_sms, "delivered")
    signature = sign(f"{PUBLIC}{STATUS_PATH}", params)
    settings.TWILIO_AUTH_TOKEN = ""
    response = client.post(STATUS_PATH, params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_behind_a_tls_proxy_the_public_https_url_is_the_signed_one(client, sent_sms):
    # Django sees http://testserver/...; Twilio signed https://whiskers.example/... (SITE_URL).
    params = report(sent_sms, "delivered")
    response = post_signed(client, STATUS_PATH, params, signed_url=f"{PUBLIC}{STATUS_PATH}")
    assert response.status_code == HTTPStatus.NO_CONTENT
    sent_sms.refresh_from_db()
    assert sent_sms.status == Status.DELIVERED


def test_forwarded_proto_and_host_are_honoured_when_trusted(client, sent_sms, settings):
    settings.SITE_URL = "https://old-name.example"  # e.g. a second public host name
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.USE_X_FORWARDED_HOST = True
    settings.ALLOWED_HOSTS = ["testserver", "rides.whiskers.example"]
    params = report(sent_sms, "delivered")
    response = post_signed(
        client,
        STATUS_PATH,
        params,
        signed_url=f"https://rides.whiskers.example{STATUS_PATH}",
        **{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "rides.whiskers.example"},
    )
    assert response.status_code == HTTPStatus.NO_CONTENT


def test_http_signature_is_refused_when_twilio_called_https(client, sent_sms):
    params = report(sent_sms, "delivered")
    response = post_signed(client, STATUS_PATH, params, signed_url=f"http://whiskers.example{STATUS_PATH}")
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_reports_never_go_backwards(client, sent_sms):
    post_signed(client, STATUS_PATH, report(sent_sms, "delivered"))
    post_signed(client, STATUS_PATH, report(sent_sms, "sent"))  # arrives late
    post_signed(client, STATUS_PATH, report(sent_sms, "undelivered", ErrorCode="30003"))
    sent_sms.refresh_from_db()
    assert sent_sms.status == Status.DELIVERED


def test_an_undelivered_report_fails_the_message_with_the_carrier_code(client, sent_sms):
    response = post_signed(client, STATUS_PATH, report(sent_sms, "undelivered", ErrorCode="30003"))
    assert response.status_code == HTTPStatus.NO_CONTENT
    sent_sms.refresh_from_db()
    assert sent_sms.status == Status.FAILED and sent_sms.error_code == "30003"
    assert "undelivered" in sent_sms.last_error


def test_reports_for_unknown_messages_are_acknowledged(client, twilio):
    params = {"MessageSid": "SM" + "9" * 32, "MessageStatus": "delivered"}
    assert post_signed(client, STATUS_PATH, params).status_code == HTTPStatus.NO_CONTENT


def test_callbacks_only_accept_post(client, twilio):
    assert client.get(STATUS_PATH).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert client.get(INBOUND_PATH).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def inbound(body: str, number: str = "+12125550123", **extra) -> dict:
    """A text to our number, with its own MessageSid as every real one has."""
    return {"From": number, "To": FROM_NUMBER, "Body": body, "MessageSid": "SM" + uuid.uuid4().hex, **extra}


@pytest.mark.parametrize("word", ["STOP", "stop", "Stop.", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"])
def test_opt_out_words_stop_texts(client, customer, twilio, word):
    response = post_signed(client, INBOUND_PATH, inbound(word))
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/xml") and b"<Response>" in response.content
    assert NotificationPreference.objects.get(user=customer).sms_opted_out


def test_stop_then_a_new_booking_sends_email_but_no_sms(client, customer, pet, twilio, committed):
    queued_ride = make_ride(pet=pet)
    notify(occasion=Occasion("confirm", queued_ride.pk))  # queued, not sent yet
    queued_sms = Notification.objects.get(ride=queued_ride, channel="sms")

    assert post_signed(client, INBOUND_PATH, inbound("STOP")).status_code == HTTPStatus.OK
    queued_sms.refresh_from_db()
    assert queued_sms.status == Status.CANCELLED  # their queued texts are cancelled

    new_ride = make_ride(pet=pet, status=RideStatus.PENDING_PAYMENT)
    with committed():
        ride_services.ride_confirm(ride=new_ride)
    assert list(Notification.objects.filter(ride=new_ride).values_list("channel", "status")) == [
        ("email", Status.SENT)
    ]
    assert twilio.requests == []


def test_start_opts_back_in(client, customer, pet, twilio, committed):
    post_signed(client, INBOUND_PATH, inbound("STOP"))
    post_signed(client, INBOUND_PATH, inbound("start"))
    assert not NotificationPreference.objects.get(user=customer).sms_opted_out
    ride = make_ride(pet=pet)
    with committed():
        notify(occasion=Occasion("confirm", ride.pk))
    assert Notification.objects.get(ride=ride, channel="sms").status == Status.SENT


def test_advanced_opt_out_type_is_honoured(client, customer, twilio):
    post_signed(client, INBOUND_PATH, inbound("Please stop these", OptOutType="STOP"))
    assert NotificationPreference.objects.get(user=customer).sms_opted_out


@pytest.mark.parametrize("body", ["STOP PLEASE", "Hello, is my dog ok?", ""])
def test_other_texts_change_nothing(client, customer, twilio, body):
    response = post_signed(client, INBOUND_PATH, inbound(body))
    assert response.status_code == HTTPStatus.OK
    assert not NotificationPreference.objects.filter(user=customer, sms_opted_out_at__isnull=False).exists()


def test_a_forged_stop_is_refused(client, customer, twilio):
    response = client.post(INBOUND_PATH, inbound("STOP"), headers={"X-Twilio-Signature": "Zm9yZ2Vk"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not NotificationPreference.objects.filter(user=customer).exists()


def test_stop_from_an_unknown_number_is_harmless(client, customer, twilio):
    response = post_signed(client, INBOUND_PATH, inbound("STOP", number="+12125559999"))
    assert response.status_code == HTTPStatus.OK
    assert not NotificationPreference.objects.exists()


def test_webhook_urls(twilio):
    assert reverse("notifications_webhooks:twilio_status") == STATUS_PATH
    assert reverse("notifications_webhooks:twilio_inbound") == INBOUND_PATH


# --- Replays: each callback is applied once, by its message id -------------------------


def test_a_replayed_stop_after_start_changes_nothing(client, customer, pet, twilio, committed):
    stop = inbound("STOP")
    stop_signature = sign(f"{PUBLIC}{INBOUND_PATH}", stop)
    post_signed(client, INBOUND_PATH, stop)
    post_signed(client, INBOUND_PATH, inbound("START"))  # they changed their mind

    # Someone kept the signed STOP request and posts it again.
    response = client.post(INBOUND_PATH, stop, headers={"X-Twilio-Signature": stop_signature})
    assert response.status_code == HTTPStatus.OK and b"<Response>" in response.content
    assert not NotificationPreference.objects.get(user=customer).sms_opted_out
    ride = make_ride(pet=pet)
    with committed():
        notify(occasion=Occasion("confirm", ride.pk))
    assert Notification.objects.get(ride=ride, channel="sms").status == Status.SENT


def test_a_replayed_start_after_stop_texts_nobody(client, customer, twilio):
    start = inbound("START")
    post_signed(client, INBOUND_PATH, inbound("STOP"))
    post_signed(client, INBOUND_PATH, start)
    post_signed(client, INBOUND_PATH, inbound("STOP"))
    response = post_signed(client, INBOUND_PATH, start)  # the old START again
    assert response.status_code == HTTPStatus.OK
    assert NotificationPreference.objects.get(user=customer).sms_opted_out


def test_the_older_smssid_name_identifies_a_text_too(client, customer, twilio):
    stop = {"From": "+12125550123", "To": FROM_NUMBER, "Body": "STOP", "SmsSid": "SM" + uuid.uuid4().hex}
    post_signed(client, INBOUND_PATH, stop)
    post_signed(client, INBOUND_PATH, inbound("START"))
    post_signed(client, INBOUND_PATH, stop)
    assert not NotificationPreference.objects.get(user=customer).sms_opted_out


def test_a_replayed_delivery_report_is_acknowledged_and_changes_nothing(client, sent_sms):
    delivered = report(sent_sms, "delivered")
    assert post_signed(client, STATUS_PATH, delivered).status_code == HTTPStatus.NO_CONTENT
    sent_sms.refresh_from_db()
    first = (sent_sms.status, sent_sms.delivered_at, sent_sms.updated_at)
    assert post_signed(client, STATUS_PATH, delivered).status_code == HTTPStatus.NO_CONTENT
    sent_sms.refresh_from_db()
    assert (sent_sms.status, sent_sms.delivered_at, sent_sms.updated_at) == first
    assert TwilioCallback.objects.filter(message_sid=sent_sms.provider_id).count() == 1


def test_each_status_of_one_message_is_applied(client, sent_sms):
    post_signed(client, STATUS_PATH, report(sent_sms, "sent"))
    post_signed(client, STATUS_PATH, report(sent_sms, "undelivered", ErrorCode="30003"))
    sent_sms.refresh_from_db()
    assert sent_sms.status == Status.FAILED
