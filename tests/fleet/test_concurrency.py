"""Races, fired for real: several threads, each with its own PostgreSQL connection.

Skipped on SQLite (its in-memory test database can't be shared between connections,
and IMMEDIATE transactions serialise every writer there anyway); CI runs the suite
on PostgreSQL too (.ci/run).
"""

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from bookings import services as rides
from bookings.models import DRIVER_HELD_STATUSES, Ride, RideEvent, RideStatus
from core.errors import DomainError
from fleet import services
from tests.factories import NEAR, AdminFactory, CustomerFactory, PetFactory, make_ride, on_duty_driver, soon

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="needs PostgreSQL (DATABASE_URL)"
    ),
]

THREADS = 8


def race(*calls):
    """Run each call in its own thread and connection, released together. Returns, per call,
    ("ok", result) or ("refused", exception)."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            connection.ensure_connection()  # connect first, so the calls themselves overlap
            barrier.wait(timeout=10)
            outcomes[index] = ("ok", call())
        except (DomainError, IntegrityError) as exc:
            outcomes[index] = ("refused", exc)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes[index] = ("error", exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not [o for o in outcomes if o is None or o[0] == "error"], outcomes
    return outcomes


def overlapping_rides(n):
    """n confirmed rides for different customers, all at the same time."""
    when = timezone.now() + timedelta(days=3)
    return [
        make_ride(pet=PetFactory(owner=CustomerFactory()), scheduled_at=when + timedelta(minutes=i))
        for i in range(n)
    ]


def assign_overlapping_rides_at_once(assign):
    """THREADS overlapping rides, each assigned to one driver by `assign(ride, driver, admin)`
    in its own thread. Returns the driver and the outcomes."""
    driver = on_duty_driver("Dana Diaz", NEAR)
    admin = AdminFactory()
    calls = [lambda ride=ride: assign(ride, driver, admin) for ride in overlapping_rides(THREADS)]
    outcomes = race(*calls)
    assert [kind for kind, _ in outcomes].count("ok") == 1
    assert Ride.objects.filter(driver=driver, status__in=DRIVER_HELD_STATUSES).count() == 1
    return driver, [exc for kind, exc in outcomes if kind == "refused"]


def test_concurrent_assignments_of_overlapping_rides_to_one_driver_have_one_winner():
    _driver, refusals = assign_overlapping_rides_at_once(
        lambda ride, driver, admin: services.dispatch_assign(ride=ride, driver=driver, by=admin)
    )
    assert len(refusals) == THREADS - 1
    assert all(isinstance(exc, DomainError) and exc.code == "conflict" for exc in refusals)  # clear messages
    assert RideEvent.objects.filter(action="assign").count() == 1
    assert Ride.objects.filter(status=RideStatus.CONFIRMED, driver__isnull=True).count() == THREADS - 1


@pytest.fixture
def without_exclusion_constraint():
    """Drop the PostgreSQL constraint for one test, to show fleet's lock holds on its own
    (as it must on SQLite, which has no such constraint)."""
    from importlib import import_module

    migration = import_module("bookings.migrations.0002_fleet_driver_no_overlap")
    with connection.cursor() as cursor:
        for sql in migration.DROP:
            cursor.execute(sql)
    yield
    with connection.cursor() as cursor:
        for sql in migration.CREATE:
            cursor.execute(sql)


def test_fleets_lock_alone_serialises_assignments(without_exclusion_constraint):
    assert "ride_driver_windows_do_not_overlap" not in _constraints()
    _driver, refusals = assign_overlapping_rides_at_once(
        lambda ride, driver, admin: services.dispatch_assign(ride=ride, driver=driver, by=admin)
    )
    assert all("can't take this ride" in exc.message for exc in refusals)  # refused by the Python check


def test_the_database_alone_refuses_overlaps_even_without_fleets_lock():
    """bookings.services.ride_assign has no overlap check: only the exclusion constraint stops these."""
    _driver, refusals = assign_overlapping_rides_at_once(
        lambda ride, driver, admin: rides.ride_assign(ride=ride, driver=driver, by=admin)
    )
    assert len(refusals) == THREADS - 1
    assert all(isinstance(exc, IntegrityError) for exc in refusals)


def test_the_constraint_allows_back_to_back_rides_and_refuses_overlap():
    driver = on_duty_driver("Dana Diaz", NEAR)
    first = make_ride(status=RideStatus.ASSIGNED, driver=driver)
    back_to_back = make_ride(status=RideStatus.ASSIGNED, driver=driver, scheduled_at=first.ends_at)
    assert back_to_back.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        make_ride(
            status=RideStatus.ASSIGNED, driver=driver, scheduled_at=first.ends_at - timedelta(minutes=1)
        )
    # Not held (completed, cancelled), or another driver: no conflict.
    make_ride(status=RideStatus.COMPLETED, driver=driver, scheduled_at=first.scheduled_at)
    make_ride(status=RideStatus.ASSIGNED, driver=on_duty_driver("Eli Park"), scheduled_at=first.scheduled_at)
    assert "ride_driver_windows_do_not_overlap" in _constraints()


def _constraints():
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, Ride._meta.db_table)


def event_chain_is_consistent(ride):
    """The timeline replays to the ride's status: each move starts where the last one ended."""
    status = None
    for event in ride.events.order_by("created_at", "id"):
        if status is not None:
            assert event.from_status == status, (event.action, event.from_status, status)
        status = event.to_status or status
    return status == ride.status


@pytest.mark.parametrize("attempt", range(4))
def test_driver_picking_up_while_the_customer_cancels_ends_one_way(attempt, photo):
    """Pickup (en route -> picked up) and cancel (allowed from en route, not from picked up)
    exclude each other: exactly one wins, and the ride, its events and the winner agree."""
    driver = on_duty_driver("Dana Diaz", NEAR)
    ride = make_ride(status=RideStatus.EN_ROUTE, driver=driver)
    RideEvent.objects.create(ride=ride, action="start", from_status="assigned", to_status="en_route")
    customer = ride.customer
    content = photo.read()

    def pickup():
        from django.core.files.uploadedfile import SimpleUploadedFile

        upload = SimpleUploadedFile("pickup.png", content, content_type="image/png")
        return rides.ride_pickup(ride=ride, by=driver, photo=upload)

    calls = [pickup, lambda: rides.ride_cancel(ride=ride, by=customer, reason="Changed my mind")]
    if attempt % 2:
        calls.reverse()
    outcomes = race(*calls)

    winners = [result for kind, result in outcomes if kind == "ok"]
    assert len(winners) == 1
    (loser,) = [exc for kind, exc in outcomes if kind == "refused"]
    assert isinstance(loser, DomainError) and loser.code == "illegal_move"
    ride.refresh_from_db()
    assert ride.status == winners[0].status in {RideStatus.PICKED_UP, RideStatus.CANCELLED}
    assert ride.events.filter(action__in=["pickup", "cancel"]).count() == 1
    assert event_chain_is_consistent(ride)


@pytest.mark.parametrize("attempt", range(4))
def test_driver_starting_while_the_customer_cancels_leaves_a_consistent_timeline(attempt):
    """Both moves are legal from "assigned", so both may succeed (start, then cancel from en
    route); whatever the order, the ride ends cancelled and its timeline replays to that."""
    driver = on_duty_driver("Dana Diaz", NEAR)
    ride = make_ride(status=RideStatus.ASSIGNED, driver=driver, scheduled_at=soon())  # may set off now
    RideEvent.objects.create(ride=ride, action="assign", from_status="confirmed", to_status="assigned")
    calls = [
        lambda: rides.ride_start(ride=ride, by=driver),
        lambda: rides.ride_cancel(ride=ride, by=ride.customer, reason="Plans changed"),
    ]
    if attempt % 2:
        calls.reverse()
    outcomes = race(*calls)

    ride.refresh_from_db()
    assert ride.status == RideStatus.CANCELLED
    started = [kind for kind, _ in outcomes][0 if attempt % 2 == 0 else 1] == "ok"
    assert ride.events.filter(action="start").count() == int(started)
    assert event_chain_is_consistent(ride)


def test_two_admins_assigning_one_ride_to_two_drivers_have_one_winner():
    ride = make_ride()
    dana, eli = on_duty_driver("Dana Diaz", NEAR), on_duty_driver("Eli Park", NEAR)
    admin = AdminFactory()
    outcomes = race(
        lambda: services.dispatch_assign(ride=ride, driver=dana, by=admin),
        lambda: services.dispatch_assign(ride=ride, driver=eli, by=admin),
    )
    assert [kind for kind, _ in outcomes].count("ok") == 1
    ride.refresh_from_db()
    assert ride.status == RideStatus.ASSIGNED and ride.driver in (dana, eli)
    assert ride.events.filter(action="assign").count() == 1


@pytest.mark.availability
def test_two_customers_booking_the_last_free_driver_at_once_leave_one_booking_and_one_refusal():
    """A booking assigns no driver, so the overlap constraint can't help here: the per-day
    booking lock (bookings.availability.lock_window) makes the second see the first's ride."""
    from datetime import datetime, time

    from bookings.services import Unavailable, ride_plan
    from core.dates import operations_today, operations_zone
    from tests.factories import DROPOFF, PICKUP, DriverProfileFactory

    DriverProfileFactory(hours={day: [(8 * 60, 18 * 60)] for day in range(7)})  # the whole fleet
    when = datetime.combine(operations_today() + timedelta(days=3), time(10), operations_zone())
    plans = []
    for n in range(THREADS):
        pet = PetFactory(owner=CustomerFactory())
        plans.append(ride_plan(customer=pet.owner, pets=[pet], pickup_address=PICKUP, dropoff_address=DROPOFF,
                               scheduled_at=when + timedelta(minutes=5 * n)))  # fmt: skip
    outcomes = race(
        *[lambda plan=plan: rides.ride_book(customer=plan.pets[0].owner, plan=plan) for plan in plans]
    )
    assert [kind for kind, _ in outcomes].count("ok") == 1
    refusals = [exc for kind, exc in outcomes if kind == "refused"]
    assert len(refusals) == THREADS - 1 and all(isinstance(exc, Unavailable) for exc in refusals)
    assert all(exc.suggestions for exc in refusals)  # each gets the times that are still free
    assert Ride.objects.filter(status=RideStatus.PENDING_PAYMENT).count() == 1
