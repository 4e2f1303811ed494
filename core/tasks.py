"""Queueing background work: each kind on its own queue, so one hung provider cannot stall
the others (a Twilio that hangs holds up texts, never captures or dispatch).

    enqueue("billing.tasks.execute_transaction", txn_id, queue="payments")

A queue is a Django-Q cluster of its own (settings.TASK_QUEUES, `Q_CLUSTER["ALT_CLUSTERS"]`):
run one `qcluster` per queue with `Q_CLUSTER_NAME=<queue>` (scripts/run-dev does).

The broker is a fast path, never the only copy of work that must happen. A consequence of a
change is recorded with the change: either as an outbox item (`core.outbox.defer`), or, for
rows that carry their own retry state (a ledger transaction, a notification), as that row,
which its sweep finds again. Both then hand the work to the broker after commit with
`enqueue_on_commit`, which never fails the request: a broker that is down only delays it."""

import logging

from django.conf import settings
from django.db import transaction
from django_q.tasks import async_task

logger = logging.getLogger(__name__)


def enqueue(func: str, *args, queue: str, **kwargs):
    if queue not in settings.TASK_QUEUES:
        raise ValueError(f"Unknown task queue {queue!r}; the queues are {', '.join(settings.TASK_QUEUES)}.")
    return async_task(func, *args, cluster=queue, **kwargs)


def enqueue_on_commit(func: str, *args, queue: str, on_failure=None, **kwargs) -> None:
    """After the current transaction commits, try to queue `func`. The change is committed by
    then: if the broker refuses (down, unreachable), log it and call `on_failure()`, never raise,
    so the person who made the change still gets their answer and a sweep does the work."""
    if queue not in settings.TASK_QUEUES:
        raise ValueError(f"Unknown task queue {queue!r}; the queues are {', '.join(settings.TASK_QUEUES)}.")

    def hand_over():
        try:
            enqueue(func, *args, queue=queue, **kwargs)
        except Exception:
            logger.warning("Could not queue %s%r on %s; its sweep will.", func, args, queue, exc_info=True)
            if on_failure is not None:
                on_failure()

    transaction.on_commit(hand_over)
