"""API for customers: pets, saved places, quotes and bookings. Parsing and serialisation
only: the rules are the portal's (PetForm, PlaceForm, ride_plan, the ride services)."""

from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import Field

from bookings import selectors, services, trips
from bookings.filters import CustomerRideFilterSet, OpsRideFilterSet
from bookings.forms import PetForm, PlaceForm
from bookings.lifecycle import PAYMENT_STEP, allowed_moves
from bookings.models import Audience, Pet, Place, Ride, RideStatus, Trip
from core.api import AUTH_ERRORS, BodyId, ErrorOut, Id, Pages, checked_filters, invalid
from core.errors import DomainError
from core.http import client_ip
from project.accounts.api_auth import admin_auth, customer_auth

router = Router(tags=["customers"], auth=customer_auth)
admin_router = Router(tags=["admin"], auth=admin_auth)

NOT_FOUND = {404: ErrorOut}
BAD_INPUT = {400: ErrorOut, 422: ErrorOut}


# --- Schemas -------------------------------------------------------------------


class PetIn(Schema):
    name: str = Field(max_length=80)
    type: Pet.Type = Pet.Type.DOG
    breed: str = Field("", max_length=80)
    age_years: int | None = Field(None, ge=0, le=60)
    weight_lb: Decimal = Field(max_digits=5, decimal_places=1, gt=0)
    special_needs: str = Field("", max_length=2000)
    crate_required: bool = False


class PetOut(Schema):
    id: int
    name: str
    type: str
    breed: str
    age_years: int | None
    weight_lb: Decimal
    special_needs: str
    crate_required: bool


class PlaceIn(Schema):
    label: str = Field(max_length=80)
    kind: Place.Kind = Place.Kind.HOME
    address: str = Field(
        max_length=255, description="Street, city and ZIP code; geocoded as ride addresses are"
    )
    notes: str = Field("", max_length=500, description="For the driver: gate code, where to park")


class PlaceOut(Schema):
    id: int
    label: str
    kind: str
    address: str
    lat: Decimal
    lng: Decimal
    notes: str


class RideRequestIn(Schema):
    pets: list[BodyId] = Field(
        description="Ids of your pets travelling together, in order (at least one)", max_length=20
    )
    pickup_address: str = Field("", max_length=255)
    dropoff_address: str = Field("", max_length=255)
    pickup_place_id: BodyId | None = Field(
        None, description="One of your saved places instead of pickup_address; its notes go to the driver"
    )
    dropoff_place_id: BodyId | None = Field(
        None, description="One of your saved places instead of dropoff_address"
    )
    scheduled_at: datetime = Field(description="ISO 8601; without an offset it is read in your time zone")
    trip: Trip = Field(
        Trip.ONE_WAY,
        description="one_way; round_trip (a return leg back to the pickup, at `return_at` or, with "
        "`return_on_call`, when you call for it); wait_return (the driver waits `wait_minutes` "
        "at the drop-off, then brings the pets back)",
    )
    return_at: datetime | None = Field(None, description="round_trip: the return's pickup time")
    return_on_call: bool = Field(
        False, description="round_trip: no set time; call it with POST /bookings/{return id}/call-return"
    )
    wait_minutes: int | None = Field(None, description="wait_return: one of TRIP_WAIT_CHOICES (minutes)")


class BookingIn(RideRequestIn):
    notes: str = Field("", max_length=2000)


class BookingUpdateIn(Schema):
    scheduled_at: datetime | None = Field(None, description="Reschedule to this time (re-quoted)")
    pickup_address: str | None = Field(
        None, max_length=255, description="A one-way ride's new pickup address (re-quoted, same rules)"
    )
    dropoff_address: str | None = Field(None, max_length=255, description="A one-way ride's new drop-off")
    notes: str | None = Field(None, max_length=2000)


class QuoteLineOut(Schema):
    kind: str
    label: str
    cents: int


class QuoteOut(Schema):
    currency: str
    total_cents: int
    distance_miles: Decimal
    lines: list[QuoteLineOut]


class AvailabilityOut(Schema):
    servable: bool = Field(description="Whether a driver can take the ride at that time")
    suggested_times: list[datetime] = Field(
        description="When it can't: the nearest servable pickup times, that day and the next"
    )


class ReturnQuoteOut(QuoteOut):
    scheduled_at: datetime = Field(description="Its pickup; for an open return, the earliest it can be")
    on_call_until: datetime | None = Field(None, description="An open return: call it by then")
    availability: AvailabilityOut | None = Field(
        None, description="For a set return time (a wait-and-return's is the ride out's answer)"
    )


class QuotedOut(QuoteOut):
    """The ride out's quote (one way: the ride's); a round trip adds `return_leg`."""

    availability: AvailabilityOut
    trip: str
    trip_total_cents: int = Field(description="Both legs together (one way: the ride's total)")
    return_leg: ReturnQuoteOut | None = None


Day = date  # a field named `date` can't also be annotated `date` (pydantic)


class AvailabilityFilters(Schema):
    date: Day = Field(description="The day, in your time zone")
    pets: str = Field(max_length=200, description="Your pets travelling together: ids, comma-separated")
    pickup: str = Field(max_length=255, description="Pickup address")
    dropoff: str | None = Field(
        None, max_length=255, description="Drop-off address: the ride's real length (else the shortest ride)"
    )
    at: datetime | None = Field(None, description="Also ask about this one pickup time (with suggestions)")


class DayAvailabilityOut(Schema):
    date: Day
    time_zone: str
    slot_minutes: int
    window_minutes: int = Field(description="How long the driver is taken, pickup to free again")
    slots: list[datetime] = Field(description="Every servable pickup time that day, on the slot grid")
    requested: AvailabilityOut | None = Field(None, description="The answer for `at`, when asked")


class PartyPetOut(Schema):
    id: int
    name: str
    type: str
    crated: bool = Field(description="Travels in a crate on this ride")


class PersonOut(Schema):
    id: int
    name: str


class EventOut(Schema):
    """One timeline line as the caller reads it (bookings.selectors.ride_timeline)."""

    at: datetime
    action: str
    title: str
    from_status: str
    to_status: str
    note: str


class BookingOut(Schema):
    id: int
    status: str
    status_label: str
    pets: list[PartyPetOut]
    driver: PersonOut | None
    pickup_address: str
    dropoff_address: str
    distance_miles: Decimal
    scheduled_at: datetime
    ends_at: datetime
    price_cents: int
    currency: str
    quote: QuoteOut
    notes: str
    pickup_notes: str = Field(description="The notes of the saved place it was picked up from")
    dropoff_notes: str = Field(description="The notes of the saved place it was dropped off at")
    trip: str = Field(description="one_way, round_trip or wait_return: the booking this ride is part of")
    leg: str = Field(description='"outbound" or "return" on a round trip\'s rides; "" one way')
    outbound_id: int | None = Field(description="A return leg: its ride out")
    return_id: int | None = Field(description="A ride out: its return leg")
    wait_minutes: int = Field(description="Wait-and-return's ride out: how long the driver waits")
    on_call_until: datetime | None = Field(
        description="An open return not called yet: call it by then (its scheduled_at is the earliest)"
    )
    created_at: datetime

    @staticmethod
    def resolve_leg(ride) -> str:
        return ride.leg_label.lower()

    @staticmethod
    def resolve_return_id(ride) -> int | None:
        back = getattr(ride, "return_leg", None)  # a missing reverse one-to-one raises AttributeError
        return back.pk if back else None

    @staticmethod
    def resolve_status_label(ride) -> str:
        return ride.get_status_display()

    @staticmethod
    def resolve_pets(ride) -> list[dict]:
        return [
            {"id": m.pet_id, "name": m.pet.name, "type": m.pet.type, "crated": m.crated}
            for m in ride.party_members
        ]


class BookingDetailOut(BookingOut):
    allowed_actions: list[str]
    timeline: list[EventOut]
    payment_url: str | None = Field(None, description="Where to pay, while the booking awaits payment")


class RebookOut(Schema):
    """A booking like an earlier one, ready to POST to /bookings (check it first)."""

    pets: list[int] = Field(description="The ride's pets that can still be booked (removed ones left out)")
    pickup_address: str
    dropoff_address: str
    scheduled_at: datetime = Field(description="The same local time of day, on the next day it can be booked")
    notes: str


class CancelOut(Schema):
    id: int
    status: str
    fee_cents: int
    currency: str
    return_leg: "CancelOut | None" = Field(None, description="A ride out's return, cancelled with it")


class PickupDays(Schema):
    date_from: date | None = Field(None, description="Pickup on or after this day (your time zone)")
    date_to: date | None = Field(None, description="Pickup on or before this day (your time zone)")


class BookingFilters(PickupDays):
    status: str | None = Field(None, description="upcoming / completed / cancelled / all, or a ride status")


# --- Helpers -------------------------------------------------------------------


def _aware(moment: datetime, user) -> datetime:
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, user.tzinfo)


def _stops(request, payload: RideRequestIn) -> dict:
    """Each stop's address (typed, or a saved place's) and the place's notes for the driver.
    Another customer's place reads as no place of yours: a field error, like another's pet."""
    stops, errors = {}, {}
    for side in ("pickup", "dropoff"):
        address, place_id = getattr(payload, f"{side}_address"), getattr(payload, f"{side}_place_id")
        stops[f"{side}_address"], stops[f"{side}_notes"] = address, ""
        if place_id is None:
            continue
        place = selectors.customer_places(request.auth).filter(pk=place_id).first()
        if address.strip():
            errors[f"{side}_place_id"] = [f"Send {side}_address or {side}_place_id, not both."]
        elif place is None:
            errors[f"{side}_place_id"] = ["Choose one of your saved places."]
        else:
            stops[f"{side}_address"], stops[f"{side}_notes"] = place.address, place.notes
    if errors:
        raise invalid(errors)
    return stops


def _plan(request, payload: RideRequestIn, stops: dict | None = None) -> trips.TripPlan:
    stops = stops or _stops(request, payload)
    mine = selectors.customer_pets(request.auth).in_bulk(payload.pets)
    return trips.trip_plan(
        customer=request.auth,
        pets=[mine.get(pk) for pk in payload.pets],  # None (not theirs): a field error
        pickup_address=stops["pickup_address"],
        dropoff_address=stops["dropoff_address"],
        scheduled_at=_aware(payload.scheduled_at, request.auth),
        trip=payload.trip,
        return_at=payload.return_at and _aware(payload.return_at, request.auth),
        return_on_call=payload.return_on_call,
        wait_minutes=payload.wait_minutes,
    )


def _detail(request, ride: Ride, *, audience: Audience = Audience.CUSTOMER) -> Ride:
    """The ride with what BookingDetailOut adds: the caller's actions, the timeline (as
    `audience` reads it: the customer's unless operations ask), where to pay."""
    ride.allowed_actions = allowed_moves(ride, request.auth)
    ride.timeline = selectors.ride_timeline(ride, audience=audience)
    ride.payment_url = (
        reverse(PAYMENT_STEP, args=[ride.pk]) if ride.status == RideStatus.PENDING_PAYMENT else None
    )
    return ride


def _my_ride(request, ride_id: Id) -> Ride:
    return selectors.customer_ride(request.auth, ride_id)


def _pet_data(payload: PetIn) -> dict:
    """The body read by the portal's PetForm (it trims text and words each problem the same)."""
    form = PetForm(payload.dict())
    if not form.is_valid():
        raise invalid(form)
    return form.cleaned_data


def _place_data(payload: PlaceIn) -> dict:
    """The body read by the portal's PlaceForm."""
    form = PlaceForm(payload.dict())
    if not form.is_valid():
        raise invalid(form)
    return form.cleaned_data


# --- Pets ----------------------------------------------------------------------


@router.get("/pets", response={200: list[PetOut], **AUTH_ERRORS})
def pet_list(request):
    return selectors.customer_pets(request.auth)


@router.post("/pets", response={201: PetOut, **BAD_INPUT, **AUTH_ERRORS})
def pet_create(request, payload: PetIn):
    return Status(201, services.pet_create(owner=request.auth, data=_pet_data(payload)))


@router.get("/pets/{pet_id}", response={200: PetOut, **NOT_FOUND, **AUTH_ERRORS})
def pet_detail(request, pet_id: Id):
    return selectors.customer_pet(request.auth, pet_id)


@router.put("/pets/{pet_id}", response={200: PetOut, **BAD_INPUT, **NOT_FOUND, **AUTH_ERRORS})
def pet_update(request, pet_id: Id, payload: PetIn):
    pet = selectors.customer_pet(request.auth, pet_id)
    return services.pet_update(pet=pet, by=request.auth, data=_pet_data(payload))


@router.delete("/pets/{pet_id}", response={204: None, 409: ErrorOut, **NOT_FOUND, **AUTH_ERRORS})
def pet_delete(request, pet_id: Id):
    """Delete a pet (archived if it has past rides; refused while it has upcoming ones)."""
    services.pet_delete(pet=selectors.customer_pet(request.auth, pet_id), by=request.auth)
    return Status(204, None)


# --- Saved places --------------------------------------------------------------


@router.get("/places", response={200: list[PlaceOut], **AUTH_ERRORS})
def place_list(request):
    """Your saved places, by label (at most PLACES_PER_CUSTOMER)."""
    return selectors.customer_places(request.auth)


@router.post("/places", response={201: PlaceOut, 409: ErrorOut, **BAD_INPUT, **AUTH_ERRORS})
def place_create(request, payload: PlaceIn):
    """Save a place: the address is geocoded (400 with `errors.address` if it can't be); a label
    you already use is a 400; past the limit of places it is a 409."""
    return Status(201, services.place_create(owner=request.auth, data=_place_data(payload)))


@router.get("/places/{place_id}", response={200: PlaceOut, **NOT_FOUND, **AUTH_ERRORS})
def place_detail(request, place_id: Id):
    return selectors.customer_place(request.auth, place_id)


@router.put("/places/{place_id}", response={200: PlaceOut, **BAD_INPUT, **NOT_FOUND, **AUTH_ERRORS})
def place_update(request, place_id: Id, payload: PlaceIn):
    place = selectors.customer_place(request.auth, place_id)
    return services.place_update(place=place, by=request.auth, data=_place_data(payload))


@router.delete("/places/{place_id}", response={204: None, **NOT_FOUND, **AUTH_ERRORS})
def place_delete(request, place_id: Id):
    """Delete a saved place (rides booked from it keep their address and notes)."""
    services.place_delete(place=selectors.customer_place(request.auth, place_id), by=request.auth)
    return Status(204, None)


# --- Quotes and bookings -------------------------------------------------------------


def _availability_out(answer) -> dict:
    return {"servable": answer.servable, "suggested_times": list(answer.suggestions)}


@router.post("/quotes", response={200: QuotedOut, **BAD_INPUT, **AUTH_ERRORS})
def quote(request, payload: RideRequestIn):
    """The price the booking form shows, part by part, and whether a driver can take the ride
    then (with the nearest servable times if not). Nothing is saved."""
    plan = _plan(request, payload)
    answers = trips.trip_availability(plan=plan, customer=request.auth)
    back = None
    if plan.back is not None:
        back_answer = answers.get(trips.RETURN_FIELD)
        back = {
            **plan.back.quote.as_json(),
            "scheduled_at": plan.back.scheduled_at,
            "on_call_until": plan.on_call_until,
            "availability": back_answer and _availability_out(back_answer),
        }
    return {
        **plan.outbound.quote.as_json(),
        "availability": _availability_out(answers["scheduled_at"]),
        "trip": plan.trip,
        "trip_total_cents": plan.total_cents,
        "return_leg": back,
    }


@router.post(
    "/bookings", response={201: BookingDetailOut, **BAD_INPUT, 409: ErrorOut, 429: ErrorOut, **AUTH_ERRORS}
)
def booking_create(request, payload: BookingIn):
    """Book a ride, or a round trip (`trip`): then this is the ride out and `return_id` its
    return leg. If `status` is `pending_payment`, pay with `POST /payments` next (for a round
    trip, once, for the ride out: the return's fare goes on the same card).
    Each stop is an address or one of your saved places (`pickup_place_id`, `dropoff_place_id`),
    whose notes then reach the driver. A time no driver can serve is refused (409, nothing
    saved) with the nearest servable times in `errors.suggested_times` (and the refused field,
    `scheduled_at` or `return_at`, in `errors`). Bookings are limited per customer and per IP
    address (429)."""
    stops = _stops(request, payload)
    plan = _plan(request, payload, stops)
    try:
        ride = trips.trip_book(
            customer=request.auth,
            plan=plan,
            notes=payload.notes,
            client_ip=client_ip(request),
            pickup_notes=stops["pickup_notes"],
            dropoff_notes=stops["dropoff_notes"],
        )
    except services.Unavailable as exc:
        times = [t.isoformat() for t in exc.suggestions]
        raise DomainError(
            exc.message, code=exc.code, errors={**exc.errors, "suggested_times": times}
        ) from exc
    return Status(201, _detail(request, ride))


@router.get("/availability", response={200: DayAvailabilityOut, **BAD_INPUT, **AUTH_ERRORS})
def availability(request, filters: Query[AvailabilityFilters]):
    """The pickup times a driver can take your pets on a day (your time zone), on the
    AVAILABILITY_SLOT_MINUTES grid and within the booking limits; with `at`, also whether that
    one time can be served and, if not, the nearest times that can."""
    day = selectors.availability_day(
        customer=request.auth,
        day=filters.date,
        pet_ids=filters.pets,
        pickup_address=filters.pickup,
        dropoff_address=filters.dropoff,
        at=filters.at and _aware(filters.at, request.auth),
    )
    return {
        "date": filters.date,
        "time_zone": str(request.auth.tzinfo),
        "slot_minutes": settings.AVAILABILITY_SLOT_MINUTES,
        "window_minutes": int(day.window.total_seconds() // 60),
        "slots": day.slots,
        "requested": day.requested and _availability_out(day.requested),
    }


@router.get("/bookings", response={200: list[BookingOut], **BAD_INPUT, **AUTH_ERRORS})
@paginate(Pages)
def booking_list(request, filters: Query[BookingFilters]):
    """Your bookings, as the portal lists them: upcoming soonest first, the others newest first."""
    return selectors.customer_rides(
        customer=request.auth,
        filters=checked_filters(CustomerRideFilterSet, filters),
        tz=request.auth.tzinfo,
    )


@router.get("/bookings/{ride_id}", response={200: BookingDetailOut, **NOT_FOUND, **AUTH_ERRORS})
def booking_detail(request, ride_id: Id):
    return _detail(request, _my_ride(request, ride_id))


@router.get("/bookings/{ride_id}/rebook", response={200: RebookOut, **NOT_FOUND, **AUTH_ERRORS})
def booking_rebook(request, ride_id: Id):
    """ "Book again": a draft of a booking like this one (same pets, addresses and notes, the same
    local time of day on the next day it can be booked) to check and POST to /bookings.
    Nothing is saved."""
    return selectors.rebook_draft(_my_ride(request, ride_id)).as_booking_fields()


@router.put(
    "/bookings/{ride_id}",
    response={200: BookingDetailOut, 409: ErrorOut, **BAD_INPUT, **NOT_FOUND, **AUTH_ERRORS},
)
def booking_update(request, ride_id: Id, payload: BookingUpdateIn):
    """Reschedule (same rules as booking, before the cut-off, re-quoted): a new time, and/or a
    one-way ride's new addresses; and/or edit the notes."""
    ride = _my_ride(request, ride_id)
    stops = {
        name: value
        for name in ("pickup_address", "dropoff_address")
        if (value := getattr(payload, name)) is not None
    }
    if payload.scheduled_at is None and payload.notes is None and not stops:
        raise invalid({"non_field": ["Send scheduled_at, an address, notes, or several."]})
    if payload.scheduled_at is not None or stops:
        when = _aware(payload.scheduled_at, request.auth) if payload.scheduled_at else ride.scheduled_at
        ride = services.ride_reschedule(ride=ride, by=request.auth, scheduled_at=when, **stops)
    if payload.notes is not None:
        ride = services.ride_update_notes(ride=ride, by=request.auth, notes=payload.notes)
    return _detail(request, _my_ride(request, ride.pk))


@router.delete("/bookings/{ride_id}", response={200: CancelOut, 409: ErrorOut, **NOT_FOUND, **AUTH_ERRORS})
def booking_cancel(request, ride_id: Id, reason: str = Query("", max_length=500)):
    """Cancel under the cancellation policy; `fee_cents` is what the late cancellation costs
    (decided when the ride was cancelled: exactly what billing charges)."""
    ride = _my_ride(request, ride_id)
    back = services.open_return_leg(ride)  # a ride out's open return goes with it
    ride = services.ride_cancel(ride=ride, by=request.auth, reason=reason)
    return {**_cancelled(ride), "return_leg": back and _cancelled(Ride.objects.get(pk=back.pk))}


def _cancelled(ride: Ride) -> dict:
    fee = selectors.cancellation_fee_cents(ride)
    return {"id": ride.pk, "status": ride.status, "fee_cents": fee, "currency": ride.currency}


@router.post(
    "/bookings/{ride_id}/call-return",
    response={200: BookingDetailOut, 409: ErrorOut, **NOT_FOUND, **AUTH_ERRORS},
)
def booking_call_return(request, ride_id: Id):
    """Call an open return (`on_call_until` set): it gets the earliest pickup a driver can do,
    from TRIP_CALL_NOTICE on, and goes to dispatch. Refused (409) before the pets were collected
    for the ride out, or for a return that already has a time."""
    ride = services.ride_call_return(ride=_my_ride(request, ride_id), by=request.auth)
    return _detail(request, _my_ride(request, ride.pk))


# --- Operations ---------------------------------------------------------------------


class AdminRideOut(BookingOut):
    customer: PersonOut
    attention: str


class AdminRideFilters(Schema):
    date_from: date | None = Field(None, description="Pickup on or after this operations day")
    date_to: date | None = Field(None, description="Pickup on or before this operations day")
    q: str | None = Field(None, max_length=100, description="Customer, pet, driver, address or #id")
    status: str | None = Field(None, description="open / ended, or a ride status")
    attention: bool = Field(False, description="Only rides that need attention")


@admin_router.post(
    "/admin/rides/{ride_id}/call-return",
    response={200: AdminRideOut, 409: ErrorOut, **NOT_FOUND, **AUTH_ERRORS},
)
def admin_call_return(request, ride_id: Id):
    """Call a customer's open return for them (the vet phoned): as POST /bookings/{id}/call-return."""
    ride = get_object_or_404(Ride, pk=ride_id)
    ride = services.ride_call_return(ride=ride, by=request.auth)
    return Ride.objects.with_list_relations().get(pk=ride.pk)


@admin_router.get("/admin/rides", response={200: list[AdminRideOut], **BAD_INPUT, **AUTH_ERRORS})
@paginate(Pages)
def admin_ride_list(request, filters: Query[AdminRideFilters]):
    """Every ride, as the back office's table: status (or open/ended), pickup days, search."""
    return selectors.ops_rides(filters=checked_filters(OpsRideFilterSet, filters))
