"""Panels on a ride's page, and counts on the back office's day page, from the apps above
bookings (fleet, billing, notifications), without bookings importing them.

`register_ride_panel(portal, func)` in the app's AppConfig.ready(), where
`func(request, ride) -> str | None` returns rendered HTML (None: nothing to show). The ride
page renders them in registration order. The page's own view has already checked who may
see the ride; the registry checks it once more for every panel (`PORTAL_ACCESS`), so a
panel never decides access itself.

`register_attention_source(func)`: counts for "Needs attention" on /ops/ (failing
messages, payment operations retrying), one aggregate query each."""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.safestring import mark_safe

PORTAL_ACCESS: dict[str, Callable] = {
    "customer": lambda user, ride: user.is_authenticated and user.is_customer and user.pk == ride.customer_id,
    "ops": lambda user, ride: user.is_authenticated and user.is_admin,
}
_ride_panels: dict[str, list[Callable]] = {portal: [] for portal in PORTAL_ACCESS}


def register_ride_panel(portal: str, func: Callable) -> None:
    if func not in _ride_panels[portal]:
        _ride_panels[portal].append(func)


def ride_panels(portal: str, request, ride) -> list[str]:
    if not PORTAL_ACCESS[portal](request.user, ride):
        return []
    panels = (func(request, ride) for func in _ride_panels[portal])
    return [mark_safe(html) for html in panels if html]


# --- "Needs attention" on /ops/ ----------------------------------------------------------


@dataclass(frozen=True)
class Attention:
    """Something operations should look at that is not one ride: failing messages, payment
    operations still retrying. Shown with its count, linking to the list that has them."""

    label: str
    count: int
    url: str


_attention_sources: list[Callable[[], list[Attention]]] = []


def register_attention_source(func: Callable[[], list[Attention]]) -> None:
    """`func() -> list[Attention]`, one cheap aggregate query; registered in AppConfig.ready()."""
    if func not in _attention_sources:
        _attention_sources.append(func)


def attention_counts() -> list[Attention]:
    """What every app reports needs looking at now (nothing with a zero count)."""
    return [item for source in _attention_sources for item in source() if item.count]
