"""The "Messages" panel on the back office's ride page (via bookings.hooks)."""

from django.template.loader import render_to_string

from notifications import selectors


def ops_ride_panel(request, ride) -> str | None:
    if not (request.user.is_authenticated and request.user.is_admin):
        return None
    return render_to_string(
        "notifications/_ops_ride_panel.html",
        {"ride": ride, "notifications": selectors.ride_notifications(ride)},
        request=request,
    )
