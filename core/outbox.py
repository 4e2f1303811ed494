"""The transactional outbox: each consequence of a change is recorded in the change's own
database transaction, then done after the commit, whatever dies in between.

    outbox.defer("billing.tasks.settle_ride_move", ride_id, move, event_id, queue="payments")

`defer` writes an OutboxItem, so the consequence commits or rolls back with the change, and
after the commit hands `run_item(pk)` to the item's queue (the fast path). The broker is never
the only copy: when enqueueing fails (the broker is down) or the task is lost (a Redis that
dies with it, a worker killed mid-task), the relay, a schedule every minute, hands the item
over again once OUTBOX_RELAY_AFTER has passed without it being done. It is safe on several
hosts at once: a conditional UPDATE decides which relay hands an item over, and `run_item`
claims the row with another (and a lease), so two deliveries of one item run it once.

A handler that raises is retried with back-off (OUTBOX_RETRY_DELAYS), then left failed for
operations (/ops/ "Needs attention", /ops/background/). Handlers run at least once and, after
a worker died between the handler's work and "done", twice: each handler is idempotent (a
unique row, or a check of the state it would change), and its tests run it twice.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from core.models import OutboxItem
from core.retry import Backoff, claim_due_row, due_rows
from core.tasks import enqueue, enqueue_on_commit

logger = logging.getLogger(__name__)

Status = OutboxItem.Status
RUN_TASK = "core.outbox.run_item"


def lease() -> timedelta:
    """How long a claimed item is left to its worker: past the task time limit, after which
    the cluster has killed that worker, so a second run never overlaps the first."""
    return timedelta(seconds=settings.Q_CLUSTER["timeout"] + 30)


def defer(func: str, *args, queue: str, **kwargs) -> OutboxItem:
    """Record that `func(*args, **kwargs)` must run on `queue` once the current transaction
    commits (at once outside one). Arguments must be JSON: ids and strings, not rows."""
    if queue not in settings.TASK_QUEUES:
        raise ValueError(f"Unknown task queue {queue!r}; the queues are {', '.join(settings.TASK_QUEUES)}.")
    now = timezone.now()
    item = OutboxItem.objects.create(
        task=func,
        args=list(args),
        kwargs=kwargs,
        queue=queue,
        next_attempt_at=now,
        enqueued_at=now,
        created_at=now,
    )
    pk = item.pk
    enqueue_on_commit(
        RUN_TASK,
        pk,
        queue=queue,
        task_name=f"outbox {pk}: {func}",
        on_failure=lambda: _hand_over_refused(pk),
    )
    return item


def _hand_over_refused(pk: int) -> None:
    """The broker refused the fast path: the relay takes the item at its next run."""
    OutboxItem.objects.filter(pk=pk, status=Status.PENDING).update(enqueued_at=None)


def run_item(item_id: int) -> str:
    """The task: run one item's handler if it is due and nobody else runs it. Returns what happened."""
    now = timezone.now()
    # Claimed, the item is no longer "with the broker": if this worker dies, the relay hands
    # it over as soon as the lease is over.
    if not claim_due_row(
        OutboxItem.objects,
        pk=item_id,
        waiting_status=Status.PENDING,
        now=now,
        lease=lease(),
        enqueued_at=None,
    ):
        return "skipped"  # done, failed, running elsewhere, or waiting for its back-off
    item = OutboxItem.objects.get(pk=item_id)
    backoff = Backoff(settings.OUTBOX_RETRY_DELAYS)
    if item.attempts > backoff.max_attempts:
        # Claimed again and again after runs that never ended: the handler kills its worker.
        _fail(item, f"Gave up: {item.attempts - 1} runs stopped before finishing. {item.last_error}".strip())
        return "failed"
    try:
        import_string(item.task)(*item.args, **item.kwargs)
    except Exception as exc:
        logger.exception("Outbox item %s (%s) failed on attempt %s", item.pk, item.task, item.attempts)
        error = f"Attempt {item.attempts}: {exc!r}"[:2000]
        retry_at = backoff.next_attempt_at(attempts=item.attempts, now=timezone.now())
        if retry_at is None:
            _fail(item, f"Gave up after {item.attempts} attempts. {error}")
            return "failed"
        OutboxItem.objects.filter(pk=item.pk, status=Status.PENDING).update(
            next_attempt_at=retry_at, enqueued_at=None, last_error=error
        )
        return "retry"
    OutboxItem.objects.filter(pk=item.pk, status=Status.PENDING).update(
        status=Status.DONE, done_at=timezone.now(), last_error=""
    )
    return "done"


def _fail(item: OutboxItem, error: str) -> None:
    OutboxItem.objects.filter(pk=item.pk, status=Status.PENDING).update(
        status=Status.FAILED, last_error=error
    )


def relay(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """The schedule (every minute): hand over again every item that is due and was not handed
    over recently (its task refused or lost, its worker killed, its back-off over); forget
    items done more than OUTBOX_KEEP_DONE ago."""
    now = now or timezone.now()
    due = due_rows(OutboxItem.objects, waiting_status=Status.PENDING, now=now).filter(
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=now - settings.OUTBOX_RELAY_AFTER)
    )
    relayed = 0
    for pk, queue, enqueued_at, task in due.values_list("pk", "queue", "enqueued_at", "task")[:limit]:
        # Of two relays (two hosts) that read the same row, one moves its stamp and hands it over.
        if OutboxItem.objects.filter(pk=pk, status=Status.PENDING, enqueued_at=enqueued_at).update(
            enqueued_at=now
        ):
            try:
                enqueue(RUN_TASK, pk, queue=queue, task_name=f"outbox {pk}: {task} (relayed)")
            except Exception:
                # The broker refused: the next run takes it again; the other items still go now.
                logger.warning("Could not relay outbox item %s", pk, exc_info=True)
                _hand_over_refused(pk)
                continue
            relayed += 1
    pruned, _ = OutboxItem.objects.filter(
        status=Status.DONE, done_at__lt=now - settings.OUTBOX_KEEP_DONE
    ).delete()
    return {"relayed": relayed, "pruned": pruned}


def needing_attention(*, now: datetime | None = None) -> dict[str, int]:
    """Failed items (a person retries them once the cause is fixed) and items waiting longer
    than OUTBOX_STUCK_AFTER (retrying, or no worker is taking them). One query."""
    now = now or timezone.now()
    return OutboxItem.objects.aggregate(
        failed=Count("pk", filter=Q(status=Status.FAILED)),
        stuck=Count("pk", filter=Q(status=Status.PENDING, created_at__lt=now - settings.OUTBOX_STUCK_AFTER)),
    )


def items_needing_attention(*, now: datetime | None = None):
    now = now or timezone.now()
    return OutboxItem.objects.filter(
        Q(status=Status.FAILED) | Q(status=Status.PENDING, created_at__lt=now - settings.OUTBOX_STUCK_AFTER)
    ).order_by("created_at", "pk")


def retry(*, item_id: int) -> bool:
    """Operations' "Run again" on a failed item: a fresh set of attempts, handed over now."""
    now = timezone.now()
    if not OutboxItem.objects.filter(pk=item_id, status=Status.FAILED).update(
        status=Status.PENDING, attempts=0, next_attempt_at=now, enqueued_at=now
    ):
        return False
    queue = OutboxItem.objects.values_list("queue", flat=True).get(pk=item_id)
    enqueue_on_commit(
        RUN_TASK,
        item_id,
        queue=queue,
        task_name=f"outbox {item_id} (run again)",
        on_failure=lambda: OutboxItem.objects.filter(pk=item_id, status=Status.PENDING).update(
            enqueued_at=None
        ),
    )
    return True
