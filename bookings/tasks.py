"""Django-Q entry points for bookings (schedules registered in BookingsConfig.ready)."""

from bookings import services


def flag_returns_not_called() -> int:
    return services.returns_not_called()
