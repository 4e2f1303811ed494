"""Fixtures for notifications: a local Twilio Messages API, a real SMTP server
(aiosmtpd) and strict templates (`committed` is in tests/conftest.py)."""

import json
import socket
import threading
import uuid
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from aiosmtpd.controller import Controller
from django.template import TemplateSyntaxError

from notifications.models import Notification

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token"
FROM_NUMBER = "+15005550006"


# --- A local Twilio ----------------------------------------------------------------


@dataclass
class FakeTwilio:
    """Speaks the part of Twilio's REST API we use: POST .../Accounts/{sid}/Messages.json.

    `fail_numbers` maps a number to a Twilio error (status, code, message) returned
    every time; `fail_next` holds errors returned once each, in order, before success.
    """

    url: str = ""
    requests: list[dict] = field(default_factory=list)
    fail_numbers: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    fail_next: list[tuple[int, int, str]] = field(default_factory=list)

    def sent(self) -> list[dict]:
        return [r for r in self.requests if r["status"] == HTTPStatus.CREATED]


def _twilio_handler(fake: FakeTwilio):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def _reply(self, status: int, body: dict):
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            expected_path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
            record = {"path": self.path, "form": form, "auth": self.headers.get("Authorization", "")}
            if self.path != expected_path:
                record["status"] = 404
                fake.requests.append(record)
                return self._reply(404, {"code": 20404, "message": "Not found", "status": 404})
            error = fake.fail_next.pop(0) if fake.fail_next else fake.fail_numbers.get(form.get("To"))
            if error:
                status, code, message = error
                record["status"] = status
                fake.requests.append(record)
                return self._reply(
                    status,
                    {
                        "code": code,
                        "message": message,
                        "more_info": f"https://www.twilio.com/docs/errors/{code}",
                        "status": status,
                    },
                )
            sid = "SM" + uuid.uuid4().hex
            record["status"] = HTTPStatus.CREATED
            record["sid"] = sid
            fake.requests.append(record)
            return self._reply(
                HTTPStatus.CREATED,
                {
                    "sid": sid,
                    "account_sid": ACCOUNT_SID,
                    "to": form.get("To"),
                    "from": form.get("From"),
                    "messaging_service_sid": form.get("MessagingServiceSid"),
                    "body": form.get("Body"),
                    "status": "queued",
                    "num_segments": "1",
                    "direction": "outbound-api",
                    "api_version": "2010-04-01",
                    "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
                },
            )

    return Handler


@pytest.fixture
def twilio_server():
    fake = FakeTwilio()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _twilio_handler(fake))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def twilio(twilio_server, settings):
    """Send SMS through the real Twilio SDK, to the local server."""
    settings.SMS_BACKEND = "notifications.channels.TwilioSmsBackend"
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = FROM_NUMBER
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_API_URL = twilio_server.url
    settings.SITE_URL = "https://whiskers.example"
    return twilio_server


# --- A real SMTP server ----------------------------------------------------------------


class RecordingSmtpHandler:
    """Accepts mail like a real server; `refuse` maps an address to an SMTP reply for RCPT."""

    def __init__(self):
        self.messages = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            {
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "message": message_from_bytes(envelope.content, policy=policy.default),
            }
        )
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    handler = RecordingSmtpHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    yield handler
    controller.stop()


# --- Strict templates ---------------------------------------------------------------------


class MissingVariable(str):
    """`string_if_invalid` that fails the render instead of printing nothing."""

    def __mod__(self, name):
        raise TemplateSyntaxError(f"Template variable {name!r} is missing")


@pytest.fixture
def strict_templates(settings):
    templates = [dict(engine) for engine in settings.TEMPLATES]
    for engine in templates:
        engine["OPTIONS"] = {**engine["OPTIONS"], "string_if_invalid": MissingVariable("%s")}
    settings.TEMPLATES = templates


# --- Reading results ------------------------------------------------------------------------


def sent(**filters) -> set[tuple[str, str, str]]:
    """(kind, channel, recipient email) of every notification matching `filters`."""
    rows = Notification.objects.filter(**filters).select_related("user")
    return {(n.kind, n.channel, n.user.email) for n in rows}
