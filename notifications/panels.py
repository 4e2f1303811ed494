"""The "Messages" panel on the back office's ride page (bookings.panels)."""

from django.template.loader import render_to_string
from django.urls import reverse

from bookings.panels import Attention
from notifications import selectors


def ops_ride_panel(request, ride) -> str | None:
    return render_to_string(
        "notifications/panels/ops.html",
        {"ride": ride, "notifications": selectors.ride_notifications(ride)},
        request=request,
    )


def attention() -> list[Attention]:
    """Messages that failed for good (a person must retry or fix the address) and messages
    waiting longer than the sweep allows (their task was lost or the workers are down)."""
    counts = selectors.messages_needing_attention()
    url = reverse("notifications_ops:list")
    return [
        Attention("Messages that failed", counts["failed"], f"{url}?status=failed"),
        Attention("Messages waiting too long to send", counts["stuck"], f"{url}?status=queued"),
    ]
