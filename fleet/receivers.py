"""Fleet listens to ride moves: a ride that is (again) confirmed without a driver goes to
auto-dispatch, as does one whose fare has just been secured (a ride is assigned only then).
Receivers only queue work (bookings.signals; connected in FleetConfig.ready)."""

from bookings.models import Ride, RideStatus, Trip
from fleet.services import queue_auto_dispatch

# Moves after which a ride waits for a driver: paid, declined by its driver, rescheduled off
# the driver who was only free at the old time, or an open return just called.
DISPATCH_AFTER = {"confirm", "decline", "reschedule", "call_return"}


def dispatch_when_confirmed(sender, *, ride_id, move, to_status, **kwargs):
    if move in DISPATCH_AFTER and to_status == RideStatus.CONFIRMED:
        queue_auto_dispatch(ride_id)
    elif move in ("assign", "reassign"):
        # A wait-and-return's return goes to the driver now holding its outbound.
        back = Ride.objects.filter(
            outbound_id=ride_id, trip=Trip.WAIT_RETURN, status=RideStatus.CONFIRMED, driver__isnull=True
        ).values_list("pk", flat=True)
        for back_id in back:
            queue_auto_dispatch(back_id)


def dispatch_when_paid(sender, *, ride_id, **kwargs):
    queue_auto_dispatch(ride_id)
