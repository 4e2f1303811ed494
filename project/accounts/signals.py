"""Account signals: how the apps above accounts (bookings, notifications) take part in
deleting an account without accounts importing them (tests/test_architecture.py).

`account_deletion_check` (`user`) is sent before an account is deleted and when the
deletion page is shown: a receiver returns why the account cannot be deleted now (a
sentence for its owner, e.g. "You have 2 open rides: cancel them first."), or None.

`account_deleted` (`user_id`) is sent inside the deletion's transaction, after the User
row is anonymised: each receiver erases the personal data its app keeps for that user and
keeps what the records need (rides, money). A receiver that fails rolls the whole deletion
back, so an account is never left half erased.
"""

from django.dispatch import Signal

account_deletion_check = Signal()
account_deleted = Signal()
