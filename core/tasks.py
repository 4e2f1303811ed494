"""Queueing background work: each kind on its own queue, so one hung provider cannot stall
the others (a Twilio that hangs holds up texts, never captures or dispatch).

    enqueue("billing.tasks.execute_transaction", txn_id, queue="payments")

A queue is a Django-Q cluster of its own (settings.TASK_QUEUES, `Q_CLUSTER["ALT_CLUSTERS"]`):
run one `qcluster` per queue with `Q_CLUSTER_NAME=<queue>` (scripts/run-dev does)."""

from django.conf import settings
from django_q.tasks import async_task


def enqueue(func: str, *args, queue: str, **kwargs):
    if queue not in settings.TASK_QUEUES:
        raise ValueError(f"Unknown task queue {queue!r}; the queues are {', '.join(settings.TASK_QUEUES)}.")
    return async_task(func, *args, cluster=queue, **kwargs)
