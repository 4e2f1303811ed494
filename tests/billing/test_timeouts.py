"""Against a Stripe that accepts the connection and never answers, every call ends inside its
budget: checkout says "try again" well before the web server's worker timeout (30 s), and a
capture task records the error on its ledger row and is retried later, instead of being
killed by the task cluster with a pending row and no error text."""

import time
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from billing import services
from billing.gateway import worst_call_seconds
from billing.models import Transaction
from bookings.models import RideStatus
from tests.billing.test_checkout import checkout_url
from tests.billing.test_settlement import drive_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def default_timeouts(settings):
    """The shipped defaults (the suite otherwise turns the SDK's retries off)."""
    settings.STRIPE_CONNECT_TIMEOUT_SECONDS = 1
    settings.STRIPE_READ_TIMEOUT_SECONDS = 3
    settings.STRIPE_MAX_NETWORK_RETRIES = 1
    settings.WEB_REQUEST_BUDGET_SECONDS = 10


def test_checkout_against_a_hung_stripe_says_try_again_within_the_budget(
    customer_client, pending_ride, hung_server, settings, default_timeouts
):
    settings.STRIPE_API_BASE = hung_server

    started = time.monotonic()
    response = customer_client.get(checkout_url(pending_ride))
    elapsed = time.monotonic() - started

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "Please try again in a minute." in response.content.decode()
    # Two attempts of a 3 s wait, 0.5 s apart: the SDK did retry, and stopped in time.
    assert 6 <= elapsed < settings.WEB_REQUEST_BUDGET_SECONDS + 2
    pending_ride.refresh_from_db()
    assert pending_ride.status == RideStatus.PENDING_PAYMENT


def test_submitting_a_saved_card_to_a_hung_stripe_says_try_again_within_the_budget(
    customer_client, pending_ride, stripe_js, hung_server, settings, default_timeouts
):
    step = services.checkout_open(ride=pending_ride)
    stripe_js.save_card(step.client_secret)
    settings.STRIPE_API_BASE = hung_server  # Stripe hangs once the browser is done

    started = time.monotonic()
    response = customer_client.post(checkout_url(pending_ride))
    elapsed = time.monotonic() - started

    # Answered at once: a redirect would make the customer wait on the hung Stripe again.
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "Please try again in a minute." in response.content.decode()
    assert 6 <= elapsed < settings.WEB_REQUEST_BUDGET_SECONDS + 2
    pending_ride.refresh_from_db()
    assert pending_ride.status == RideStatus.PENDING_PAYMENT
    assert pending_ride.payments.get().status == "requires_card"  # the next try starts from here


def test_a_capture_against_a_hung_stripe_records_its_error_and_is_retried(
    pending_ride, pay, driver, photo, hung_server, settings, committed, default_timeouts
):
    pay(pending_ride)
    stripe_url = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = hung_server

    started = time.monotonic()
    with committed():  # the ride's completion runs the capture task
        drive_to(pending_ride, RideStatus.COMPLETED, driver, photo)
    elapsed = time.monotonic() - started

    assert elapsed < worst_call_seconds() + 2  # 8.5 s: well inside the task's 60 s limit
    capture = pending_ride.transactions.get(kind="capture")
    assert (capture.status, capture.attempts) == ("pending", 1)
    assert capture.error == "Attempt 1: The payment service could not be reached."
    assert timedelta(seconds=50) < capture.next_attempt_at - timezone.now() <= timedelta(minutes=1)

    settings.STRIPE_API_BASE = stripe_url  # Stripe answers again
    Transaction.objects.filter(pk=capture.pk).update(next_attempt_at=timezone.now())
    with committed():
        assert services.retry_due_transactions() == 1

    capture.refresh_from_db()
    assert (capture.status, capture.attempts) == ("succeeded", 2)
