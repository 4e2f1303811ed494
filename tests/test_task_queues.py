"""Each kind of background work goes to its own queue, so a hung provider stalls only its own
kind: a Twilio that hangs holds up texts, never a capture or a dispatch."""

import pytest

from billing.services import ledger
from core.tasks import enqueue
from fleet.services import queue_auto_dispatch
from notifications.services.queueing import enqueue_on_commit
from tests.factories import NotificationFactory, TransactionFactory, make_ride

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(task_broker, settings):
    """Tasks are queued for real (ORM broker, and Redis); returns how many wait on each queue."""
    settings.DISPATCH_AUTO = True
    brokers = {queue: task_broker(queue) for queue in ("payments", "messages", "dispatch", "whiskers")}
    return lambda: {queue: broker.queue_size() for queue, broker in brokers.items()}


def test_payments_messages_and_dispatch_each_go_to_their_own_queue(queued, committed):
    capture = TransactionFactory(status="pending")
    message = NotificationFactory()
    ride = make_ride()
    with committed():
        ledger.queue(capture)
        enqueue_on_commit([message.pk])
        queue_auto_dispatch(ride.pk)
    assert queued() == {"payments": 1, "messages": 1, "dispatch": 1, "whiskers": 0}


def test_an_unknown_queue_is_refused():
    with pytest.raises(ValueError, match="Unknown task queue 'mail'"):
        enqueue("notifications.tasks.send_notification", 1, queue="mail")
