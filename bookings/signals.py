"""Lifecycle signal: how the higher apps (fleet, billing, notifications) learn of
ride moves without the bookings app importing them.

`ride_moved` is sent once per move, after its transaction commits, with
`ride_id`, `move` (a name from `bookings.lifecycle.MOVES`, or "book"),
`from_status`, `to_status`, `actor_id` (None for the system) and `event_id`.
Receivers do side effects only (queue a task); they never change the ride inline.
"""

from django.dispatch import Signal

ride_moved = Signal()
