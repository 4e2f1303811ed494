"""Each lifecycle step sends exactly the expected messages (kind, channel, recipient),
through the real path: service move -> ride_moved on commit -> task -> notify -> send."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from billing.signals import payment_changed
from bookings import services
from bookings.models import RideEvent, RideStatus
from notifications.models import Notification, Status
from notifications.services import notify
from notifications.triggers import Occasion
from tests.factories import (
    DROPOFF,
    PICKUP,
    AdminFactory,
    CustomerFactory,
    DriverFactory,
    PaymentFactory,
    TransactionFactory,
    make_ride,
    pickup_soon,
)
from tests.notifications.conftest import sent

pytestmark = pytest.mark.django_db

SMS, EMAIL = "sms", "email"


def both(kind, user):
    return {(kind, SMS, user.email), (kind, EMAIL, user.email)}


def new_since(before_ids: set[int]) -> set[tuple[str, str, str]]:
    return sent(id__in=set(Notification.objects.values_list("id", flat=True)) - before_ids)


def book(customer, pet, committed):
    """Book through the customer's own path (ride_book), running what follows the commit."""
    plan = services.ride_plan(
        customer=customer,
        pets=[pet],
        pickup_address=PICKUP,
        dropoff_address=DROPOFF,
        scheduled_at=timezone.now() + timedelta(days=3),
    )
    with committed():
        return services.ride_book(customer=customer, plan=plan)


def test_a_paid_booking_sends_one_confirmation_by_sms_and_email(customer, pet, committed, pay):
    ride = book(customer, pet, committed)
    pay(ride)  # the hold at localstripe "confirm"s the ride

    assert sent() == both("booking_confirmed", customer)
    assert Notification.objects.count() == 2
    assert set(Notification.objects.values_list("status", flat=True)) == {Status.SENT}
    assert len(mail.outbox) == 1 and pet.name in mail.outbox[0].subject
    sms = Notification.objects.get(channel=SMS)
    assert sms.to == "+12125550123" and f"ride #{ride.pk}" in sms.message

    # The entry point called again for the same step creates nothing.
    event = ride.events.get(action="confirm")
    with committed():
        assert notify(occasion=Occasion("confirm", ride.pk, event_id=event.pk)) == []
    assert Notification.objects.count() == 2


def test_the_confirmation_waits_for_the_payment(customer, pet, committed):
    ride = book(customer, pet, committed)
    assert ride.status == RideStatus.PENDING_PAYMENT
    assert sent() == set()

    with committed():
        services.ride_confirm(ride=ride)  # what billing calls once the card is held
    assert sent() == both("booking_confirmed", customer)


def test_a_round_trip_is_confirmed_once_with_its_return_listed(customer, pet, committed, pay):
    from bookings import trips

    when = timezone.now() + timedelta(days=3)
    plan = trips.trip_plan(
        customer=customer,
        pets=[pet],
        pickup_address=PICKUP,
        dropoff_address=DROPOFF,
        scheduled_at=when,
        trip="round_trip",
        return_at=when + timedelta(hours=4),
    )
    with committed():
        outbound = trips.trip_book(customer=customer, plan=plan)
    pay(outbound)  # secures both legs: both are confirmed

    back = outbound.return_leg
    back.refresh_from_db()
    assert back.status == RideStatus.CONFIRMED
    assert sent() == both("booking_confirmed", customer)  # one message per channel, not two
    email = mail.outbox[0].body
    assert "Round trip: outbound" in email and f"(#{back.pk})" in email


def test_a_called_return_tells_the_customer_when_it_comes(customer, committed):
    from tests.factories import make_open_return

    _outbound, back = make_open_return(customer=customer)
    with committed():
        services.ride_call_return(ride=back, by=AdminFactory())  # the vet phoned operations
    assert sent() == both("ride_rescheduled", customer)
    sms = Notification.objects.get(channel=SMS)
    assert "for the return at about" in sms.message
    assert mail.outbox[0].subject.startswith("On our way back:")


@pytest.fixture
def people(db):
    return {
        "customer": CustomerFactory(name="Alice Moreno"),
        "driver": DriverFactory(name="Dana Diaz", phone="+12125550111"),
        "new_driver": DriverFactory(name="Eli Park", phone="+12125550112"),
        "admin": AdminFactory(name="Olivia Ops"),
    }


def _ride_in(status, people, **fields):
    driver = people["driver"] if status not in (RideStatus.CONFIRMED, RideStatus.PENDING_PAYMENT) else None
    ride = make_ride(customer=people["customer"], status=status, driver=driver, **fields)
    if driver:
        # The history dispatch would have written: the driver came with an assign event.
        RideEvent.objects.create(
            ride=ride, action="assign", to_status=RideStatus.ASSIGNED, data={"driver_id": driver.pk}
        )
    return ride


# move -> (starting status, how to make the move, expected: people key -> kinds by both channels,
# or (kind, channel) for one channel only)
MOVES = {
    "assign": (
        RideStatus.CONFIRMED,
        lambda ride, p, photo: services.ride_assign(ride=ride, driver=p["driver"], by=p["admin"]),
        {"customer": ["driver_assigned"], "driver": ["driver_new_ride"]},
    ),
    "reassign": (
        RideStatus.ASSIGNED,
        lambda ride, p, photo: services.ride_reassign(
            ride=ride, driver=p["new_driver"], by=p["admin"], reason="Dana's van broke down"
        ),
        {
            "customer": ["driver_assigned"],
            "new_driver": ["driver_new_ride"],
            "driver": ["driver_ride_removed"],
        },
    ),
    "unassign": (
        RideStatus.ASSIGNED,
        lambda ride, p, photo: services.ride_unassign(ride=ride, by=p["admin"], reason="Sick day"),
        {"driver": ["driver_ride_removed"]},
    ),
    "accept": (
        RideStatus.ASSIGNED,
        lambda ride, p, photo: services.ride_accept(ride=ride, by=p["driver"]),
        {},
    ),
    "decline": (
        RideStatus.ASSIGNED,
        lambda ride, p, photo: services.ride_decline(ride=ride, by=p["driver"], reason="Too far"),
        {},
    ),
    "start": (
        RideStatus.ASSIGNED,
        # The day comes: the driver sets off shortly before pickup.
        lambda ride, p, photo: services.ride_start(ride=pickup_soon(ride), by=p["driver"]),
        {"customer": ["driver_on_the_way"]},
    ),
    "pickup": (
        RideStatus.EN_ROUTE,
        lambda ride, p, photo: services.ride_pickup(ride=ride, by=p["driver"], photo=photo),
        {"customer": ["picked_up"]},
    ),
    "no_show": (
        RideStatus.EN_ROUTE,
        lambda ride, p, photo: services.ride_no_show(ride=ride, by=p["driver"], reason="Nobody home"),
        {"customer": ["no_show"]},
    ),
    "cancel by customer": (
        RideStatus.ASSIGNED,
        lambda ride, p, photo: services.ride_cancel(ride=ride, by=p["customer"], reason="Vet closed"),
        {"customer": ["ride_cancelled"], "driver": ["driver_ride_removed"]},
    ),
    "cancel by admin": (
        RideStatus.CONFIRMED,
        lambda ride, p, photo: services.ride_cancel(ride=ride, by=p["admin"], reason="Snow storm"),
        {"customer": ["ride_cancelled"]},
    ),
    "expire": (  # an unpaid booking lapsing: email only, never a text
        RideStatus.PENDING_PAYMENT,
        lambda ride, p, photo: services.ride_expire(ride=ride),
        {"customer": [("ride_cancelled", EMAIL)]},
    ),
    "reschedule": (
        RideStatus.ASSIGNED,
        lambda ride, p, photo: services.ride_reschedule(
            ride=ride, by=p["customer"], scheduled_at=ride.scheduled_at + timedelta(days=1)
        ),
        {"customer": ["ride_rescheduled"], "driver": ["driver_ride_removed"]},
    ),
}


@pytest.mark.parametrize("move", MOVES)
def test_each_ride_move_sends_exactly_its_messages(move, people, photo, committed):
    status, make_move, expected_kinds = MOVES[move]
    ride = _ride_in(status, people)
    before = set(Notification.objects.values_list("id", flat=True))

    with committed():
        make_move(ride, people, photo)

    expected = set()
    for who, kinds in expected_kinds.items():
        for kind in kinds:
            if isinstance(kind, tuple):
                expected.add((*kind, people[who].email))
            else:
                expected |= both(kind, people[who])
    assert new_since(before) == expected
    assert Notification.objects.exclude(status=Status.SENT).count() == 0

    # Running the entry point again for the same event changes nothing.
    event = ride.events.order_by("-id").first()
    count = Notification.objects.count()
    with committed():
        assert notify(occasion=Occasion(event.action, ride.pk, event_id=event.pk)) == []
    assert Notification.objects.count() == count


def captured(ride, cents: int):
    """The capture billing would record for `ride` (its ledger row)."""
    return TransactionFactory(payment=PaymentFactory(ride=ride, amount_cents=cents))


def test_delivery_texts_the_customer_and_the_receipt_waits_for_the_capture(people, photo, committed):
    ride = _ride_in(RideStatus.PICKED_UP, people)
    with committed():
        services.ride_complete(ride=ride, by=people["driver"], photo=photo)
    # The "arrived" email is skipped when a text goes out: the receipt email follows the capture.
    assert sent() == {("ride_completed", SMS, people["customer"].email)}

    capture = captured(ride, 2950)
    with committed():
        payment_changed.send(sender=None, ride_id=ride.pk, kind="captured", transaction_id=capture.pk)
        # A re-delivered event: still one receipt.
        payment_changed.send(sender=None, ride_id=ride.pk, kind="captured", transaction_id=capture.pk)
    receipt = Notification.objects.get(kind="receipt")
    assert receipt.channel == EMAIL
    assert "We charged $29.50 to your card." in receipt.message
    assert "Charged to your card: $29.50" in receipt.message
    assert "Base fare" in receipt.message


def test_delivery_to_a_customer_without_a_phone_comes_by_email(people, photo, committed):
    customer = people["customer"]
    customer.phone = ""
    customer.save()
    ride = _ride_in(RideStatus.PICKED_UP, people)
    with committed():
        services.ride_complete(ride=ride, by=people["driver"], photo=photo)
    assert sent() == {("ride_completed", EMAIL, customer.email)}
    capture = captured(ride, ride.price_cents)
    with committed():
        payment_changed.send(sender=None, ride_id=ride.pk, kind="captured", transaction_id=capture.pk)
    assert sent() == {("ride_completed", EMAIL, customer.email), ("receipt", EMAIL, customer.email)}


@pytest.mark.parametrize(
    ("kind", "expected_kinds", "text"),
    [
        ("captured", ["receipt"], "The fare comes to"),  # no amount known: the fare as quoted
        ("refunded", ["refund_issued"], "We've refunded your payment"),  # no amount known
        ("action_required", ["payment_action"], "We couldn't secure the payment"),
        ("authorized", [], ""),
        ("voided", [], ""),
    ],
)
def test_money_events(kind, expected_kinds, text, people, committed):
    ride = _ride_in(RideStatus.CONFIRMED, people)
    with committed():
        payment_changed.send(sender=None, ride_id=ride.pk, kind=kind, transaction_id=None)
    customer = people["customer"]
    expected = set()
    for expected_kind in expected_kinds:
        # Receipts only ever go by email; the rest by text as well.
        expected |= {(expected_kind, EMAIL, customer.email)}
        if expected_kind != "receipt":
            expected |= {(expected_kind, SMS, customer.email)}
    assert sent() == expected
    if text:
        assert text in Notification.objects.get(channel=EMAIL).message


def test_refund_amounts_come_from_the_ledger_and_the_payment_link_is_checkout(people, committed):
    ride = _ride_in(RideStatus.COMPLETED, people)
    payment = PaymentFactory(ride=ride, amount_cents=2000, status="captured", captured_cents=2000)
    refunds = [
        TransactionFactory(payment=payment, kind="refund", amount_cents=cents) for cents in (1200, 500)
    ]
    with committed():
        for refund in refunds:
            payment_changed.send(sender=None, ride_id=ride.pk, kind="refunded", transaction_id=refund.pk)
        payment_changed.send(sender=None, ride_id=ride.pk, kind="action_required", transaction_id=None)
    messages = Notification.objects.filter(kind="refund_issued", channel=EMAIL).order_by("id")
    assert [m.subject.split(" for ")[0] for m in messages] == ["Refund of $12.00", "Refund of $5.00"]
    action = Notification.objects.get(kind="payment_action", channel=SMS)
    assert action.message.endswith(f"{settings.SITE_URL}/app/rides/{ride.pk}/pay/")


def test_inactive_users_get_nothing(people, committed):
    customer = people["customer"]
    customer.is_active = False
    customer.save()
    ride = _ride_in(RideStatus.CONFIRMED, people)
    with committed():
        services.ride_assign(ride=ride, driver=people["driver"], by=people["admin"])
    assert sent() == both("driver_new_ride", people["driver"])


def test_the_receipt_shows_what_the_ledger_captured_not_the_quote(people, committed):
    ride = _ride_in(RideStatus.COMPLETED, people)
    capture = captured(ride, 1850)  # a smaller hold than the fare: the ledger is the truth
    with committed():
        payment_changed.send(sender=None, ride_id=ride.pk, kind="captured", transaction_id=capture.pk)
    assert "We charged $18.50 to your card." in Notification.objects.get(kind="receipt").message


def test_a_task_queued_by_the_previous_release_still_sends(people, committed):
    """Occasions once carried amount_cents/currency; a task queued with them before a deploy
    must still run after it (unknown keys are dropped, the ledger is read instead)."""
    from notifications.tasks import handle_occasion

    ride = _ride_in(RideStatus.CONFIRMED, people)
    event = RideEvent.objects.create(ride=ride, action="confirm", to_status=RideStatus.CONFIRMED)
    with committed():
        sent_count = handle_occasion(
            name="confirm", ride_id=ride.pk, event_id=event.pk, amount_cents=None, currency=""
        )
    assert sent_count == 2
    assert sent() == both("booking_confirmed", people["customer"])
