"""Every move from every state by every kind of actor: allowed ones work, the rest
raise DomainError and change nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings import services
from bookings.lifecycle import MOVES, Actor, allowed_moves
from bookings.models import DRIVER_HELD_STATUSES, RideEvent, RideStatus
from core.errors import DomainError
from tests.factories import DriverFactory, make_ride, make_trip, soon

pytestmark = pytest.mark.django_db


def run_move(move, ride, by, photo, new_driver):
    call = {
        "confirm": lambda: services.ride_confirm(ride=ride, by=by),
        "expire": lambda: services._apply_move(ride=ride, move="expire", by=by),
        "assign": lambda: services.ride_assign(ride=ride, driver=new_driver, by=by),
        "reassign": lambda: services.ride_reassign(ride=ride, driver=new_driver, by=by, reason="Swap"),
        "unassign": lambda: services.ride_unassign(ride=ride, by=by, reason="Car trouble"),
        "accept": lambda: services.ride_accept(ride=ride, by=by),
        "decline": lambda: services.ride_decline(ride=ride, by=by, reason="Too far"),
        "start": lambda: services.ride_start(ride=ride, by=by),
        "pickup": lambda: services.ride_pickup(ride=ride, by=by, photo=photo),
        "complete": lambda: services.ride_complete(ride=ride, by=by, photo=photo),
        "no_show": lambda: services.ride_no_show(ride=ride, by=by, reason="Nobody home"),
        "cancel": lambda: services.ride_cancel(ride=ride, by=by, reason="Plans changed"),
        "reschedule": lambda: services.ride_reschedule(
            ride=ride, by=by, scheduled_at=ride.scheduled_at + timedelta(days=1)
        ),
        "call_return": lambda: services.ride_call_return(ride=ride, by=by),
    }
    return call[move]()


# The rules, written out by hand from the product: (move, from, actor) -> to. Anything not
# listed is refused. The table in bookings.lifecycle must say exactly this.
P, CF, AS, ER, PU = "pending_payment", "confirmed", "assigned", "en_route", "picked_up"
ALLOWED = {
    ("confirm", P, "system"): CF,
    ("expire", P, "system"): "cancelled",
    ("assign", CF, "admin"): AS,
    ("assign", CF, "system"): AS,
    ("reassign", AS, "admin"): AS,
    ("unassign", AS, "admin"): CF,
    ("unassign", AS, "system"): CF,
    ("accept", AS, "driver"): AS,
    ("decline", AS, "driver"): CF,
    ("start", AS, "driver"): ER,
    ("pickup", ER, "driver"): PU,
    ("complete", PU, "driver"): "completed",
    ("complete", PU, "admin"): "completed",
    ("no_show", ER, "driver"): "no_show",
    ("no_show", ER, "admin"): "no_show",
    ("cancel", P, "customer"): "cancelled",
    ("cancel", P, "admin"): "cancelled",
    ("cancel", CF, "customer"): "cancelled",
    ("cancel", CF, "admin"): "cancelled",
    ("cancel", AS, "customer"): "cancelled",
    ("cancel", AS, "admin"): "cancelled",
    ("cancel", ER, "customer"): "cancelled",
    ("cancel", ER, "admin"): "cancelled",
    # The system cancels a round trip's return when the ride out was a no-show.
    ("cancel", P, "system"): "cancelled",
    ("cancel", CF, "system"): "cancelled",
    ("cancel", AS, "system"): "cancelled",
    ("cancel", ER, "system"): "cancelled",
    # An open return, called once its pets were collected (the ride put on a trip below).
    ("call_return", CF, "customer"): CF,
    ("call_return", CF, "admin"): CF,
    ("reschedule", P, "customer"): P,
    ("reschedule", P, "admin"): P,
    ("reschedule", CF, "customer"): CF,
    ("reschedule", CF, "admin"): CF,
    ("reschedule", AS, "customer"): AS,  # the driver keeps it while still eligible for the new time
    ("reschedule", AS, "admin"): AS,
}
# Where a move goes instead when its service finds it must: a rescheduled ride whose driver isn't
# eligible for the new time goes back to dispatch (here always: no fleet answers in this test).
FALLBACKS = {("reschedule", AS): CF}


def test_the_move_table_says_exactly_the_rules():
    table = {
        (name, source, actor.value): move.target_from(source)
        for name, move in MOVES.items()
        for source in move.sources
        for actor in move.actors
    }
    assert table == ALLOWED
    fallbacks = {
        (name, source): target
        for name, move in MOVES.items()
        for source, target in (move.fallbacks or {}).items()
    }
    assert fallbacks == FALLBACKS


CASES = [(move, status.value, actor) for move in MOVES for status in RideStatus for actor in Actor]


@pytest.mark.parametrize(("move", "status", "actor"), CASES, ids=[f"{m}-{s}-{a}" for m, s, a in CASES])
def test_move_table_is_enforced(move, status, actor, customer, admin_user, photo):
    assigned_driver = DriverFactory()
    has_driver = status in DRIVER_HELD_STATUSES or status in (RideStatus.COMPLETED, RideStatus.NO_SHOW)
    if move == "call_return":  # only an open return can be called: the trip's return leg
        _out, ride = make_trip(
            customer=customer,
            on_call=True,
            scheduled_at=timezone.now() + timedelta(hours=3),
            status=RideStatus.COMPLETED,
            driver=DriverFactory(),
            back_status=status,
            back_driver=assigned_driver if has_driver else None,
        )
    else:
        ride = make_ride(
            customer=customer,
            status=status,
            driver=assigned_driver if has_driver else None,
            # A driver sets off only shortly before pickup (tested on its own below).
            scheduled_at=soon() if move == "start" else None,
        )
    by = {
        Actor.CUSTOMER: customer,
        Actor.DRIVER: assigned_driver,
        Actor.ADMIN: admin_user,
        Actor.SYSTEM: None,
    }[actor]
    expected = ALLOWED.get((move, status, actor.value))
    events_before = RideEvent.objects.count()

    if expected:
        expected = FALLBACKS.get((move, status), expected)
        moved = run_move(move, ride, by, photo, DriverFactory())
        assert RideEvent.objects.filter(ride=ride, action=move).count() == 1
        moved.refresh_from_db()
        assert moved.status == expected
        if expected == CF:
            assert moved.driver is None  # a confirmed ride waits for dispatch
    else:
        with pytest.raises(DomainError) as excinfo:
            run_move(move, ride, by, photo, DriverFactory())
        assert excinfo.value.code in {"not_allowed", "illegal_move"}
        ride.refresh_from_db()
        assert ride.status == status
        assert RideEvent.objects.count() == events_before


def test_unrelated_customer_and_driver_cannot_touch_a_ride(ride, other_customer, other_driver):
    for user in (other_customer, other_driver):
        with pytest.raises(DomainError, match="can't"):
            services.ride_cancel(ride=ride, by=user)
        assert allowed_moves(ride, user) == []
    ride.refresh_from_db()
    assert ride.status == RideStatus.CONFIRMED


def test_inactive_admin_cannot_act(ride, admin_user):
    admin_user.is_active = False
    admin_user.save()
    with pytest.raises(DomainError):
        services.ride_cancel(ride=ride, by=admin_user)


def test_customer_buttons_follow_the_table(customer):
    confirmed = make_ride(customer=customer, status=RideStatus.CONFIRMED)
    completed = make_ride(customer=customer, status=RideStatus.COMPLETED, driver=DriverFactory())
    assert allowed_moves(confirmed, customer) == ["cancel", "reschedule"]
    assert allowed_moves(completed, customer) == []


def test_accepting_twice_is_refused(customer, driver):
    ride = make_ride(customer=customer, status=RideStatus.ASSIGNED, driver=driver)
    services.ride_accept(ride=ride, by=driver)
    with pytest.raises(DomainError, match="already accepted"):
        services.ride_accept(ride=ride, by=driver)


def test_decline_after_accept_is_refused(customer, driver):
    ride = make_ride(customer=customer, status=RideStatus.ASSIGNED, driver=driver)
    services.ride_accept(ride=ride, by=driver)
    with pytest.raises(DomainError, match="accepted"):
        services.ride_decline(ride=ride, by=driver)


def test_pickup_needs_a_photo_and_no_show_a_reason(customer, driver):
    ride = make_ride(customer=customer, status=RideStatus.EN_ROUTE, driver=driver)
    with pytest.raises(DomainError) as excinfo:
        services.ride_pickup(ride=ride, by=driver, photo=None)
    assert "photo" in excinfo.value.errors
    with pytest.raises(DomainError) as excinfo:
        services.ride_no_show(ride=ride, by=driver, reason="  ")
    assert "reason" in excinfo.value.errors
    ride.refresh_from_db()
    assert ride.status == RideStatus.EN_ROUTE


def test_admin_may_complete_without_photo(customer, driver, admin_user):
    ride = make_ride(customer=customer, status=RideStatus.PICKED_UP, driver=driver)
    assert services.ride_complete(ride=ride, by=admin_user).status == RideStatus.COMPLETED


def test_assign_requires_an_active_driver(ride, admin_user, other_customer):
    with pytest.raises(DomainError, match="active driver"):
        services.ride_assign(ride=ride, driver=other_customer, by=admin_user)


def test_moves_announce_inside_their_transaction(ride, admin_user, django_capture_on_commit_callbacks):
    """Receivers hear of a move inside its transaction, so what they record (outbox items)
    commits with the move; the work itself waits for the commit."""
    from bookings.signals import ride_moved
    from core.models import OutboxItem

    received = []

    def receiver(sender, **kwargs):
        received.append({**kwargs, "outbox_items": OutboxItem.objects.count()})

    ride_moved.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.ride_cancel(ride=ride, by=admin_user, reason="Storm")
    finally:
        ride_moved.disconnect(receiver)
    assert received == [
        {
            "signal": ride_moved,
            "ride_id": ride.pk,
            "move": "cancel",
            "from_status": "confirmed",
            "to_status": "cancelled",
            "actor_id": admin_user.pk,
            "event_id": ride.events.get(action="cancel").pk,
            # The apps' receivers, connected at start-up, ran first: their work is already
            # recorded in the open transaction.
            "outbox_items": 2,
        }
    ]
    # The apps' receivers recorded their work (settle the money, tell the people), not done it yet.
    assert set(OutboxItem.objects.values_list("task", "status")) == {
        ("billing.tasks.settle_ride_move", "pending"),
        ("notifications.tasks.handle_occasion", "pending"),
    }
    assert callbacks  # handed to the broker once the transaction commits


def test_a_move_that_rolls_back_leaves_no_consequence(ride, admin_user):
    from django.db import transaction

    from core.models import OutboxItem

    with pytest.raises(RuntimeError), transaction.atomic():
        services.ride_cancel(ride=ride, by=admin_user, reason="Storm")
        raise RuntimeError("the request failed after the move")
    ride.refresh_from_db()
    assert ride.status == "confirmed"
    assert not OutboxItem.objects.exists()


def test_cancel_records_who_cancelled(ride, customer):
    services.ride_cancel(ride=ride, by=customer, reason="Vet moved it")
    event = ride.events.get(action="cancel")
    assert event.data == {"cancelled_by": "customer", "fee_cents": 0}
    assert event.note == "Vet moved it"
