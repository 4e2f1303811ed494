"""The one module that talks to Stripe, through the official SDK's StripeClient.

Configured from settings (STRIPE_SECRET_KEY, STRIPE_API_BASE, ...). With no keys
the app talks to localstripe, a local Stripe-compatible server, so every call
here sticks to parameters that both real Stripe and localstripe accept: no
`description`, `return_url`, `automatic_payment_methods`, refund `reason` or
cancel `cancellation_reason` (localstripe answers 400 to unknown parameters).
Every writing call carries an idempotency key (localstripe ignores them; real
Stripe replays the first answer), and the services look up before retrying
because of that.

Stripe objects are turned into small dataclasses here, so the rest of billing
never depends on the SDK's object model (in stripe 16 they are not dicts).
"""

import time
from dataclasses import dataclass, field
from functools import lru_cache

import stripe
from django.conf import settings


class InvalidWebhook(Exception):
    """A webhook whose body or signature does not check out."""


class GatewayError(Exception):
    """Stripe said no, or could not be reached.

    `transient` errors (network, rate limit, Stripe's 5xx, our keys) are worth
    retrying with the same idempotency key; the others (declines, invalid
    requests) will not change by retrying.
    """

    def __init__(self, message: str, *, code: str = "", transient: bool = False, intent_id: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code
        self.transient = transient
        self.intent_id = intent_id


@dataclass(frozen=True)
class Intent:
    """A PaymentIntent, as far as we use it."""

    id: str
    status: str  # requires_payment_method | requires_action | requires_capture | succeeded | canceled | ...
    amount: int
    currency: str
    client_secret: str = ""
    amount_capturable: int = 0
    amount_received: int = 0
    payment_method: str = ""
    charge_id: str = ""
    error: str = ""
    error_code: str = ""
    metadata: dict = field(default_factory=dict)
    created: int = 0  # Unix time
    customer: str = ""

    @classmethod
    def from_stripe(cls, data) -> "Intent":
        data = _as_dict(data)
        status = data.get("status") or ""
        amount = int(data.get("amount") or 0)
        charge = data.get("latest_charge")
        charge = charge if isinstance(charge, dict) else {"id": charge} if charge else {}
        # localstripe has neither amount_capturable nor amount_received: derive them.
        capturable = data.get("amount_capturable")
        if capturable is None:
            capturable = amount if status == "requires_capture" else 0
        received = data.get("amount_received")
        if received is None:
            received = (
                int(charge.get("amount", amount)) - int(charge.get("amount_refunded") or 0)
                if status == "succeeded"
                else 0
            )
        error = data.get("last_payment_error") or {}
        return cls(
            id=data["id"],
            status=status,
            amount=amount,
            currency=data.get("currency") or "usd",
            client_secret=data.get("client_secret") or "",
            amount_capturable=int(capturable),
            amount_received=int(received),
            payment_method=_id_of(data.get("payment_method")),
            charge_id=charge.get("id") or "",
            error=error.get("message") or "",
            error_code=error.get("code") or "",
            metadata=dict(data.get("metadata") or {}),
            created=int(data.get("created") or 0),
            customer=_id_of(data.get("customer")),
        )


@dataclass(frozen=True)
class SetupIntent:
    id: str
    status: str
    client_secret: str
    customer: str
    payment_method: str


@dataclass(frozen=True)
class Card:
    brand: str
    last4: str
    customer: str = ""  # the Stripe customer it is attached to, if any


@dataclass(frozen=True)
class SavedCard:
    """A card payment method attached to a Stripe customer."""

    id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class Refund:
    id: str
    amount: int
    status: str
    metadata: dict


def _as_dict(obj) -> dict:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _id_of(value) -> str:
    """An expandable field: an id (real Stripe) or the object itself (localstripe's latest_charge)."""
    if isinstance(value, dict):
        return value.get("id") or ""
    return value or ""


# How many pages of 100 PaymentIntents one look at the recent ones reads.
RECENT_PAGES = 20

TRANSIENT_ERRORS = (
    stripe.APIConnectionError,
    stripe.RateLimitError,
    stripe.AuthenticationError,  # our keys: fixable by operations, so retry later
    stripe.APIError,
)


def _translate(exc: stripe.StripeError) -> GatewayError:
    error = getattr(exc, "error", None)
    intent = getattr(error, "payment_intent", None) if error else None
    transient = isinstance(exc, TRANSIENT_ERRORS) or (exc.http_status or 0) >= 500
    if isinstance(exc, stripe.APIConnectionError):
        message = "The payment service could not be reached."
    else:
        message = exc.user_message or str(exc) or "The payment service refused the request."
    return GatewayError(
        message, code=exc.code or "", transient=transient, intent_id=_id_of(intent) if intent else ""
    )


class Gateway:
    def __init__(self, client: stripe.StripeClient):
        self._v1 = client.v1
        self._client = client

    def _call(self, method, *args, **kwargs):
        try:
            return method(*args, **kwargs)
        except stripe.StripeError as exc:
            raise _translate(exc) from exc

    # --- customers and cards -------------------------------------------------

    def create_customer(self, *, email: str, name: str, user_id: int, key: str) -> str:
        customer = self._call(
            self._v1.customers.create,
            params={"email": email, "name": name, "metadata": {"user_id": str(user_id)}},
            options={"idempotency_key": key},
        )
        return customer.id

    def customer_exists(self, customer_id: str) -> bool:
        try:
            self._call(self._v1.customers.retrieve, customer_id)
        except GatewayError as exc:
            if exc.transient:
                raise
            return False
        return True

    def create_setup_intent(self, *, customer: str, metadata: dict, key: str) -> SetupIntent:
        intent = self._call(
            self._v1.setup_intents.create,
            params={
                "customer": customer,
                "usage": "off_session",
                "payment_method_types": ["card"],
                "metadata": metadata,
            },
            options={"idempotency_key": key},
        )
        return self._setup_intent(intent)

    def retrieve_setup_intent(self, setup_intent_id: str) -> SetupIntent:
        return self._setup_intent(self._call(self._v1.setup_intents.retrieve, setup_intent_id))

    @staticmethod
    def _setup_intent(obj) -> SetupIntent:
        data = _as_dict(obj)
        return SetupIntent(
            id=data["id"],
            status=data.get("status") or "",
            client_secret=data.get("client_secret") or "",
            customer=_id_of(data.get("customer")),
            payment_method=_id_of(data.get("payment_method")),
        )

    def card_of(self, payment_method_id: str) -> Card:
        data = _as_dict(self._call(self._v1.payment_methods.retrieve, payment_method_id))
        card = data.get("card") or {}
        return Card(
            brand=card.get("brand") or "card",
            last4=card.get("last4") or "",
            customer=_id_of(data.get("customer")),
        )

    def attach_card(self, payment_method_id: str, *, customer: str, key: str) -> None:
        """Attach a card to a customer, so it is listed (and removable) there. Real Stripe does
        this itself when a customer's SetupIntent succeeds; localstripe does not."""
        self._call(
            self._v1.payment_methods.attach,
            payment_method_id,
            params={"customer": customer},
            options={"idempotency_key": key},
        )

    def customer_cards(self, customer_id: str, *, max_pages: int = 5) -> list[SavedCard]:
        """The card payment methods saved on a Stripe customer (at most `max_pages` pages of 100)."""
        cards, after = [], None
        for _page in range(max_pages):
            params = {"customer": customer_id, "type": "card", "limit": 100}
            if after:
                params["starting_after"] = after
            page = self._call(self._v1.payment_methods.list, params=params)
            for obj in page.data:
                data = _as_dict(obj)
                card = data.get("card") or {}
                cards.append(
                    SavedCard(
                        id=data["id"],
                        brand=card.get("brand") or "card",
                        last4=card.get("last4") or "",
                        exp_month=int(card.get("exp_month") or 0),
                        exp_year=int(card.get("exp_year") or 0),
                    )
                )
            if not page.has_more or not page.data:
                break
            after = page.data[-1]["id"]
        return cards

    def detach_card(self, payment_method_id: str, *, key: str) -> None:
        """Take a saved card off its customer: it can no longer be charged."""
        self._call(self._v1.payment_methods.detach, payment_method_id, options={"idempotency_key": key})

    # --- holds, captures, voids --------------------------------------------------

    def create_hold(
        self,
        *,
        amount: int,
        currency: str,
        customer: str,
        payment_method: str,
        off_session: bool,
        metadata: dict,
        key: str,
    ) -> Intent:
        """A PaymentIntent with manual capture, confirmed at once with a saved card."""
        params = {
            "amount": amount,
            "currency": currency,
            "customer": customer,
            "payment_method": payment_method,
            "payment_method_types": ["card"],
            "capture_method": "manual",
            "confirm": True,
            "metadata": metadata,
        }
        if off_session:
            params["off_session"] = True
        return Intent.from_stripe(
            self._call(self._v1.payment_intents.create, params=params, options={"idempotency_key": key})
        )

    def retrieve_intent(self, intent_id: str) -> Intent:
        return Intent.from_stripe(self._call(self._v1.payment_intents.retrieve, intent_id))

    def recent_intents(self, *, since: int, max_pages: int = RECENT_PAGES) -> list[Intent]:
        """The PaymentIntents created at or after `since` (Unix time), at most `max_pages` pages.

        Filtered here, not with `created[gte]`: localstripe refuses that parameter (400) and
        lists oldest first, while real Stripe lists newest first. So every page is read (up
        to the cap, which real Stripe's order makes the newest ones)."""
        intents, after = [], None
        for _page in range(max_pages):
            params = {"limit": 100, **({"starting_after": after} if after else {})}
            page = self._call(self._v1.payment_intents.list, params=params)
            intents += [Intent.from_stripe(obj) for obj in page.data]
            if not page.has_more or not page.data:
                break
            after = page.data[-1]["id"]
        return [intent for intent in intents if intent.created >= since]

    def capture(self, *, intent_id: str, amount: int, key: str) -> Intent:
        """Take `amount` of the hold; Stripe releases the rest."""
        return Intent.from_stripe(
            self._call(
                self._v1.payment_intents.capture,
                intent_id,
                params={"amount_to_capture": amount},
                options={"idempotency_key": key},
            )
        )

    def cancel(self, *, intent_id: str, key: str) -> Intent:
        return Intent.from_stripe(
            self._call(self._v1.payment_intents.cancel, intent_id, options={"idempotency_key": key})
        )

    # --- refunds ---------------------------------------------------------------

    def refund(self, *, intent_id: str, amount: int, metadata: dict, key: str) -> Refund:
        refund = self._call(
            self._v1.refunds.create,
            params={"payment_intent": intent_id, "amount": amount, "metadata": metadata},
            options={"idempotency_key": key},
        )
        return self._refund(refund)

    def refunds_of(self, intent_id: str) -> list[Refund]:
        page = self._call(self._v1.refunds.list, params={"payment_intent": intent_id, "limit": 100})
        return [self._refund(refund) for refund in page.data]

    @staticmethod
    def _refund(obj) -> Refund:
        data = _as_dict(obj)
        return Refund(
            id=data["id"],
            amount=int(data.get("amount") or 0),
            status=data.get("status") or "",
            metadata=dict(data.get("metadata") or {}),
        )

    # --- webhooks ----------------------------------------------------------------

    def parse_webhook(self, payload: bytes, signature: str) -> dict:
        """Verify the signature on the raw body and return the event as a dict.

        Raises InvalidWebhook for a missing or wrong signature, a timestamp outside
        WEBHOOK_TOLERANCE either way or bad JSON. (The SDK refuses only old timestamps; one
        far in the future would keep a captured request replayable for as long.)
        """
        if not signature:
            raise InvalidWebhook("Missing Stripe-Signature header.")
        try:
            event = self._client.construct_event(
                payload, signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=WEBHOOK_TOLERANCE
            )
        except stripe.SignatureVerificationError as exc:
            raise InvalidWebhook("Bad signature.") from exc
        except ValueError as exc:
            raise InvalidWebhook("Bad payload.") from exc
        event = _as_dict(event)
        latest = time.time() + WEBHOOK_TOLERANCE
        if _signed_at(signature) > latest or int(event.get("created") or 0) > latest:
            raise InvalidWebhook("Timestamp in the future.")
        return event


# How far a webhook's timestamps may be from our clock, either way (Stripe's default).
WEBHOOK_TOLERANCE = stripe.Webhook.DEFAULT_TOLERANCE


def _signed_at(signature: str) -> int:
    """The timestamp a verified Stripe-Signature header was signed with: its first `t=`, as
    the SDK reads it."""
    for item in signature.split(","):
        key, _, value = item.partition("=")
        if key == "t":
            return int(value)
    raise InvalidWebhook("Missing timestamp.")


@lru_cache(maxsize=4)
def _gateway_for(api_key: str, api_base: str, retries: int, timeouts: tuple[float, float]) -> Gateway:
    base = {"api": api_base} if api_base else None
    # The SDK retries network errors and timeouts itself, with the same idempotency key.
    http = stripe.RequestsClient(timeout=timeouts)
    return Gateway(
        stripe.StripeClient(api_key, base_addresses=base, max_network_retries=retries, http_client=http)
    )


def get_gateway() -> Gateway:
    return _gateway_for(
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE,
        settings.STRIPE_MAX_NETWORK_RETRIES,
        (settings.STRIPE_CONNECT_TIMEOUT_SECONDS, settings.STRIPE_READ_TIMEOUT_SECONDS),
    )


def worst_call_seconds() -> float:
    """The longest one gateway call can take against a Stripe that stops answering: every
    attempt waits out both timeouts, with the SDK's longest back-off between attempts."""
    retries = settings.STRIPE_MAX_NETWORK_RETRIES
    attempt = settings.STRIPE_CONNECT_TIMEOUT_SECONDS + settings.STRIPE_READ_TIMEOUT_SECONDS
    first, longest = stripe.HTTPClient.INITIAL_DELAY, stripe.HTTPClient.MAX_DELAY
    sleeps = sum(max(first, min(first * 2 ** (n - 1), longest)) for n in range(1, retries + 1))
    return attempt * (1 + retries) + sleeps
