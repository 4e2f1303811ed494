"""Messages are written from ride events, but never quote an event's note: an operations'
cancel or unassign reason, a driver's decline or no-show note and a dispatch detail stay
with operations, whoever the message is for."""

import pytest

from bookings import services
from bookings.models import RideEvent, RideStatus
from notifications.models import Notification
from tests.factories import AdminFactory, CustomerFactory, DriverFactory, make_ride

pytestmark = pytest.mark.django_db

SECRET = "INTERNAL-NOTE-7731"


@pytest.fixture
def people(db):
    return {
        "customer": CustomerFactory(name="Alice Moreno"),
        "driver": DriverFactory(name="Dana Diaz", phone="+12125550111"),
        "new_driver": DriverFactory(name="Eli Park", phone="+12125550112"),
        "admin": AdminFactory(name="Olivia Ops"),
    }


def held(status, people):
    ride = make_ride(customer=people["customer"], status=status, driver=people["driver"])
    RideEvent.objects.create(ride=ride, action="assign", data={"driver_id": people["driver"].pk})
    return ride


MOVES = {
    "cancel by operations": (
        RideStatus.ASSIGNED,
        lambda ride, p: services.ride_cancel(ride=ride, by=p["admin"], reason=SECRET),
        "ride_cancelled",
    ),
    "no-show by the driver": (
        RideStatus.EN_ROUTE,
        lambda ride, p: services.ride_no_show(ride=ride, by=p["driver"], reason=SECRET),
        "no_show",
    ),
    "no-show by operations": (
        RideStatus.EN_ROUTE,
        lambda ride, p: services.ride_no_show(ride=ride, by=p["admin"], reason=SECRET),
        "no_show",
    ),
    "reassign with a reason": (
        RideStatus.ASSIGNED,
        lambda ride, p: services.ride_reassign(
            ride=ride, driver=p["new_driver"], by=p["admin"], reason=SECRET
        ),
        "driver_assigned",
    ),
    "unassign with a reason": (
        RideStatus.ASSIGNED,
        lambda ride, p: services.ride_unassign(ride=ride, by=p["admin"], reason=SECRET),
        "driver_ride_removed",
    ),
}


@pytest.mark.parametrize("move", MOVES)
def test_no_message_quotes_an_internal_note(move, people, committed):
    status, make_move, kind = MOVES[move]
    ride = held(status, people)
    with committed():
        make_move(ride, people)
    messages = Notification.objects.filter(ride=ride)
    assert messages.filter(kind=kind).exists()  # the move did send its messages
    for message in messages:
        for part in (message.subject, message.message, message.message_html):
            assert SECRET not in part, (message.kind, message.channel)
            assert "Olivia Ops" not in part, (message.kind, message.channel)


def test_the_no_show_message_reads_in_customer_words(people, committed):
    ride = held(RideStatus.EN_ROUTE, people)
    with committed():
        services.ride_no_show(ride=ride, by=people["driver"], reason=SECRET)
    email = Notification.objects.get(ride=ride, kind="no_show", channel="email")
    assert "couldn't collect" in email.message and "The driver's note" not in email.message


def test_the_cancel_message_still_tells_who_cancelled(people, committed):
    ride = held(RideStatus.ASSIGNED, people)
    with committed():
        services.ride_cancel(ride=ride, by=people["admin"], reason=SECRET)
    email = Notification.objects.get(ride=ride, kind="ride_cancelled", channel="email")
    assert "we had to cancel" in email.message and "The reason" not in email.message
