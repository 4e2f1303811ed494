"""The "Messages" panel on the back office's ride page (bookings.panels)."""

from django.template.loader import render_to_string

from notifications import selectors


def ops_ride_panel(request, ride) -> str | None:
    return render_to_string(
        "notifications/panels/ops.html",
        {"ride": ride, "notifications": selectors.ride_notifications(ride)},
        request=request,
    )
