"""Lifecycle signal: how the higher apps (fleet, billing, notifications) learn of
ride moves without the bookings app importing them.

`ride_moved` is sent once per move, inside the move's transaction, with
`ride_id`, `move` (a name from `bookings.lifecycle.MOVES`, or "book"),
`from_status`, `to_status`, `actor_id` (None for the system) and `event_id`.

`ride_payment_secured` (`ride_id`) is sent, inside the same transaction, when billing's secured amount
comes to cover the fare of a confirmed ride (`services.ride_set_payment_secured`), e.g.
the new hold after a reschedule to a pricier time, or the customer paying after a
failed hold: until then dispatch assigns it no driver.

Receivers run inside the change's transaction so that what they record commits or rolls
back with it: they record work with `core.outbox.defer` (done after commit, at least once,
whatever dies), and never do it inline or change the ride.
"""

from django.dispatch import Signal

ride_moved = Signal()
ride_payment_secured = Signal()
