"""Django-Q entry points: they take ids, reload rows and are safe to run twice."""

from datetime import datetime

from fleet import services


def auto_dispatch(ride_id: int) -> bool:
    return services.ride_auto_dispatch(ride_id=ride_id) is not None


def dispatch_waiting_rides() -> int:
    return services.dispatch_waiting_rides()


def send_driver_invite(user_id: int, requested_at: str) -> bool:
    return services.driver_invite_send(user_id=user_id, requested_at=datetime.fromisoformat(requested_at))
