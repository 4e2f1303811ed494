"""Fixtures for notifications: a real SMTP server (aiosmtpd), strict templates, and reading
what was recorded. The local Twilio (`twilio`) is shared with accounts' tests: fixtures.py;
`committed` is in tests/conftest.py."""

import asyncio
import socket
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from django.template import TemplateSyntaxError

from notifications.models import Notification

# --- A real SMTP server ----------------------------------------------------------------


class RecordingSmtpHandler:
    """Accepts mail like a real server; `refuse` maps an address to an SMTP reply for RCPT.

    `after_data_next` makes the next messages be kept without the final reply, one per
    entry: "drop" hangs up at once, "hang" answers only after `hang_seconds`."""

    def __init__(self):
        self.messages = []
        self.refuse: dict[str, str] = {}
        self.after_data_next: list[str] = []
        self.hang_seconds = 1.0

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
        misbehave = self.after_data_next.pop(0) if self.after_data_next else ""
        if misbehave == "drop":
            server.transport.close()
        elif misbehave == "hang":
            await asyncio.sleep(self.hang_seconds)
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
