"""Demo messages: each demo ride's latest step, announced through the real entry
point, so `make run` shows texts and emails flowing (worker console, /ops/) at once.
Idempotent: the unique rule makes a second run create nothing."""

from bookings.models import Ride
from notifications.services import notify
from notifications.triggers import PLANNERS, Occasion


def seed(users) -> None:
    customers = [users["alice@example.com"], users["ben@example.com"]]
    rides = Ride.objects.filter(customer__in=customers).prefetch_related("events")
    for ride in rides:
        steps = [event for event in ride.events.all() if event.action in PLANNERS]
        if steps:
            last = steps[-1]
            notify(occasion=Occasion(name=last.action, ride_id=ride.pk, event_id=last.pk))
