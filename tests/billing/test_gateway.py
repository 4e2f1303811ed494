"""The Stripe gateway: what it sends (idempotency keys, only parameters both Stripe and
localstripe accept) and how it reads answers (latest_charge as an id or an object)."""

import pytest
import stripe

from billing.gateway import Gateway, GatewayError, Intent
from tests.billing.fixtures import NOWHERE


class RecordingClient(stripe.RequestsClient):
    """The SDK's own HTTP client, keeping a note of each request."""

    def __init__(self):
        super().__init__()
        self.sent = []

    def request(self, method, url, headers, post_data=None):
        self.sent.append((method.upper(), url, dict(headers or {}), post_data))
        return super().request(method, url, headers, post_data)


@pytest.fixture
def recorder():
    return RecordingClient()


@pytest.fixture
def gateway(localstripe_url, recorder):
    return Gateway(
        stripe.StripeClient(
            "sk_test_localstripe", base_addresses={"api": localstripe_url}, http_client=recorder
        )
    )


def test_every_writing_call_carries_our_idempotency_key(gateway, recorder):
    customer = gateway.create_customer(email="a@example.com", name="A", user_id=1, key="k-customer")
    setup = gateway.create_setup_intent(customer=customer, metadata={"ride_id": "1"}, key="k-setup")
    hold = gateway.create_hold(
        amount=4200, currency="usd", customer=customer, payment_method="pm_card_visa",
        off_session=True, metadata={"ride_id": "1"}, key="k-hold",
    )  # fmt: skip
    assert hold.status == "requires_capture"
    gateway.capture(intent_id=hold.id, amount=2100, key="k-capture")
    refund = gateway.refund(intent_id=hold.id, amount=500, metadata={"transaction_id": "7"}, key="k-refund")
    other = gateway.create_hold(
        amount=999, currency="usd", customer=customer, payment_method="pm_card_visa",
        off_session=False, metadata={}, key="k-hold-2",
    )  # fmt: skip
    gateway.cancel(intent_id=other.id, key="k-cancel")

    sent = [(method, url, headers) for method, url, headers, _ in recorder.sent]
    posts = [
        (url.rsplit("/v1/", 1)[1], headers.get("Idempotency-Key"))
        for method, url, headers in sent
        if method == "POST"
    ]
    assert posts == [
        ("customers", "k-customer"),
        ("setup_intents", "k-setup"),
        ("payment_intents", "k-hold"),
        (f"payment_intents/{hold.id}/capture", "k-capture"),
        ("refunds", "k-refund"),
        ("payment_intents", "k-hold-2"),
        (f"payment_intents/{other.id}/cancel", "k-cancel"),
    ]
    assert setup.client_secret.startswith(setup.id)
    assert refund.amount == 500 and refund.metadata == {"transaction_id": "7"}


def test_reads_back_what_it_wrote(gateway):
    customer = gateway.create_customer(email="b@example.com", name="B", user_id=2, key="k2")
    hold = gateway.create_hold(
        amount=1500, currency="usd", customer=customer, payment_method="pm_card_visa",
        off_session=True, metadata={"ride_id": "9"}, key="k3",
    )  # fmt: skip

    intent = gateway.retrieve_intent(hold.id)

    assert (intent.status, intent.amount, intent.amount_capturable, intent.metadata) == (
        "requires_capture",
        1500,
        1500,
        {"ride_id": "9"},
    )
    assert intent.charge_id.startswith("ch_")  # localstripe sends latest_charge as an object
    assert gateway.card_of(intent.payment_method).last4 == "4242"


def test_a_decline_is_not_worth_retrying(gateway):
    customer = gateway.create_customer(email="c@example.com", name="C", user_id=3, key="k4")
    with pytest.raises(GatewayError) as declined:
        gateway.create_hold(
            amount=1500, currency="usd", customer=customer, payment_method="pm_card_chargeCustomerFail",
            off_session=True, metadata={}, key="k5",
        )  # fmt: skip
    assert (declined.value.code, declined.value.transient) == ("card_declined", False)
    assert declined.value.message == "Your card was declined."


def test_an_unreachable_stripe_is_worth_retrying():
    gateway = Gateway(
        stripe.StripeClient("sk_test_x", base_addresses={"api": NOWHERE}, max_network_retries=0)
    )

    with pytest.raises(GatewayError) as down:
        gateway.retrieve_intent("pi_123")

    assert down.value.transient
    assert down.value.message == "The payment service could not be reached."


@pytest.mark.parametrize(
    "latest_charge",
    ["ch_123", {"id": "ch_123", "amount": 4200, "amount_refunded": 0, "captured": True}],
    ids=["real-stripe-id", "localstripe-object"],
)
def test_latest_charge_as_an_id_or_an_object(latest_charge):
    intent = Intent.from_stripe(
        {
            "id": "pi_1",
            "status": "succeeded",
            "amount": 4200,
            "amount_received": 4200,
            "latest_charge": latest_charge,
        }
    )
    assert intent.charge_id == "ch_123"
    assert intent.amount_received == 4200


def test_missing_amounts_are_worked_out_as_localstripe_omits_them():
    held = Intent.from_stripe({"id": "pi_1", "status": "requires_capture", "amount": 4200})
    partly_captured = Intent.from_stripe(
        {"id": "pi_2", "status": "succeeded", "amount": 4200,
         "latest_charge": {"id": "ch_2", "amount": 4200, "amount_refunded": 2100}}
    )  # fmt: skip

    assert (held.amount_capturable, held.amount_received) == (4200, 0)
    assert partly_captured.amount_received == 2100
