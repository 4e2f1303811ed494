"""The transactional outbox (core.outbox): a consequence is recorded with its change, done once
after commit, retried with back-off, handed over again when its task is lost or its worker dies."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import F
from django_q.signing import SignedPackage

from core import outbox
from core.models import OutboxItem

pytestmark = pytest.mark.django_db

Status = OutboxItem.Status
calls: list = []


def record_call(*args, **kwargs):
    """A handler: it only records that it ran (the real handlers are tested in their apps)."""
    calls.append((args, kwargs))


def fail_until_third_call(*args):
    calls.append(args)
    if len(calls) < 3:
        raise ConnectionError("the provider is down")


def die(*args):
    """A worker killed mid-task: nothing after the kill runs, not even an except clause."""
    calls.append(args)
    raise SystemExit(-9)


@pytest.fixture(autouse=True)
def _no_calls():
    calls.clear()
    yield
    calls.clear()


def age(item: OutboxItem, by: timedelta) -> None:
    """Let `by` pass for the item (its times move back, the clock stays)."""
    OutboxItem.objects.filter(pk=item.pk).update(
        next_attempt_at=F("next_attempt_at") - by,
        enqueued_at=F("enqueued_at") - by,
        created_at=F("created_at") - by,
    )


def test_a_deferred_task_runs_once_after_commit_and_is_done(committed):
    with committed(), transaction.atomic():
        item = outbox.defer("tests.test_outbox.record_call", 7, "cancel", queue="payments", note="x")
        assert calls == []  # nothing runs before the change commits
    assert calls == [((7, "cancel"), {"note": "x"})]
    item.refresh_from_db()
    assert item.status == Status.DONE and item.attempts == 1 and item.done_at is not None
    assert outbox.run_item(item.pk) == "skipped"  # a second delivery of the same task
    assert len(calls) == 1


def test_a_change_that_rolls_back_takes_its_consequences_with_it(committed):
    with committed(), pytest.raises(RuntimeError), transaction.atomic():
        outbox.defer("tests.test_outbox.record_call", 1, queue="payments")
        raise RuntimeError("the change failed")
    assert not OutboxItem.objects.exists() and calls == []


def test_an_unknown_queue_is_refused_before_anything_is_recorded():
    with pytest.raises(ValueError, match="Unknown task queue"):
        outbox.defer("tests.test_outbox.record_call", queue="mail")
    assert not OutboxItem.objects.exists()


def test_a_failing_handler_is_retried_with_back_off_until_it_succeeds(committed, settings):
    settings.OUTBOX_RETRY_DELAYS = [timedelta(minutes=1), timedelta(minutes=5)]
    with committed():
        item = outbox.defer("tests.test_outbox.fail_until_third_call", 1, queue="dispatch")
    item.refresh_from_db()
    assert (item.status, item.attempts) == (Status.PENDING, 1)
    assert item.last_error == "Attempt 1: ConnectionError('the provider is down')"
    assert outbox.relay()["relayed"] == 0  # its back-off (1 minute) is not over
    age(item, timedelta(minutes=1))
    with committed():
        assert outbox.relay()["relayed"] == 1
    item.refresh_from_db()
    assert (item.status, item.attempts) == (Status.PENDING, 2)
    age(item, timedelta(minutes=5))
    with committed():
        outbox.relay()
    item.refresh_from_db()
    assert (item.status, item.attempts, item.last_error) == (Status.DONE, 3, "")
    assert len(calls) == 3


def test_a_handler_failing_past_its_last_retry_waits_for_operations(committed, settings):
    settings.OUTBOX_RETRY_DELAYS = [timedelta(minutes=1)]
    with committed():
        item = outbox.defer("tests.test_outbox.fail_until_third_call", 1, queue="dispatch")
    age(item, timedelta(minutes=1))
    with committed():
        outbox.relay()
    item.refresh_from_db()
    assert item.status == Status.FAILED
    assert item.last_error == "Gave up after 2 attempts. Attempt 2: ConnectionError('the provider is down')"
    assert outbox.needing_attention() == {"failed": 1, "stuck": 0}
    age(item, timedelta(days=1))
    assert outbox.relay()["relayed"] == 0  # failed items wait for a person

    with committed():
        assert outbox.retry(item_id=item.pk)  # the provider is back: operations run it again
    item.refresh_from_db()
    assert (item.status, len(calls)) == (Status.DONE, 3)
    assert not outbox.retry(item_id=item.pk)  # only a failed item can be run again
    assert outbox.needing_attention() == {"failed": 0, "stuck": 0}


def test_a_worker_killed_mid_task_is_run_again_once_its_lease_is_over(committed):
    item = outbox.defer("tests.test_outbox.die", 1, queue="payments")
    with pytest.raises(SystemExit):
        outbox.run_item(item.pk)  # the worker dies: the row stays claimed, under its lease
    item.refresh_from_db()
    assert (item.status, item.attempts) == (Status.PENDING, 1)
    age(item, outbox.lease() - timedelta(seconds=5))
    assert outbox.relay()["relayed"] == 0  # it may still be running
    assert outbox.run_item(item.pk) == "skipped"  # nor may a second delivery start it

    OutboxItem.objects.filter(pk=item.pk).update(task="tests.test_outbox.record_call")  # it survives now
    age(item, timedelta(seconds=5))
    with committed():
        assert outbox.relay()["relayed"] == 1
    item.refresh_from_db()
    assert (item.status, item.attempts) == (Status.DONE, 2)
    assert calls == [(1,), ((1,), {})]


def test_a_handler_that_always_kills_its_worker_is_given_up(committed, settings):
    settings.OUTBOX_RETRY_DELAYS = [timedelta(minutes=1)]
    item = outbox.defer("tests.test_outbox.die", 1, queue="payments")
    for _ in range(2):
        with pytest.raises(SystemExit):
            outbox.run_item(item.pk)
        age(item, outbox.lease())
    assert outbox.run_item(item.pk) == "failed"
    item.refresh_from_db()
    assert item.status == Status.FAILED and item.last_error.startswith(
        "Gave up: 2 runs stopped before finishing."
    )
    assert len(calls) == 2


def test_two_relays_hand_an_item_over_once(committed):
    item = outbox.defer("tests.test_outbox.record_call", 1, queue="payments")  # its task was lost
    age(item, timedelta(minutes=10))
    stale = OutboxItem.objects.get(pk=item.pk).enqueued_at
    with committed():
        assert outbox.relay()["relayed"] == 1
        # A second host read the row before the first moved its stamp: its UPDATE finds nothing.
        assert not OutboxItem.objects.filter(pk=item.pk, enqueued_at=stale).update(enqueued_at=None)
        assert outbox.relay()["relayed"] == 0
    assert len(calls) == 1


def test_done_items_are_forgotten_after_a_week(committed, settings):
    with committed():
        old = outbox.defer("tests.test_outbox.record_call", 1, queue="payments")
        recent = outbox.defer("tests.test_outbox.record_call", 2, queue="payments")
    OutboxItem.objects.filter(pk=old.pk).update(
        done_at=F("done_at") - settings.OUTBOX_KEEP_DONE - timedelta(1)
    )
    assert outbox.relay()["pruned"] == 1
    assert list(OutboxItem.objects.values_list("pk", flat=True)) == [recent.pk]


def test_items_waiting_too_long_show_for_operations(settings):
    item = outbox.defer("tests.test_outbox.record_call", 1, queue="payments")  # no worker takes it
    assert outbox.needing_attention() == {"failed": 0, "stuck": 0}
    age(item, settings.OUTBOX_STUCK_AFTER + timedelta(seconds=1))
    assert outbox.needing_attention() == {"failed": 0, "stuck": 1}
    assert list(outbox.items_needing_attention()) == [item]


def run_next_task(broker) -> str:
    """What a worker of this queue does with the next task: unpack it, run it, acknowledge it."""
    [(ack_id, pack)] = broker.dequeue()
    task = SignedPackage.loads(pack)
    result = outbox.run_item(*task["args"])
    broker.acknowledge(ack_id)
    return result


def test_a_task_the_broker_lost_is_handed_over_again_and_runs_once(task_broker, committed, settings):
    real_broker = task_broker("payments")
    with committed():
        item = outbox.defer("tests.test_outbox.record_call", 5, queue="payments")
    assert real_broker.queue_size() == 1
    real_broker.purge_queue()  # the broker lost it (a Redis restarted without its data)
    assert outbox.relay()["relayed"] == 0  # a task may wait in a busy queue for a while
    age(item, settings.OUTBOX_RELAY_AFTER)
    assert outbox.relay()["relayed"] == 1
    assert real_broker.queue_size() == 1
    assert run_next_task(real_broker) == "done"
    assert calls == [((5,), {})]


def test_a_relay_that_the_broker_refuses_midway_still_hands_over_the_rest(committed, broker_down):
    first = outbox.defer("tests.test_outbox.record_call", 1, queue="payments")
    second = outbox.defer("tests.test_outbox.record_call", 2, queue="payments")
    for item in (first, second):
        age(item, timedelta(minutes=10))
    assert outbox.relay()["relayed"] == 0  # the broker refuses both: no exception, both wait
    assert set(OutboxItem.objects.values_list("enqueued_at", flat=True)) == {None}  # due at once
    broker_down()  # back
    with committed():
        assert outbox.relay()["relayed"] == 2
    assert sorted(calls) == [((1,), {}), ((2,), {})]
