"""Money events, for apps above billing (notifications) to react to.

`payment_changed` is sent inside the transaction that records it (receivers only record
work, with `core.outbox.defer`), with
`ride_id`, `kind` and `transaction_id` (the ledger row, or None). Kinds:
  "authorized"       the fare is held on the card (the ride is confirmed)
  "captured"         the fare (or a fee) was taken; the receipt is final
  "refunded"         an admin refunded part or all of a payment
  "voided"           a hold was released (free cancellation)
  "action_required"  the customer must act (card declined, authentication
                     needed, off-session hold failed): they get a link to pay
"""

from django.dispatch import Signal

payment_changed = Signal()
