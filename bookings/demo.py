"""Demo pets, saved places and rides, one in every state, with believable timelines."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from bookings.geocoding import get_geocoder
from bookings.lifecycle import Actor, audience_fields
from bookings.models import ENDED_STATUSES, Pet, Place, Ride, RideEvent, RideStatus, Trip
from bookings.services import _plan_fields, party_record
from bookings.trips import trip_plan

HOME = "200 Central Park W, New York, NY 10024"
VET = "Animal Medical Center, 510 E 62nd St, New York, NY 10065"
GROOMER = "Brooklyn Dog Spa, 120 Atlantic Ave, Brooklyn, NY 11201"
DAYCARE = "Park Slope Pup Club, 480 7th Ave, Brooklyn, NY 11215"
AIRPORT = "JFK Airport Pet Center, Building 77, Jamaica, NY 11430"

# Which moves led to each state, for the timeline.
HISTORY = {
    RideStatus.PENDING_PAYMENT: [],
    RideStatus.CONFIRMED: ["confirm"],
    RideStatus.ASSIGNED: ["confirm", "assign"],
    RideStatus.EN_ROUTE: ["confirm", "assign", "accept", "start"],
    RideStatus.PICKED_UP: ["confirm", "assign", "accept", "start", "pickup"],
    RideStatus.COMPLETED: ["confirm", "assign", "accept", "start", "pickup", "complete"],
    RideStatus.CANCELLED: ["confirm", "cancel"],
    RideStatus.NO_SHOW: ["confirm", "assign", "accept", "start", "no_show"],
}
MOVE_TARGET = {
    "confirm": RideStatus.CONFIRMED,
    "assign": RideStatus.ASSIGNED,
    "start": RideStatus.EN_ROUTE,
    "pickup": RideStatus.PICKED_UP,
    "complete": RideStatus.COMPLETED,
    "cancel": RideStatus.CANCELLED,
    "no_show": RideStatus.NO_SHOW,
}
NOTES = {"cancel": "Vet moved the appointment.", "no_show": "Nobody answered the door or the phone."}


def _pet(owner, name, **fields) -> Pet:
    pet, _ = Pet.objects.get_or_create(owner=owner, name=name, defaults=fields)
    return pet


def _place(owner, label, kind, address, notes="") -> Place:
    point = get_geocoder().geocode(address)
    place, _ = Place.objects.get_or_create(
        owner=owner,
        label=label,
        defaults={"kind": kind, "address": address, "lat": point.lat, "lng": point.lng, "notes": notes},
    )
    return place


NOT_ON = [RideStatus.PENDING_PAYMENT, *ENDED_STATUSES]


def _ride(customer, pets, pickup, dropoff, when, status, driver=None, notes=""):
    """A ride for `pets` (one pet or a list: a party travelling together)."""
    pets = pets if isinstance(pets, list) else [pets]
    plan = _plan(customer, pets, pickup, dropoff, when)
    return _ride_from_plan(
        customer, plan.outbound, status, driver=driver, notes=notes, booked_at=_booked(when)
    )


def _booked(when):
    return when - timedelta(days=3)


def _plan(customer, pets, pickup, dropoff, when, **trip):
    """The booking as `bookings.trips` plans it, priced as it was when booked."""
    return trip_plan(
        customer=customer,
        pets=pets,
        pickup_address=pickup,
        dropoff_address=dropoff,
        scheduled_at=when,
        now=_booked(when),
        **trip,
    )


def _trip(customer, pets, pickup, dropoff, when, statuses, *, driver=None, **trip) -> tuple[Ride, Ride]:
    """A round trip (bookings.trips): `trip` takes trip_plan's trip, return_at, return_on_call,
    wait_minutes; `statuses`: the ride out's and the return's."""
    booked_at = _booked(when)
    plan = _plan(customer, pets, pickup, dropoff, when, **trip)
    outbound = _ride_from_plan(
        customer, plan.outbound, statuses[0], driver=driver, booked_at=booked_at, trip=plan.trip
    )
    back = _ride_from_plan(
        customer,
        plan.back,
        statuses[1],
        booked_at=booked_at,
        trip=plan.trip,
        outbound=outbound,
        on_call_until=plan.on_call_until,
    )
    return outbound, back


def _ride_from_plan(customer, plan, status, *, booked_at, driver=None, notes="", **fields):
    pets = plan.pets
    held = status in (
        RideStatus.ASSIGNED,
        RideStatus.EN_ROUTE,
        RideStatus.PICKED_UP,
        RideStatus.COMPLETED,
        RideStatus.NO_SHOW,
    )
    ride = Ride.objects.create(
        customer=customer,
        status=status,
        notes=notes,
        driver=driver if held else None,
        accepted_at=booked_at if held and status != RideStatus.ASSIGNED else None,
        # Rides that are on have their fare secured (billing's demo holds it at localstripe).
        payment_secured_cents=0 if status in NOT_ON else plan.quote.total_cents,
        **_plan_fields(plan),
        **fields,
    )
    party_record(ride=ride, pets=pets)
    events = [
        RideEvent(
            ride=ride,
            actor=customer,
            action="book",
            to_status=RideStatus.PENDING_PAYMENT,
            created_at=booked_at,
            **audience_fields("book", by=Actor.CUSTOMER),
        )
    ]
    current = RideStatus.PENDING_PAYMENT
    moment = booked_at
    for move in HISTORY[status]:
        moment = moment + timedelta(minutes=7)
        if move == "start":  # drivers set off shortly before pickup (lifecycle's start window)
            moment = max(moment, ride.scheduled_at - timedelta(minutes=20))
        moment = min(moment, timezone.now())
        target = MOVE_TARGET.get(move, current)
        actor = {"cancel": customer, "assign": None, "confirm": None}.get(move, driver)
        acting_as = {customer: Actor.CUSTOMER, None: Actor.SYSTEM}.get(actor, Actor.DRIVER)
        note = NOTES.get(move, "")
        events.append(
            RideEvent(
                ride=ride,
                actor=actor,
                action=move,
                from_status=current,
                to_status=target,
                note=note,
                created_at=moment,
                data={"driver_id": driver.pk, "driver": driver.name} if move == "assign" else {},
                **audience_fields(move, by=acting_as, note=note),
            )
        )
        current = target
    RideEvent.objects.bulk_create(events)
    if ride.is_ended:
        Ride.objects.filter(pk=ride.pk).update(ended_at=moment)
    return ride


def seed(users) -> None:
    alice, ben = users["alice@example.com"], users["ben@example.com"]
    dana, eli, fay = (users[f"{n}.driver@whiskers.example"] for n in ("dana", "eli", "fay"))
    biscuit = _pet(
        alice,
        "Biscuit",
        type=Pet.Type.DOG,
        breed="Beagle",
        age_years=4,
        weight_lb=Decimal("24"),
        special_needs="Gets anxious in traffic; a blanket over the crate helps.",
        crate_required=True,
    )
    miso = _pet(
        alice,
        "Miso",
        type=Pet.Type.CAT,
        breed="Domestic shorthair",
        age_years=9,
        weight_lb=Decimal("11.5"),
        crate_required=True,
    )
    _place(alice, "Home", Place.Kind.HOME, HOME, "Doorman building: ask at the desk, park on 83rd St.")
    _place(alice, "Dr. Patel's clinic", Place.Kind.VET, VET, "Drop-offs at the side entrance on 62nd St.")
    pepper = _pet(ben, "Pepper", type=Pet.Type.DOG, breed="Greyhound", age_years=6, weight_lb=Decimal("62"))
    juno = _pet(ben, "Juno", type=Pet.Type.DOG, breed="Whippet", age_years=3, weight_lb=Decimal("28"))
    _pet(
        ben,
        "Kiwi",
        type=Pet.Type.BIRD,
        breed="Cockatiel",
        age_years=2,
        weight_lb=Decimal("0.3"),
        special_needs="Keep the cage covered and warm.",
        crate_required=True,
    )

    if Ride.objects.filter(customer__in=[alice, ben]).exists():
        return  # rides were seeded before: keep them (and whatever happened to them since)
    now = timezone.now().replace(second=0, microsecond=0)
    _ride(alice, biscuit, HOME, VET, now + timedelta(days=2, hours=1), RideStatus.PENDING_PAYMENT)
    _ride(
        alice,
        miso,
        HOME,
        VET,
        now + timedelta(days=1, hours=3),
        RideStatus.CONFIRMED,
        notes="Miso hides under the bed; the carrier is by the door.",
    )
    _ride(ben, pepper, GROOMER, DAYCARE, now + timedelta(hours=4), RideStatus.ASSIGNED, driver=dana)
    _ride(alice, biscuit, HOME, DAYCARE, now - timedelta(minutes=10), RideStatus.EN_ROUTE, driver=eli)
    _ride(ben, pepper, DAYCARE, GROOMER, now - timedelta(minutes=25), RideStatus.PICKED_UP, driver=fay)
    _ride(alice, miso, VET, HOME, now - timedelta(days=1, hours=2), RideStatus.COMPLETED, driver=dana)
    _ride(ben, pepper, GROOMER, AIRPORT, now + timedelta(days=3), RideStatus.CANCELLED)
    # Two dogs together to daycare: one ride, one fare with an extra-pet line.
    _ride(ben, [pepper, juno], HOME, DAYCARE, now + timedelta(days=1, hours=1), RideStatus.CONFIRMED)
    _ride(alice, biscuit, HOME, GROOMER, now - timedelta(days=6), RideStatus.NO_SHOW, driver=eli)
    # Round trips. Miso went to the vet this morning; Alice calls for the way home when the vet
    # is done (an open return, waiting for her call).
    _trip(
        alice,
        [miso],
        HOME,
        VET,
        now - timedelta(hours=3),
        (RideStatus.COMPLETED, RideStatus.CONFIRMED),
        driver=fay,
        trip=Trip.ROUND_TRIP,
        return_on_call=True,
    )
    # Biscuit to the vet and back at a set time; Pepper to the groomer with the driver waiting.
    vet_day = (now + timedelta(days=3)).replace(hour=14, minute=0)
    _trip(
        alice,
        [biscuit],
        HOME,
        VET,
        vet_day,
        (RideStatus.CONFIRMED, RideStatus.CONFIRMED),
        trip=Trip.ROUND_TRIP,
        return_at=vet_day + timedelta(hours=2),
    )
    _trip(
        ben,
        [pepper],
        HOME,
        GROOMER,
        vet_day - timedelta(hours=3),
        (RideStatus.CONFIRMED, RideStatus.CONFIRMED),
        trip=Trip.WAIT_RETURN,
        wait_minutes=45,
    )
