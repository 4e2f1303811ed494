"""The shared kernel every app builds on, one module per idea: `errors` (the one domain
exception), `dates` (days and the operations time zone), `money` (cents for people),
`pagination`, `filters` and `htmx` (list and page helpers), `retry` (claiming due rows and
backing off), `schedules` (the registry of every app's Django-Q schedules), `spreadsheets`
(safe CSV downloads), `middleware` (the Permissions-Policy), `checks` (deploy checks) and
`api` (the JSON API's plumbing).

It imports no other app of the project: `core` ← `accounts` ← `bookings` ← `fleet`,
`billing` ← `notifications` (checked by tests/test_architecture.py)."""
