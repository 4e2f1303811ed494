"""Eligibility and ranking (fleet.dispatch), and the assignment services that enforce them."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings.models import Pet, RideEvent, RideStatus
from core.dates import operations_zone
from core.errors import DomainError
from fleet import services
from fleet.dispatch import candidates, eligible_candidates
from fleet.models import CrateSize
from tests.factories import FAR, NEAR, DriverProfileFactory, make_ride, on_duty_driver

pytestmark = pytest.mark.django_db


def reasons_for(driver, ride):
    return next(c for c in candidates(ride) if c.driver.pk == driver.pk).reasons


def test_an_active_on_duty_driver_whose_vehicle_fits_is_eligible(fleet_driver, ride):
    assert reasons_for(fleet_driver, ride) == ()
    assert [c.driver for c in eligible_candidates(ride)] == [fleet_driver]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda profile: setattr(profile, "on_duty", False), "Off duty"),
        (lambda profile: setattr(profile.user, "is_active", False), "Account deactivated"),
        (lambda profile: setattr(profile, "pet_types", [Pet.Type.CAT]), "Doesn't take dogs"),
        (
            lambda profile: setattr(profile, "max_crate_size", CrateSize.SMALL),
            "Crate too big: needs medium, takes up to small",
        ),
    ],
    ids=["off-duty", "inactive", "wrong-pet-type", "crate-too-big"],
)
def test_each_reason_excludes_a_driver_and_assignment_refuses(change, reason, fleet_driver, pet, admin_user):
    pet.weight_lb = Decimal("40")  # a medium crate
    pet.save()
    ride = make_ride(pet=pet)
    profile = fleet_driver.driver_profile
    change(profile)
    profile.user.save()
    profile.save()

    assert reasons_for(fleet_driver, ride) == (reason,)
    assert eligible_candidates(ride) == []
    with pytest.raises(DomainError) as excinfo:
        services.dispatch_assign(ride=ride, driver=fleet_driver, by=admin_user)
    assert excinfo.value.code == "conflict"
    assert reason.lower() in excinfo.value.message
    ride.refresh_from_db()
    assert ride.status == RideStatus.CONFIRMED and ride.driver is None
    assert not ride.events.exists()


@pytest.mark.parametrize(
    ("other_start", "other_end", "busy"),
    [
        (-60, 0, False),  # ends exactly when this ride starts: windows are half-open
        (-60, 1, True),  # ends a minute into this ride
        ("end", "end+60", False),  # starts exactly when this ride's window ends
        ("end-1", "end+60", True),  # starts a minute before it ends
        (10, 20, True),  # inside
        (-60, "end+60", True),  # around
    ],
)
def test_overlap_at_the_window_edges(other_start, other_end, busy, fleet_driver, customer):
    ride = make_ride(customer=customer)

    def at(spec):
        if isinstance(spec, int):
            return ride.scheduled_at + timedelta(minutes=spec)
        base, _, minutes = spec.partition("end")
        return ride.ends_at + timedelta(minutes=int(minutes or 0))

    make_ride(
        customer=customer,
        status=RideStatus.ASSIGNED,
        driver=fleet_driver,
        scheduled_at=at(other_start),
        ends_at=at(other_end),
    )
    expected = ("Has another ride in this time window",) if busy else ()
    assert reasons_for(fleet_driver, ride) == expected


@pytest.mark.parametrize("status", [RideStatus.COMPLETED, RideStatus.CANCELLED, RideStatus.NO_SHOW])
def test_rides_the_driver_no_longer_holds_do_not_block(status, fleet_driver, customer):
    ride = make_ride(customer=customer)
    make_ride(customer=customer, status=status, driver=fleet_driver, scheduled_at=ride.scheduled_at)
    assert reasons_for(fleet_driver, ride) == ()


def test_ranking_nearest_first_then_least_loaded_then_unknown_positions(customer):
    # At 14:00 local: the two earlier rides below fall on the same operations day whatever
    # the hour the test runs (now + 3 days could be just after midnight).
    day = timezone.localtime(timezone.now() + timedelta(days=3), operations_zone())
    ride = make_ride(customer=customer, scheduled_at=day.replace(hour=14, minute=0, second=0, microsecond=0))
    near_busy = on_duty_driver("Near Busy", NEAR)
    near_free = on_duty_driver("Near Free", NEAR)
    far = on_duty_driver("Far Away", FAR)
    unknown = on_duty_driver("Never Reported")
    off = on_duty_driver("Off Duty", NEAR, on_duty=False)
    # Two rides earlier the same day for Near Busy.
    for hours in (4, 6):
        make_ride(
            customer=customer,
            status=RideStatus.ASSIGNED,
            driver=near_busy,
            scheduled_at=ride.scheduled_at - timedelta(hours=hours),
        )

    ranked = candidates(ride)
    assert [c.driver for c in ranked] == [near_free, near_busy, far, unknown, off]
    assert [c.rides_that_day for c in ranked[:2]] == [0, 2]
    assert ranked[0].distance_miles < 1 < ranked[2].distance_miles
    assert ranked[3].distance_miles is None


def test_a_driver_who_declined_ranks_last_and_auto_dispatch_skips_them(customer, auto_dispatch_off):
    ride = make_ride(customer=customer)
    decliner = on_duty_driver("Decliner", NEAR)
    RideEvent.objects.create(ride=ride, actor=decliner, action="decline", from_status="assigned")
    other = on_duty_driver("Other", FAR)

    assert [c.driver for c in eligible_candidates(ride)] == [other, decliner]
    assert services.ride_auto_dispatch(ride_id=ride.pk).driver == other


def test_a_crate_size_follows_the_pets_weight():
    def size(weight):
        return CrateSize.for_pet(Pet(weight_lb=Decimal(weight)))

    assert [size(w) for w in ("3", "25", "25.1", "50", "90", "140")] == [
        CrateSize.SMALL,
        CrateSize.SMALL,
        CrateSize.MEDIUM,
        CrateSize.MEDIUM,
        CrateSize.LARGE,
        CrateSize.XLARGE,
    ]


def test_candidates_is_one_query_whatever_the_fleet_size(customer, django_assert_num_queries):
    ride = make_ride(customer=customer)
    for n in range(12):
        on_duty_driver(f"Driver {n}", NEAR if n % 2 else None)
    ride.party_members  # noqa: B018 - loaded by the caller in the views
    # drivers with load/overlap annotations; their hours; their days off; who declined
    with django_assert_num_queries(4):
        assert len(candidates(ride)) == 12


# --- Assignment services ---------------------------------------------------------------


def test_assign_gives_the_ride_to_the_driver_and_clears_a_flag(ride, fleet_driver, admin_user):
    ride.attention = services.AUTO_DISPATCH_FLAG
    ride.save()
    assigned = services.dispatch_assign(ride=ride, driver=fleet_driver, by=admin_user, note="Regular")
    assert (assigned.status, assigned.driver, assigned.attention) == (RideStatus.ASSIGNED, fleet_driver, "")
    event = ride.events.get(action="assign")
    assert (event.actor, event.note, event.data["driver_id"]) == (admin_user, "Regular", fleet_driver.pk)


def test_assign_needs_a_driver_with_a_vehicle(ride, driver, admin_user):
    with pytest.raises(DomainError, match="no vehicle"):
        services.dispatch_assign(ride=ride, driver=driver, by=admin_user)


def test_assign_refuses_a_ride_that_is_not_waiting(fleet_driver, customer, admin_user):
    ride = make_ride(customer=customer, status=RideStatus.CANCELLED)
    with pytest.raises(DomainError) as excinfo:
        services.dispatch_assign(ride=ride, driver=fleet_driver, by=admin_user)
    assert excinfo.value.code == "illegal_move"


def test_reassign_needs_a_reason_and_an_eligible_driver(
    fleet_driver, other_fleet_driver, customer, admin_user
):
    ride = make_ride(customer=customer, status=RideStatus.ASSIGNED, driver=fleet_driver)
    with pytest.raises(DomainError) as excinfo:
        services.dispatch_reassign(ride=ride, driver=other_fleet_driver, by=admin_user, reason=" ")
    assert "reason" in excinfo.value.errors

    # The new driver is busy then: refused, nothing changes.
    make_ride(
        customer=customer,
        status=RideStatus.ASSIGNED,
        driver=other_fleet_driver,
        scheduled_at=ride.scheduled_at,
    )
    with pytest.raises(DomainError, match="another ride in this time window"):
        services.dispatch_reassign(ride=ride, driver=other_fleet_driver, by=admin_user, reason="Swap")
    ride.refresh_from_db()
    assert ride.driver == fleet_driver

    # The current driver is not "another" driver.
    with pytest.raises(DomainError, match="has this ride now"):
        services.dispatch_reassign(ride=ride, driver=fleet_driver, by=admin_user, reason="Swap")


def test_reassign_and_unassign_record_the_reason(fleet_driver, other_fleet_driver, customer, admin_user):
    ride = make_ride(customer=customer, status=RideStatus.ASSIGNED, driver=fleet_driver)
    services.dispatch_reassign(ride=ride, driver=other_fleet_driver, by=admin_user, reason="Dana is ill")
    assert ride.events.get(action="reassign").note == "Dana is ill"

    with pytest.raises(DomainError):
        services.dispatch_unassign(ride=ride, by=admin_user, reason="")
    services.dispatch_unassign(ride=ride, by=admin_user, reason="Vehicle broke down")
    ride.refresh_from_db()
    assert (ride.status, ride.driver) == (RideStatus.CONFIRMED, None)
    assert ride.events.get(action="unassign").note == "Vehicle broke down"


# --- Auto-dispatch ---------------------------------------------------------------------


def book_and_pay(customer, pet, committed, pay, when=None):
    """Book and pay (at localstripe) through the real services; on-commit work
    (ride_moved "confirm" -> auto-dispatch task) runs."""
    from bookings.services import ride_book, ride_plan
    from tests.factories import DROPOFF, PICKUP

    plan = ride_plan(
        customer=customer,
        pets=[pet],
        pickup_address=PICKUP,
        dropoff_address=DROPOFF,
        scheduled_at=when or timezone.now() + timedelta(days=3),
    )
    with committed():
        ride = ride_book(customer=customer, plan=plan)
    pay(ride)
    ride.refresh_from_db()
    return ride


def test_a_confirmed_ride_gets_the_best_driver_automatically(
    customer,
    pet,
    fleet_driver,
    other_fleet_driver,
    auto_dispatch_on,
    committed,
    pay,
):
    ride = book_and_pay(customer, pet, committed, pay)
    assert (ride.status, ride.driver) == (RideStatus.ASSIGNED, fleet_driver)  # the nearer one
    event = ride.events.get(action="assign")
    assert event.actor is None and event.note.startswith("Auto-dispatch")


def test_a_ride_nobody_can_take_stays_in_the_queue_flagged_once(
    customer, pet, auto_dispatch_on, committed, pay
):
    on_duty_driver("Off Duty", NEAR, on_duty=False)
    ride = book_and_pay(customer, pet, committed, pay)
    assert (ride.status, ride.driver, ride.attention) == (
        RideStatus.CONFIRMED,
        None,
        services.AUTO_DISPATCH_FLAG,
    )
    services.ride_auto_dispatch(ride_id=ride.pk)  # a second run (retry) changes nothing
    assert ride.events.filter(action="flag").count() == 1


def test_auto_dispatch_can_be_switched_off(customer, pet, fleet_driver, auto_dispatch_off, committed, pay):
    ride = book_and_pay(customer, pet, committed, pay)
    assert (ride.status, ride.driver, ride.attention) == (RideStatus.CONFIRMED, None, "")


def test_auto_dispatch_leaves_a_placed_or_ended_ride_alone(customer, fleet_driver, admin_user):
    assigned = make_ride(customer=customer, status=RideStatus.ASSIGNED, driver=fleet_driver)
    past = make_ride(
        customer=customer, scheduled_at=make_ride(customer=customer).scheduled_at - timedelta(days=10)
    )
    for ride in (assigned, past):
        assert services.ride_auto_dispatch(ride_id=ride.pk) is None
        assert not ride.events.exists()
    assert services.ride_auto_dispatch(ride_id=999_999) is None


def test_a_declined_ride_goes_to_another_driver(
    customer, fleet_driver, other_fleet_driver, auto_dispatch_on, committed
):
    from bookings.services import ride_decline

    ride = make_ride(customer=customer, status=RideStatus.ASSIGNED, driver=fleet_driver)
    with committed():
        ride_decline(ride=ride, by=fleet_driver, reason="Car in the shop")
    ride.refresh_from_db()
    assert (ride.status, ride.driver) == (RideStatus.ASSIGNED, other_fleet_driver)


def test_a_rescheduled_ride_is_dispatched_again(customer, pet, fleet_driver, auto_dispatch_on, committed):
    from bookings.services import ride_reschedule

    # The hold covers any fare the new time may cost.
    ride = make_ride(pet=pet, status=RideStatus.ASSIGNED, driver=fleet_driver, payment_secured_cents=10_000)
    with committed():
        ride_reschedule(ride=ride, by=customer, scheduled_at=ride.scheduled_at + timedelta(days=1))
    ride.refresh_from_db()
    assert (ride.status, ride.driver) == (RideStatus.ASSIGNED, fleet_driver)
    assert list(ride.events.values_list("action", flat=True)) == ["reschedule", "assign"]


def test_a_ride_whose_fare_is_not_secured_waits_until_it_is(pet, fleet_driver, auto_dispatch_on, committed):
    """Moved to a pricier time (its hold covers $20.00 of the fare): no driver until billing
    says the new fare is secured, then dispatch runs by itself."""
    from bookings.services import ride_set_payment_secured

    ride = make_ride(pet=pet, payment_secured_cents=2000)
    assert ride.price_cents > 2000
    with committed():
        services.ride_auto_dispatch(ride_id=ride.pk)
        assert services.dispatch_waiting_rides() == 0
    ride.refresh_from_db()
    assert (ride.status, ride.driver, ride.attention) == (RideStatus.CONFIRMED, None, "")

    with committed():
        ride_set_payment_secured(ride_id=ride.pk, amount_cents=ride.price_cents)

    ride.refresh_from_db()
    assert (ride.status, ride.driver) == (RideStatus.ASSIGNED, fleet_driver)


def test_operations_cannot_assign_a_ride_whose_fare_is_not_secured(pet, fleet_driver, admin_user):
    ride = make_ride(pet=pet, payment_secured_cents=0)
    with pytest.raises(DomainError, match="fare isn't secured"):
        services.dispatch_assign(ride=ride, driver=fleet_driver, by=admin_user)
    ride.refresh_from_db()
    assert (ride.status, ride.driver) == (RideStatus.CONFIRMED, None)


def test_going_on_duty_places_waiting_rides(customer, driver, auto_dispatch_on, committed):
    DriverProfileFactory(user=driver, on_duty=False)
    waiting = make_ride(customer=customer)
    with committed():
        services.driver_set_duty(driver=driver, on_duty=True)
    waiting.refresh_from_db()
    assert waiting.driver == driver
