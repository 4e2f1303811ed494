"""The shared kernel every app builds on, one module per idea: `errors` (the one domain
exception), `dates` (days and the operations time zone), `money` (cents for people),
`pagination` and `htmx` (page helpers), `api` (the JSON API's plumbing), `retry` (claiming
due rows and backing off), `schedules` (the registry of every app's Django-Q schedules).

It imports no other app of the project: `core` ← `accounts` ← `bookings` ← `fleet`,
`billing` ← `notifications` (checked by tests/test_architecture.py)."""
