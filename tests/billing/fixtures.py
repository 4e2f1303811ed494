"""Billing fixtures: a real localstripe process for the test session, and helpers that
do over HTTP exactly what localstripe's fake Stripe.js does in a browser.

Loaded for the whole suite by tests/conftest.py (`pytest_plugins`), so browser tests can use them too.
"""

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from http import HTTPStatus
from pathlib import Path

import pytest
from django.test.utils import override_settings

from bookings.models import RideStatus

PUBLISHABLE_KEY = "pk_test_localstripe"
WEBHOOK_SECRET = "whsec_test_secret"
GOOD_CARD = "4242424242424242"
DECLINED_AT_SAVE = "4000000000000002"  # declined when the card is saved
DECLINED_AT_CHARGE = "4000000000000341"  # saves fine, declined when charged
NEEDS_3DS = "4000002500003155"  # asks for 3-D Secure
# Nothing listens here: a test that reaches Stripe without asking for localstripe fails fast.
NOWHERE = "http://127.0.0.1:9"


def denied(allowed: str):
    """Parametrize a test over everyone but the `allowed` role: anonymous users are sent to
    log in, the other roles get 403. The test takes `client_name` and `expected`."""
    others = [
        (f"{role}_client", HTTPStatus.FORBIDDEN)
        for role in ("customer", "driver", "admin")
        if role != allowed
    ]
    return pytest.mark.parametrize(("client_name", "expected"), [("client", HTTPStatus.FOUND), *others])


@pytest.fixture(autouse=True, scope="session")
def _no_stray_stripe_calls():
    with override_settings(STRIPE_API_BASE=NOWHERE, STRIPE_MAX_NETWORK_RETRIES=0):
        yield


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def localstripe_url():
    """Start localstripe (a separate GPL process, never imported) on a free port for the session."""
    port = _free_port()
    executable = Path(sys.executable).with_name("localstripe")
    process = subprocess.Popen(
        [str(executable), "--port", str(port), "--from-scratch"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"{url}/js.stripe.com/v3/", timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("localstripe did not start")
            time.sleep(0.1)
    yield url
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def stripe_server(localstripe_url, settings):
    """Point the app at the session's localstripe."""
    settings.STRIPE_API_BASE = localstripe_url
    settings.STRIPE_JS_URL = f"{localstripe_url}/js.stripe.com/v3/"
    settings.STRIPE_SECRET_KEY = "sk_test_localstripe"
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    return localstripe_url


class FakeStripeJs:
    """The browser's side of Stripe, as localstripe's fake Stripe.js performs it."""

    def __init__(self, url: str):
        self.url = url

    def _post(self, path: str, body: dict) -> tuple[int, dict]:
        request = urllib.request.Request(f"{self.url}{path}", data=json.dumps(body).encode(), method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as exc:
            return exc.code, json.load(exc)

    def save_card(
        self, client_secret: str, number: str = GOOD_CARD, authenticate: bool = True
    ) -> tuple[int, dict]:
        """`stripe.confirmCardSetup(secret, {payment_method: {card}})`, 3-D Secure answered."""
        setup_id = client_secret.split("_secret_")[0]
        status, body = self._post(
            f"/v1/setup_intents/{setup_id}/confirm",
            {
                "key": PUBLISHABLE_KEY,
                "use_stripe_sdk": True,
                "client_secret": client_secret,
                "payment_method_data": {
                    "type": "card",
                    "card": {"number": number, "exp_month": "12", "exp_year": "2034", "cvc": "123"},
                    "billing_details": {"address": {"postal_code": "10024"}},
                },
            },
        )
        if status == 200 and body.get("status") == "requires_action":
            step = "confirm" if authenticate else "cancel"
            status, body = self._post(
                f"/v1/setup_intents/{setup_id}/{step}",
                {"key": PUBLISHABLE_KEY, "use_stripe_sdk": True, "client_secret": client_secret},
            )
        return status, body

    def confirm_payment(self, client_secret: str, success: bool = True) -> tuple[int, dict]:
        """`stripe.confirmCardPayment(secret)`: the bank's check, passed or failed."""
        intent_id = client_secret.split("_secret_")[0]
        return self._post(
            f"/v1/payment_intents/{intent_id}/_authenticate?success={'true' if success else 'false'}",
            {"key": PUBLISHABLE_KEY, "client_secret": client_secret},
        )


@pytest.fixture
def stripe_js(stripe_server):
    return FakeStripeJs(stripe_server)


@pytest.fixture
def pay(stripe_js, committed):
    """pay(ride, card=..., bank_ok=...) goes through checkout as the customer would (each step committed,
    so signals and queued tasks run); returns the last CheckoutStep."""
    from billing import services

    def do(ride, card: str = GOOD_CARD, bank_ok: bool = True):
        with committed():
            step = services.checkout_open(ride=ride)
        assert step.outcome == "card", step
        stripe_js.save_card(step.client_secret, card)
        with committed():
            step = services.checkout_submit(ride=ride, by=ride.customer)
        if step.outcome == "action":
            stripe_js.confirm_payment(step.client_secret, success=bank_ok)
            with committed():
                step = services.checkout_submit(ride=ride, by=ride.customer)
        ride.refresh_from_db()
        return step

    return do


@pytest.fixture
def payment_events():
    """Every payment_changed signal sent during the test, as (kind, ride_id, transaction_id)."""
    from billing.signals import payment_changed

    events = []

    def receiver(sender, *, ride_id, kind, transaction_id, **kwargs):
        events.append((kind, ride_id, transaction_id))

    payment_changed.connect(receiver, dispatch_uid="tests.payment_events")
    yield events
    payment_changed.disconnect(dispatch_uid="tests.payment_events")


@pytest.fixture
def pending_ride(pet):
    from tests.factories import make_ride

    return make_ride(pet=pet, status=RideStatus.PENDING_PAYMENT)
