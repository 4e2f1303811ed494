"""Where higher apps (fleet, billing, ...) plug into the booking flow and pages,
without bookings importing them. Apps register in their AppConfig.ready().

1. The payment step of a booking: `register_payment_page(func)`. With none
   registered a booking is confirmed at once by `ride_confirm`, the same service
   the payment step calls.
2. Panels on a ride's page: `register_ride_panel(portal, func)` where portal is
   "customer" or "ops" and `func(request, ride) -> str | None` returns rendered
   HTML (or None to show nothing). The ride page shows them in order; each app
   checks its own permissions in its function.
"""

from collections.abc import Callable

from django.utils.safestring import mark_safe

_payment_page: Callable | None = None
_ride_panels: dict[str, list[Callable]] = {"customer": [], "ops": []}


def register_payment_page(func: Callable | None) -> None:
    """`func(ride) -> str`: the URL where the customer pays for a new booking (None: no payment step)."""
    global _payment_page
    _payment_page = func


def payment_required() -> bool:
    return _payment_page is not None


def payment_page_url(ride) -> str | None:
    return _payment_page(ride) if _payment_page else None


def register_ride_panel(portal: str, func: Callable) -> None:
    if func not in _ride_panels[portal]:
        _ride_panels[portal].append(func)


def ride_panels(portal: str, request, ride) -> list[str]:
    panels = (func(request, ride) for func in _ride_panels[portal])
    return [mark_safe(html) for html in panels if html]
