"""Sending one message by SMS or email, and sorting failures into "try again" and "never".

A backend either returns a `SendResult` or raises `SendError(permanent=...)`.
Transient errors (network, timeouts, 5xx, rate limits, SMTP 4xx) are retried
with back-off by the send task; permanent ones (invalid number, recipient
opted out, address refused) fail at once. A transient error raised once the
request may have reached the provider (a timeout or a dropped connection after
it was written) is `unknown`: the provider may have accepted the message, so an
SMS is looked up at Twilio (`find_sent`) before it is sent again, and an email is
sent again with the same Message-ID.
"""

import logging
import smtplib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.utils.module_loading import import_string
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from project.accounts.sms import SmsNotSent

logger = logging.getLogger("notifications.sms")

# Twilio error codes (https://www.twilio.com/docs/api/errors).
TWILIO_OPTED_OUT = 21610  # the recipient replied STOP to our number
TWILIO_INVALID_TO = 21211
TWILIO_RETRYABLE = {20429, 20500, 20503, 30001}  # too many requests, internal errors, queue overflow


@dataclass(frozen=True)
class SendResult:
    provider_id: str


class SendError(Exception):
    def __init__(
        self, message: str, *, permanent: bool, code: str = "", opted_out: bool = False, unknown: bool = False
    ):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.code = str(code or "")
        self.opted_out = opted_out
        self.unknown = unknown  # the provider may have accepted it: reconcile before sending again

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.code else self.message


# --- SMS --------------------------------------------------------------------


class DevelopmentSmsBackend:
    """Records messages without sending them: they show in the worker's console
    and, like every message, in /ops/notifications/.

    Twilio's test numbers behave as they would with Twilio's test credentials, so
    failures can be tried out locally: +15005550001 is invalid (21211),
    +15005550004 has replied STOP (21610), +15005550009 is not a mobile (21614).
    """

    FAILURES = {
        "+15005550001": (TWILIO_INVALID_TO, "The 'To' number is not a valid phone number."),
        "+15005550004": (TWILIO_OPTED_OUT, "The recipient has replied STOP to this number."),
        "+15005550009": (21614, "The 'To' number is not a mobile number."),
    }

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> SendResult:
        if to in self.FAILURES:
            code, message = self.FAILURES[to]
            raise SendError(message, permanent=True, code=code, opted_out=code == TWILIO_OPTED_OUT)
        sid = f"SMdev{uuid.uuid4().hex[:29]}"
        logger.info("SMS to %s (development backend, not sent) [%s]\n    %s", to, sid, body)
        return SendResult(provider_id=sid)

    def find_sent(self, *, to: str, body: str, since: datetime, exclude: set[str]) -> SendResult | None:
        return None  # nothing leaves the machine, so nothing can have been half-sent


class _BaseUrlHttpClient(TwilioHttpClient):
    """The SDK's HTTP client, pointed at another host (TWILIO_API_URL: a local
    Twilio-compatible server in tests and offline development)."""

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        self.base = urlsplit(base_url)

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        url = urlunsplit((self.base.scheme, self.base.netloc, parts.path, parts.query, parts.fragment))
        return super().request(method, url, *args, **kwargs)


def twilio_worst_seconds() -> float:
    """The longest a send takes against a Twilio that stops answering: the timeout applies to
    connecting and again to waiting for the answer (the SDK's client does not retry)."""
    return 2 * settings.TWILIO_TIMEOUT_SECONDS


def email_worst_seconds() -> float:
    """The same for the mail server: connecting, then a greeting that never comes."""
    return 2 * settings.EMAIL_TIMEOUT


@lru_cache(maxsize=4)
def _twilio_client(account_sid: str, auth_token: str, api_url: str, timeout: float) -> Client:
    # One client (and its connection pool) per configuration, reused across sends.
    http = _BaseUrlHttpClient(api_url, timeout=timeout) if api_url else TwilioHttpClient(timeout=timeout)
    return Client(account_sid, auth_token, http_client=http)


class TwilioSmsBackend:
    """Twilio's Messages API through the official SDK."""

    def __init__(self):
        if not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN):
            raise SendError(
                "Twilio is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN).", permanent=True
            )
        if not (settings.TWILIO_FROM_NUMBER or settings.TWILIO_MESSAGING_SERVICE_SID):
            raise SendError(
                "Set TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID to send SMS.", permanent=True
            )
        self.client = _twilio_client(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            settings.TWILIO_API_URL,
            settings.TWILIO_TIMEOUT_SECONDS,
        )

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> SendResult:
        sender = (
            {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
            if settings.TWILIO_MESSAGING_SERVICE_SID
            else {"from_": settings.TWILIO_FROM_NUMBER}
        )
        extra = {"status_callback": status_callback} if status_callback else {}
        try:
            message = self.client.messages.create(to=to, body=body, **sender, **extra)
        except TwilioRestException as exc:
            raise twilio_error(exc) from exc
        except (requests.RequestException, TwilioException) as exc:
            if _never_connected(exc):
                raise SendError(f"Could not reach Twilio: {exc}", permanent=False) from exc
            raise SendError(
                f"No answer from Twilio after sending; it may have accepted the message: {exc}",
                permanent=False,
                code="unknown",
                unknown=True,
            ) from exc
        return SendResult(provider_id=message.sid)

    def find_sent(self, *, to: str, body: str, since: datetime, exclude: set[str]) -> SendResult | None:
        """The message Twilio accepted from an attempt whose answer we never got, if any.

        Twilio's Message resource does not echo our StatusCallback, so the marker is the
        recipient, the exact body and a creation time since the first unknown attempt
        (a minute of slack for clock skew), minus SIDs other notifications already own.
        Filtered here by `date_created`, not with Twilio's `DateSent` filter: a message
        still queued at Twilio has no send date yet. Newest first, so one page suffices.
        """
        try:
            messages = self.client.messages.list(to=to, limit=RECONCILE_LOOKBACK)
        except TwilioRestException as exc:
            raise twilio_error(exc) from exc
        except (requests.RequestException, TwilioException) as exc:
            raise SendError(f"Could not check at Twilio whether it was sent: {exc}", permanent=False) from exc
        after = since - timedelta(minutes=1)
        for message in messages:
            created = message.date_created
            if message.body == body and message.sid not in exclude and created and created >= after:
                return SendResult(provider_id=message.sid)
        return None


RECONCILE_LOOKBACK = 50  # recent messages to one number read when reconciling


def _never_connected(exc: Exception) -> bool:
    """True when the request cannot have reached Twilio: refused, or timed out connecting.
    Anything else (a read timeout, a reset) may come after Twilio took the message."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError)


def twilio_error(exc: TwilioRestException) -> SendError:
    """Rate limits and server errors are worth retrying; any other 4xx will fail the same way again."""
    status, code = int(exc.status or 0), exc.code
    transient = status == 429 or status >= 500 or status == 0 or code in TWILIO_RETRYABLE
    return SendError(
        exc.msg or f"Twilio answered {status}.",
        permanent=not transient,
        code=code or status,
        opted_out=code == TWILIO_OPTED_OUT,
    )


def sms_backend():
    return import_string(settings.SMS_BACKEND)()


def send_text(*, to: str, body: str) -> str:
    """A text outside the notification pipeline: accounts' one-time codes (registered as
    its SMS sender in `NotificationsConfig.ready`). No row, so the code is stored nowhere,
    and no delivery report: a person who gets nothing asks for another code."""
    try:
        return sms_backend().send(to=to, body=body).provider_id
    except SendError as exc:
        raise SmsNotSent(exc.message) from exc


# --- Email ------------------------------------------------------------------


def message_id_for(notification_id: int) -> str:
    """The same Message-ID on every attempt at one notification, so a receiver that got
    the first copy (its answer lost on the way back) can drop the second."""
    return f"<notification-{notification_id}@{urlsplit(settings.SITE_URL).hostname or 'localhost'}>"


def send_email(*, to: str, subject: str, text: str, html: str, notification_id: int) -> SendResult:
    try:
        validate_email(to)
    except ValidationError as exc:
        raise SendError(f"{to!r} is not a valid email address.", permanent=True, code="bad_address") from exc
    message_id = message_id_for(notification_id)
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        reply_to=[settings.NOTIFY_SUPPORT_EMAIL],  # a reply reaches a person, not a no-reply box
        headers={"Message-ID": message_id, "X-Whiskers-Notification": str(notification_id)},
    )
    if html:
        email.attach_alternative(html, "text/html")
    # Connecting apart from sending: a failure to connect means nothing went out, while
    # one later (the server took the data, then the reply never came) may have delivered it.
    email.connection = get_connection()
    try:
        email.connection.open()
    except smtplib.SMTPResponseException as exc:  # e.g. 535 authentication failed
        raise _smtp_error(exc.smtp_code, exc.smtp_error, "The mail server refused us") from exc
    except (smtplib.SMTPException, OSError) as exc:  # refused, no greeting
        raise SendError(f"Could not reach the mail server: {exc}", permanent=False) from exc
    answered = False
    try:
        email.send()
        answered = True
    except smtplib.SMTPRecipientsRefused as exc:
        answered = True
        code, reply = next(iter(exc.recipients.values()))
        raise _smtp_error(code, reply, "The mail server refused the address") from exc
    except smtplib.SMTPResponseException as exc:  # sender refused, data refused...
        answered = True
        raise _smtp_error(exc.smtp_code, exc.smtp_error, "The mail server refused the message") from exc
    except (smtplib.SMTPException, OSError) as exc:  # dropped or timed out mid-message
        raise SendError(
            f"The mail server stopped answering while sending; it may have taken the message: {exc}",
            permanent=False,
            code="unknown",
            unknown=True,
        ) from exc
    finally:
        _hang_up(email.connection, politely=answered)
    return SendResult(provider_id=message_id)


def _hang_up(backend, *, politely: bool) -> None:
    """QUIT a server that is answering; drop the socket of one that is not (a QUIT would
    wait a whole EMAIL_TIMEOUT more, and its error would hide the real one)."""
    smtp = getattr(backend, "connection", None)  # smtplib.SMTP for the SMTP backend
    if politely or smtp is None:
        backend.close()
        return
    smtp.close()
    backend.connection = None


def _smtp_error(code: int, reply, what: str) -> SendError:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    # SMTP: 4xx means "try again later", 5xx means "this will never work".
    return SendError(f"{what}: {text}", permanent=code >= 500, code=f"smtp {code}")
