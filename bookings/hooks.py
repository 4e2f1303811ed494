"""The one place a higher app plugs a step into booking: payment.

Billing registers a provider at start-up. With none registered (a deployment
without payments, or before billing existed) a booking is confirmed at once by
the same `ride_confirm` service the payment step calls.
"""

from collections.abc import Callable

_payment_page: Callable | None = None


def register_payment_page(func: Callable) -> None:
    """`func(ride) -> str`: the URL where the customer pays for a new booking."""
    global _payment_page
    _payment_page = func


def payment_required() -> bool:
    return _payment_page is not None


def payment_page_url(ride) -> str | None:
    return _payment_page(ride) if _payment_page else None
