"""A local Twilio Messages API for the real Twilio SDK (`twilio` fixture), loaded for the
whole suite (tests/conftest.py): notifications send through it, and so do accounts' one-time
phone codes."""

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token"
FROM_NUMBER = "+15005550006"


# --- A local Twilio ----------------------------------------------------------------


@dataclass
class FakeTwilio:
    """Speaks the part of Twilio's REST API we use: POST .../Accounts/{sid}/Messages.json
        to send, GET on it (filtered by `To`, newest first) to list what was sent.

        `fail_numbers` maps a number to a Twilio error (status, code, message) returned
        every time; `fail_next` holds errors returned once each, in order, to the next requests
    (sends or lookups) before success.
        `hang_next` makes the next sends hang for `hang_seconds` and then hang up without an
        answer, one per entry: "after_accept" keeps the message (Twilio took it, the answer
        was lost), "before_accept" drops it (it never got in).
    """

    url: str = ""
    requests: list[dict] = field(default_factory=list)
    lookups: list[dict] = field(default_factory=list)
    fail_numbers: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    fail_next: list[tuple[int, int, str]] = field(default_factory=list)
    hang_next: list[str] = field(default_factory=list)
    hang_seconds: float = 1.0

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
            hang = fake.hang_next.pop(0) if fake.hang_next else ""
            if hang == "before_accept":
                time.sleep(fake.hang_seconds)
                record["status"] = "dropped"
                fake.requests.append(record)
                return  # the connection closes with no answer
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
            record["created"] = datetime.now(UTC)
            fake.requests.append(record)
            if hang == "after_accept":
                time.sleep(fake.hang_seconds)
                return  # accepted, but the answer never comes
            return self._reply(HTTPStatus.CREATED, _message_json(record))

        def do_GET(self):
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            fake.lookups.append({"path": url.path, "query": query})
            if url.path != f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
                return self._reply(404, {"code": 20404, "message": "Not found", "status": 404})
            if fake.fail_next:
                status, code, message = fake.fail_next.pop(0)
                return self._reply(status, {"code": code, "message": message, "status": status})
            found = [r for r in fake.sent() if query.get("To") in (None, r["form"].get("To"))]
            page_size = int(query.get("PageSize", 50))
            messages = [_message_json(r) for r in reversed(found)][:page_size]
            return self._reply(
                HTTPStatus.OK,
                {
                    "messages": messages,
                    "page": 0,
                    "page_size": page_size,
                    "first_page_uri": self.path,
                    "next_page_uri": None,
                    "previous_page_uri": None,
                    "uri": self.path,
                    "start": 0,
                    "end": len(messages) - 1,
                },
            )

    return Handler


def _message_json(record: dict) -> dict:
    form, sid = record["form"], record["sid"]
    return {
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
        "date_created": format_datetime(record["created"], usegmt=True),
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
    }


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
