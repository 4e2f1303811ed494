"""Availability (fleet.availability, asked through bookings.availability): a time is servable
when fitting drivers who work then and hold nothing overlapping outnumber the rides already
waiting for a driver then; if not, the nearest servable times are suggested, and booking one
of them works. The booking form, the live quote and the API all use it."""

import functools
import random
from datetime import datetime, time, timedelta
from decimal import Decimal
from http import HTTPStatus

import pytest

from bookings import availability, services
from bookings.models import DRIVER_HELD_STATUSES, Pet, Ride, RideEvent, RideStatus
from core.dates import operations_today, operations_zone
from fleet.availability import _Driver
from fleet.dispatch import vehicle_fit_reasons, works_through
from fleet.hours import WorkingTime
from fleet.models import CrateSize, DriverProfile, TimeOff
from tests.api.conftest import ApiClient
from tests.factories import DROPOFF, PICKUP, DriverProfileFactory, PetFactory, make_ride

pytestmark = [pytest.mark.django_db, pytest.mark.availability]

DAY = operations_today() + timedelta(days=3)
WAITING = (RideStatus.PENDING_PAYMENT, RideStatus.CONFIRMED)


def at(hh: int, mm: int = 0, day=DAY) -> datetime:
    return datetime.combine(day, time(hh, mm), operations_zone())


def plan_for(customer, pet, when):
    return services.ride_plan(
        customer=customer, pets=[pet], pickup_address=PICKUP, dropoff_address=DROPOFF, scheduled_at=when
    )


def answer(customer, pet, when, **kwargs):
    return services.ride_availability(plan=plan_for(customer, pet, when), customer=customer, **kwargs)


def form_data(pet, when):
    local = when.astimezone(operations_zone())
    return {"pets": [pet.pk], "pickup_address": PICKUP, "dropoff_address": DROPOFF,
            "scheduled_at": local.strftime("%Y-%m-%dT%H:%M"), "notes": ""}  # fmt: skip


@pytest.fixture
def one_driver(db):
    """The whole fleet: one driver who takes every pet, weekdays and weekends 08:00–18:00."""
    return DriverProfileFactory(hours={day: [(8 * 60, 18 * 60)] for day in range(7)})


def test_a_fitting_driver_at_work_and_free_can_serve(customer, pet, one_driver):
    assert answer(customer, pet, at(10)).servable


@pytest.mark.parametrize(
    "make_unservable",
    [
        lambda profile, pet: make_ride(
            status=RideStatus.ASSIGNED, driver=profile.user, scheduled_at=at(10, 10)
        ),
        lambda profile, pet: TimeOff.objects.create(driver=profile, starts_on=DAY, ends_on=DAY),
        lambda profile, pet: profile.working_hours.update(starts=time(11)),  # starts after the pickup
        lambda profile, pet: DriverProfileFactory._meta.model.objects.filter(pk=profile.pk).update(
            max_crate_size=CrateSize.SMALL
        ),
        lambda profile, pet: DriverProfileFactory._meta.model.objects.filter(pk=profile.pk).update(
            pet_types=[Pet.Type.CAT]
        ),
        lambda profile, pet: make_ride(status=RideStatus.PENDING_PAYMENT, scheduled_at=at(9, 50)),
        lambda profile, pet: make_ride(status=RideStatus.CONFIRMED, scheduled_at=at(10, 20)),
        lambda profile, pet: profile.user.__class__.objects.filter(pk=profile.pk).update(is_active=False),
    ],
    ids=[
        "busy",
        "day-off",
        "not-working-yet",
        "crate-too-small",
        "wrong-pet-type",
        "an-unpaid-booking-waits",
        "a-confirmed-ride-waits",
        "deactivated",
    ],  # fmt: skip
)
def test_a_time_is_refused_when_no_fitting_driver_is_free(customer, one_driver, make_unservable, request):
    pet = PetFactory(owner=customer, weight_lb=Decimal("40"))  # a medium crate
    make_unservable(one_driver, pet)
    refused = answer(customer, pet, at(10))
    assert not refused.servable
    if request.node.callspec.id in ("crate-too-small", "wrong-pet-type", "deactivated"):
        assert refused.suggestions == ()  # no fitting driver at any time
    else:
        assert refused.suggestions, "there are free times that day or the next"
        assert at(10) not in refused.suggestions


def test_windows_are_half_open_a_ride_may_start_when_the_last_ends(customer, pet, one_driver):
    held = make_ride(status=RideStatus.ASSIGNED, driver=one_driver.user, scheduled_at=at(9))
    assert answer(customer, pet, held.ends_at).servable
    assert not answer(customer, pet, held.ends_at - timedelta(minutes=1)).servable


def test_a_party_needs_a_vehicle_that_carries_all_of_it():
    from fleet.dispatch import vehicle_fit_reasons

    profile = DriverProfileFactory.build(pet_capacity=2, max_crate_size=CrateSize.MEDIUM, pet_types=["dog"])
    dog, big_dog, cat = (Pet(type="dog", weight_lb=Decimal("20")), Pet(type="dog", weight_lb=Decimal("70")),
                         Pet(type="cat", weight_lb=Decimal("8")))  # fmt: skip
    assert vehicle_fit_reasons(profile, [dog, dog]) == []
    assert vehicle_fit_reasons(profile, [dog, dog, dog]) == ["Carries 2 pets at most, this ride has 3"]
    assert vehicle_fit_reasons(profile, [dog, cat]) == ["Doesn't take cats"]
    assert vehicle_fit_reasons(profile, [dog, big_dog]) == ["Crate too big: needs large, takes up to medium"]


def test_two_free_drivers_serve_one_waiting_ride_and_one_more(customer, pet, one_driver):
    DriverProfileFactory(hours={day: [(8 * 60, 18 * 60)] for day in range(7)})
    make_ride(status=RideStatus.CONFIRMED, scheduled_at=at(10))
    assert answer(customer, pet, at(10)).servable
    make_ride(status=RideStatus.PENDING_PAYMENT, scheduled_at=at(10))
    assert not answer(customer, pet, at(10)).servable


def test_suggested_times_are_nearest_first_on_the_grid_and_really_bookable(customer, pet, one_driver):
    make_ride(status=RideStatus.ASSIGNED, driver=one_driver.user, scheduled_at=at(10))
    refused = answer(customer, pet, at(10, 15))
    assert not refused.servable
    assert len(refused.suggestions) == 6
    assert list(refused.suggestions) == sorted(refused.suggestions)
    assert all(t.minute % 15 == 0 for t in refused.suggestions)
    for t in refused.suggestions:
        assert answer(customer, pet, t, suggest=False).servable
    ride = services.ride_book(customer=customer, plan=plan_for(customer, pet, refused.suggestions[0]))
    assert ride.status == RideStatus.PENDING_PAYMENT


def test_booking_a_time_nobody_can_serve_writes_nothing(customer, pet, one_driver):
    make_ride(status=RideStatus.ASSIGNED, driver=one_driver.user, scheduled_at=at(10))
    rides, events = Ride.objects.count(), RideEvent.objects.count()
    with pytest.raises(services.Unavailable) as refused:
        services.ride_book(customer=customer, plan=plan_for(customer, pet, at(10)))
    assert refused.value.code == "conflict"
    assert "No driver is free for that pickup time. Try " in refused.value.errors["scheduled_at"][0]
    assert (Ride.objects.count(), RideEvent.objects.count()) == (rides, events)


def test_the_booking_form_refuses_with_suggestions_and_writes_nothing(customer_client, pet, one_driver):
    make_ride(status=RideStatus.ASSIGNED, driver=one_driver.user, scheduled_at=at(10))
    rides = Ride.objects.count()
    response = customer_client.post("/app/rides/new/", form_data(pet, at(10)))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    body = response.content.decode()
    assert "No driver is free for that pickup time." in body
    assert response.context["form"].errors["scheduled_at"]
    assert body.count('data-testid="suggested-time"') == 6
    assert Ride.objects.count() == rides

    free = response.context["suggested_times"][0][0]  # as the time field takes it
    booked = customer_client.post("/app/rides/new/", {**form_data(pet, at(10)), "scheduled_at": free})
    assert booked.status_code == HTTPStatus.FOUND
    assert Ride.objects.count() == rides + 1


def test_the_live_quote_says_whether_the_time_can_be_served(customer_client, pet, one_driver):
    fine = customer_client.post("/app/rides/quote/", form_data(pet, at(10)))
    assert 'data-testid="servable"' in fine.content.decode()
    make_ride(status=RideStatus.ASSIGNED, driver=one_driver.user, scheduled_at=at(10))
    full = customer_client.post("/app/rides/quote/", form_data(pet, at(10))).content.decode()
    assert 'data-testid="unservable"' in full
    assert 'data-fill-time="' in full and 'data-testid="quote-total"' in full  # still priced


def test_the_answer_is_a_few_queries_whatever_the_fleet_and_the_day(customer, pet, django_assert_num_queries):
    def grow(drivers, rides):
        for _ in range(drivers):
            profile = DriverProfileFactory()
            TimeOff.objects.create(driver=profile, starts_on=DAY, ends_on=DAY)  # all off: sweeps everything
        for n in range(rides):
            make_ride(status=RideStatus.CONFIRMED, scheduled_at=at(6) + timedelta(minutes=17 * n))

    grow(2, 2)
    plan = plan_for(customer, pet, at(10))
    # drivers, their hours, their days off, the rides: for the window, then (refused) the rides
    # of the two days the suggestions come from
    with django_assert_num_queries(5):
        small = services.ride_availability(plan=plan, customer=customer)
    grow(20, 30)
    with django_assert_num_queries(5):
        large = services.ride_availability(plan=plan, customer=customer)
    assert not small.servable and not large.servable
    for _ in range(10):  # more drivers at work than rides waiting then: servable from the window's rides
        DriverProfileFactory()
    with django_assert_num_queries(4):
        assert services.ride_availability(plan=plan, customer=customer).servable


@pytest.mark.parametrize("duration", [timedelta(minutes=45), None], ids=["whole-slots", "the-plan's"])
def test_every_slot_and_suggestion_matches_asking_each_driver_in_turn(customer, duration):
    """The slot sweep (a day's slots, a refusal's suggestions) against the rule read literally,
    on a random small fleet (fixed seed): per slot, count the fitting drivers who work through
    it (dispatch's works_through) and hold no ride overlapping it, against the waiting rides
    overlapping it, comparing datetimes. Hours and rides on 5-minute steps, so that windows
    often touch exactly (45 minutes: slots end on the grid too)."""
    rng = random.Random(20261202)
    pet = PetFactory(owner=customer, weight_lb=Decimal("40"))  # a medium crate
    next_day = DAY + timedelta(days=1)
    for n in range(7):
        hours = {}
        for weekday in range(7):
            if rng.random() < 0.8:
                starts = rng.randrange(0, 12 * 60, 5)
                hours[weekday] = [(starts, rng.choice([starts + rng.randrange(60, 10 * 60, 5), 24 * 60]))]
        crate = CrateSize.SMALL if n == 6 else CrateSize.XLARGE  # the last one can't carry the pet
        profile = DriverProfileFactory(hours=hours, max_crate_size=crate)
        if n == 5:
            TimeOff.objects.create(driver=profile, starts_on=DAY, ends_on=DAY)
        ride_at = at(5)  # held rides, back to back or with gaps
        while (ride_at := ride_at + timedelta(minutes=rng.randrange(0, 6 * 60, 5))) < at(23, day=next_day):
            ends = ride_at + timedelta(minutes=rng.choice([30, 45, 60]))
            make_ride(status=RideStatus.ASSIGNED, driver=profile.user, scheduled_at=ride_at, ends_at=ends)
            ride_at = ends
    for _ in range(25):
        when = at(6, day=DAY + timedelta(days=rng.randrange(2))) + timedelta(
            minutes=rng.randrange(0, 16 * 60, 5)
        )
        make_ride(status=rng.choice(WAITING), scheduled_at=when, ends_at=when + timedelta(minutes=40))

    rides = list(Ride.objects.filter(status__in=[*WAITING, *DRIVER_HELD_STATUSES]))
    drivers = DriverProfile.objects.filter(user__is_active=True).prefetch_related("working_hours", "time_off")
    fitting = [profile for profile in drivers if not vehicle_fit_reasons(profile, [pet])]
    plan = plan_for(customer, pet, at(10))
    duration = duration or plan.ends_at - plan.scheduled_at
    now = at(7, 10)  # the first slots of DAY are too soon to book

    def overlaps(ride, start, end):
        return ride.scheduled_at < end and ride.ends_at > start

    def servable(start, end):
        waiting = sum(ride.status in WAITING and overlaps(ride, start, end) for ride in rides)
        free = sum(
            works_through(profile, start, end)
            and not any(ride.driver_id == profile.pk and overlaps(ride, start, end) for ride in rides)
            for profile in fitting
        )
        return free > waiting

    @functools.cache
    def bookable(t):
        return not services.pickup_time_errors(t, now) and servable(t, t + duration)

    def suggestions(start):  # the nearest bookable slots, that day and the next
        day = start.astimezone(operations_zone()).date()
        slots = availability.slot_grid(max(at(0, day=day), now), at(0, day=day + timedelta(days=2)))
        nearest = sorted((t for t in slots if t != start and bookable(t)), key=lambda t: (abs(t - start), t))
        return tuple(sorted(nearest[:6]))

    slots = availability.slot_grid(at(0), at(0, day=next_day))
    expected = [t for t in slots if bookable(t)]
    assert 10 < len(expected) < len(slots) - 40, "a mixed day: some slots free, many not"
    day = availability.servable_starts(
        pets=[pet], pickup=plan.pickup, first=at(0), last=at(0, day=next_day), duration=duration, now=now
    )
    assert day == expected

    refused = 0
    for start in [*rng.sample(slots, 30), at(10, 7), at(13, 52), at(23, 59), at(12, day=next_day)]:
        window = {"starts_at": start, "ends_at": start + duration}
        got = availability.check(pets=[pet], pickup=plan.pickup, **window, now=now, tz=operations_zone())
        if servable(start, start + duration):
            assert got == availability.Answer(servable=True), start
        else:
            refused += 1
            assert got == availability.Answer(servable=False, suggestions=suggestions(start)), start
    assert refused >= 5


def test_a_drivers_free_slots_are_those_the_rule_leaves_free():
    """One driver's part of the sweep (`_Driver.free_slots`) against the rule read literally, on
    small whole numbers so that windows often touch exactly: slot k is free when a span of
    working time holds all of it and no held ride overlaps it; each free slot comes once."""
    rng = random.Random(7)
    starts = list(range(0, 100, 3))
    for duration in (1, 3, 4, 7):
        ends = [start + duration for start in starts]
        for _ in range(300):
            bounds = sorted(
                rng.sample(range(110), 6)
            )  # 3 spans, none touching (merged, as fleet.hours makes them)
            spans = list(zip(bounds[::2], bounds[1::2], strict=True))
            held, at_ = [], rng.randrange(-5, 20)
            while at_ < 110:  # back to back or with gaps
                held.append((at_, at_ + rng.randrange(1, 12)))
                at_ = held[-1][1] + rng.choice([0, 0, rng.randrange(1, 15)])
            driver = _Driver(
                WorkingTime([a for a, _ in spans], [b for _, b in spans]),
                [a for a, _ in held],
                [b for _, b in held],
            )
            got = [k for lo, hi in driver.free_slots(starts, ends) for k in range(lo, hi)]
            expected = [
                k
                for k, (start, end) in enumerate(zip(starts, ends, strict=True))
                if any(a <= start and end <= b for a, b in spans)
                and not any(a < end and b > start for a, b in held)
            ]
            assert got == expected, (duration, spans, held)


def test_without_a_fleet_every_time_is_servable(customer, pet, monkeypatch):
    monkeypatch.setattr(availability, "_provider", None)
    assert answer(customer, pet, at(3)).servable


# --- API ----------------------------------------------------------------------------------


def body(pet, when):
    return {"pets": [pet.pk], "pickup_address": PICKUP, "dropoff_address": DROPOFF,
            "scheduled_at": when.isoformat()}  # fmt: skip


def test_api_quote_carries_availability(customer, pet, one_driver):
    api = ApiClient(customer)
    quote = api.post("/quotes", body(pet, at(10))).json()
    assert quote["availability"] == {"servable": True, "suggested_times": []}
    make_ride(status=RideStatus.ASSIGNED, driver=one_driver.user, scheduled_at=at(10))
    quote = api.post("/quotes", body(pet, at(10))).json()
    assert quote["availability"]["servable"] is False
    assert len(quote["availability"]["suggested_times"]) == 6


def test_api_booking_refusal_is_a_409_with_suggestions_and_writes_nothing(customer, pet, one_driver):
    api = ApiClient(customer)
    make_ride(status=RideStatus.ASSIGNED, driver=one_driver.user, scheduled_at=at(10))
    rides = Ride.objects.count()
    response = api.post("/bookings", body(pet, at(10)))
    assert response.status_code == HTTPStatus.CONFLICT
    refusal = response.json()
    assert refusal["errors"]["scheduled_at"][0].startswith("No driver is free for that pickup time.")
    assert Ride.objects.count() == rides
    free = refusal["errors"]["suggested_times"][0]
    booked = api.post("/bookings", {**body(pet, at(10)), "scheduled_at": free})
    assert booked.status_code == HTTPStatus.CREATED


def test_api_day_availability_lists_servable_slots(customer, pet, one_driver):
    api = ApiClient(customer)
    make_ride(status=RideStatus.ASSIGNED, driver=one_driver.user, scheduled_at=at(10))
    query = f"/availability?date={DAY.isoformat()}&pets={pet.pk}&pickup={PICKUP}&dropoff={DROPOFF}"
    day = api.get(query + f"&at={at(10).isoformat()}").json()
    slots = [datetime.fromisoformat(t) for t in day["slots"]]
    assert slots[0] == at(8) and slots[-1] < at(18)
    assert at(10) not in slots and at(9, 45) not in slots  # the held ride's window
    assert at(9) in slots  # ends (window_minutes later) before the held ride starts
    assert day["requested"]["servable"] is False
    assert {datetime.fromisoformat(t) for t in day["requested"]["suggested_times"]} <= set(slots) | {
        t for t in map(datetime.fromisoformat, day["requested"]["suggested_times"]) if t.date() != DAY
    }
    assert day["slot_minutes"] == 15 and day["window_minutes"] > 30


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("date=2020-01-01&pets={pet}&pickup=" + PICKUP, HTTPStatus.BAD_REQUEST, "date"),
        ("date=not-a-day&pets={pet}&pickup=" + PICKUP, HTTPStatus.UNPROCESSABLE_ENTITY, "date"),
        ("date={day}&pets=x,y&pickup=" + PICKUP, HTTPStatus.BAD_REQUEST, "pets"),
        ("date={day}&pets={other}&pickup=" + PICKUP, HTTPStatus.BAD_REQUEST, "pets"),  # not the caller's
        ("date={day}&pets=&pickup=" + PICKUP, HTTPStatus.BAD_REQUEST, "pets"),
        ("date={day}&pets={pet}&pickup=nowhere", HTTPStatus.BAD_REQUEST, "pickup"),
        ("date={day}&pets={pet}", HTTPStatus.UNPROCESSABLE_ENTITY, "pickup"),
        # Far-off or oversized values are field errors, not a 500.
        ("date=9999-12-31&pets={pet}&pickup=" + PICKUP, HTTPStatus.BAD_REQUEST, "date"),
        ("date={day}&pets=99999999999999999999&pickup=" + PICKUP, HTTPStatus.BAD_REQUEST, "pets"),
        ("date={day}&pets={pet}&pickup=" + PICKUP + "&at=9999-12-31T23:59:00Z", HTTPStatus.BAD_REQUEST, "at"),
        ("date={day}&pets={pet}&pickup=" + PICKUP + "&at=2020-01-01T10:00:00Z", HTTPStatus.BAD_REQUEST, "at"),
    ],
)
def test_api_day_availability_refuses_bad_input_clearly(customer, pet, other_customer, query, status, field):
    other = PetFactory(owner=other_customer)
    path = "/availability?" + query.format(pet=pet.pk, other=other.pk, day=DAY.isoformat())
    response = ApiClient(customer).get(path)
    assert response.status_code == status, response.content
    assert field in response.json()["errors"]


def test_api_day_availability_is_for_customers(driver, admin_user, pet):
    path = f"/availability?date={DAY.isoformat()}&pets={pet.pk}&pickup={PICKUP}"
    assert ApiClient().get(path).status_code == HTTPStatus.UNAUTHORIZED
    for user in (driver, admin_user):
        response = ApiClient(user).get(path)
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert "slots" not in response.json()


def test_rescheduling_to_a_time_nobody_can_serve_is_refused_and_changes_nothing(customer, pet, one_driver):
    ride = make_ride(pet=pet, scheduled_at=at(14))
    make_ride(status=RideStatus.ASSIGNED, driver=one_driver.user, scheduled_at=at(10))
    events = RideEvent.objects.count()
    with pytest.raises(services.Unavailable) as refused:
        services.ride_reschedule(ride=ride, by=customer, scheduled_at=at(10))
    assert refused.value.suggestions and refused.value.errors["scheduled_at"]
    ride.refresh_from_db()
    assert ride.scheduled_at == at(14) and RideEvent.objects.count() == events
    # Its own window does not count against it: moving a quarter of an hour is fine.
    moved = services.ride_reschedule(ride=ride, by=customer, scheduled_at=at(14, 15))
    assert moved.scheduled_at == at(14, 15)


def test_the_reschedule_page_live_quote_says_whether_the_new_time_can_be_served(
    customer_client, pet, one_driver
):
    ride = make_ride(pet=pet, customer=pet.owner, scheduled_at=at(14))
    make_ride(status=RideStatus.ASSIGNED, driver=one_driver.user, scheduled_at=at(10))
    url = f"/app/rides/{ride.pk}/reschedule/quote/"
    local = "%Y-%m-%dT%H:%M"
    full = customer_client.post(url, {"scheduled_at": at(10).astimezone(operations_zone()).strftime(local)})
    body = full.content.decode()
    assert 'data-testid="unservable"' in body and body.count('data-testid="suggested-time"') == 6
    free = customer_client.post(url, {"scheduled_at": at(16).astimezone(operations_zone()).strftime(local)})
    assert 'data-testid="servable"' in free.content.decode()


# --- Round trips (bookings.trips) ------------------------------------------------------------


def trip_answers(customer, pet, when, **trip):
    from bookings import trips

    plan = trips.trip_plan(
        customer=customer,
        pets=[pet],
        pickup_address=PICKUP,
        dropoff_address=DROPOFF,
        scheduled_at=when,
        **trip,
    )
    return plan, trips.trip_availability(plan=plan, customer=customer)


def test_a_wait_and_return_needs_its_driver_free_through_the_wait_and_the_way_back(customer, pet, one_driver):
    # The driver is taken from 11:00: free for a ride out at 10:00, not for the wait after it.
    taken = make_ride(status=RideStatus.ASSIGNED, driver=one_driver.user, scheduled_at=at(11))
    assert answer(customer, pet, at(10)).servable
    plan, answers = trip_answers(customer, pet, at(10), trip="wait_return", wait_minutes=60)
    assert not answers["scheduled_at"].servable
    # Each suggestion fits the whole stretch: booking it works.
    from bookings import trips

    first = answers["scheduled_at"].suggestions[0]
    plan, _ = trip_answers(customer, pet, first, trip="wait_return", wait_minutes=60)
    outbound = trips.trip_book(customer=customer, plan=plan)
    stretch = (outbound.scheduled_at, outbound.return_leg.ends_at)
    assert stretch[1] <= taken.scheduled_at or stretch[0] >= taken.ends_at  # no overlap


def test_a_set_return_time_nobody_can_serve_is_refused_beside_the_return(customer, pet, one_driver):
    from bookings import trips

    make_ride(status=RideStatus.ASSIGNED, driver=one_driver.user, scheduled_at=at(14))
    plan, answers = trip_answers(customer, pet, at(10), trip="round_trip", return_at=at(14))
    assert answers["scheduled_at"].servable and not answers["return_at"].servable
    with pytest.raises(services.Unavailable) as excinfo:
        trips.trip_book(customer=customer, plan=plan)
    assert "return" in excinfo.value.errors["return_at"][0]
    assert not Ride.objects.filter(customer=customer).exists()
