"""Fault injection across the product: the task broker refusing work while customers book and
pay and drivers drive. Every answer is still a success, and once the broker is back every
consequence (messages, dispatch) happens exactly once."""

from collections import Counter
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bookings.models import Ride, RideStatus
from core import outbox
from core.models import OutboxItem
from notifications.models import Notification
from tests.billing.fixtures import GOOD_CARD
from tests.factories import DROPOFF, NEAR, PICKUP, make_ride, on_duty_driver, soon

pytestmark = pytest.mark.django_db


def sent_messages() -> Counter:
    """(kind, channel, status) of every message, with how many rows each has."""
    return Counter(Notification.objects.values_list("kind", "channel", "status"))


def test_with_the_broker_down_customers_and_drivers_get_answers_and_nothing_is_lost(
    customer, pet, customer_client, stripe_js, twilio, committed, broker_down, settings, mailoutbox
):
    settings.DISPATCH_AUTO = True
    driver = on_duty_driver("Dana Diaz", position=NEAR)
    when = timezone.localtime(timezone.now() + timedelta(days=2)).replace(hour=10, minute=0, second=0)

    # The customer books and pays while no task can be queued.
    with committed():
        booked = customer_client.post(
            reverse("bookings:ride_new"),
            {
                "pets": [pet.pk],
                "pickup_address": PICKUP,
                "dropoff_address": DROPOFF,
                "scheduled_at": when.strftime("%Y-%m-%dT%H:%M"),
            },
        )
    ride = Ride.objects.get(pets=pet)
    checkout = reverse("billing:checkout", args=[ride.pk])
    assert (booked.status_code, booked.url) == (HTTPStatus.FOUND, checkout)
    page = customer_client.get(checkout).content.decode()
    stripe_js.save_card(page.split('data-client-secret="', 1)[1].split('"', 1)[0], GOOD_CARD)
    with committed():
        paid = customer_client.post(checkout)
    assert (paid.status_code, paid.url) == (HTTPStatus.FOUND, reverse("bookings:ride_detail", args=[ride.pk]))
    ride.refresh_from_db()
    assert ride.status == RideStatus.CONFIRMED and ride.driver is None
    # What must follow is recorded, waiting; nothing has been sent or dispatched.
    assert set(OutboxItem.objects.values_list("task", "status")) == {
        ("notifications.tasks.handle_occasion", "pending"),
        ("fleet.tasks.auto_dispatch", "pending"),
    }
    assert not Notification.objects.exists() and twilio.sent() == []

    waiting = OutboxItem.objects.count()
    broker_down()  # the broker is back; the relay's next run hands every waiting item over
    with committed():
        assert outbox.relay()["relayed"] == waiting
    ride.refresh_from_db()
    assert ride.driver == driver and ride.status == RideStatus.ASSIGNED
    assert sent_messages() == {
        ("booking_confirmed", "sms", "sent"): 1,
        ("booking_confirmed", "email", "sent"): 1,
        ("driver_assigned", "sms", "sent"): 1,
        ("driver_assigned", "email", "sent"): 1,
        ("driver_new_ride", "sms", "sent"): 1,
        ("driver_new_ride", "email", "sent"): 1,
    }
    assert len(twilio.sent()) == 3
    assert set(OutboxItem.objects.values_list("status", flat=True)) == {"done"}
    with committed():
        assert outbox.relay()["relayed"] == 0  # nothing is done twice
    assert len(twilio.sent()) == 3


def test_a_drivers_step_with_the_broker_down_answers_and_the_owner_hears_once_it_is_back(
    pet, twilio, committed, broker_down
):
    driver = on_duty_driver("Dana Diaz", position=NEAR)
    ride = make_ride(pet=pet, status=RideStatus.ASSIGNED, driver=driver, scheduled_at=soon())
    driver_client = Client()
    driver_client.force_login(driver)
    with committed():
        started = driver_client.post(reverse("fleet:ride_step", args=[ride.pk, "start"]))
    assert started.status_code == HTTPStatus.FOUND
    ride.refresh_from_db()
    assert ride.status == RideStatus.EN_ROUTE
    assert not Notification.objects.exists()

    broker_down()
    with committed():
        outbox.relay()
    assert sent_messages() == {
        ("driver_on_the_way", "sms", "sent"): 1,
        ("driver_on_the_way", "email", "sent"): 1,
    }
    with committed():
        assert outbox.relay()["relayed"] == 0
    assert len(twilio.sent()) == 1


def died_before_done(task: str) -> None:
    """The worker ran the handler's work, then died before marking its item done: the item is
    pending again with its lease over, as the relay would find it."""
    item = OutboxItem.objects.get(task=task)
    long_ago = timezone.now() - outbox.lease() - timedelta(seconds=1)
    OutboxItem.objects.filter(pk=item.pk).update(
        status="pending", done_at=None, next_attempt_at=long_ago, enqueued_at=None
    )


def test_a_fan_out_run_twice_by_a_dying_worker_sends_each_message_once(ride, twilio, committed, customer):
    from bookings import services as rides

    with committed():
        rides.ride_cancel(ride=ride, by=customer, reason="Ill")
    before = sent_messages()
    assert before == {("ride_cancelled", "sms", "sent"): 1, ("ride_cancelled", "email", "sent"): 1}
    died_before_done("notifications.tasks.handle_occasion")
    with committed():
        assert outbox.relay()["relayed"] == 1
    assert sent_messages() == before and len(twilio.sent()) == 1
    assert OutboxItem.objects.get(task="notifications.tasks.handle_occasion").status == "done"


def test_a_settlement_run_twice_by_a_dying_worker_captures_once(
    pending_ride, pay, committed, driver, admin_user
):
    from billing.gateway import get_gateway
    from billing.models import Transaction
    from bookings import services as rides

    pay(pending_ride)
    Ride.objects.filter(pk=pending_ride.pk).update(status=RideStatus.PICKED_UP, driver=driver)
    with committed():
        rides.ride_complete(ride=Ride.objects.get(pk=pending_ride.pk), by=admin_user, note="Closed by ops")
    [capture] = Transaction.objects.filter(kind="capture")
    assert capture.status == "succeeded"
    died_before_done("billing.tasks.settle_ride_move")
    with committed():
        assert outbox.relay()["relayed"] == 1
    assert Transaction.objects.filter(kind="capture").count() == 1
    intent = get_gateway().retrieve_intent(pending_ride.payments.get().payment_intent_id)
    assert (intent.status, intent.amount_received) == ("succeeded", pending_ride.price_cents)
