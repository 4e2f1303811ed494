"""API for customers: pets, saved places, quotes and bookings. Parsing and serialisation
only: the rules are the portal's (PetForm, PlaceForm, ride_plan, the ride services)."""

from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import Field

from bookings import selectors, services
from bookings.filters import CustomerRideFilterSet, OpsRideFilterSet
from bookings.forms import PetForm, PlaceForm
from bookings.lifecycle import PAYMENT_STEP, allowed_moves
from bookings.models import Audience, Pet, Place, Ride, RideStatus
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


class BookingIn(RideRequestIn):
    notes: str = Field("", max_length=2000)


class BookingUpdateIn(Schema):
    scheduled_at: datetime | None = Field(None, description="Reschedule to this time (re-quoted)")
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


class QuotedOut(QuoteOut):
    availability: AvailabilityOut


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
    created_at: datetime

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


def _plan(request, payload: RideRequestIn, stops: dict | None = None):
    stops = stops or _stops(request, payload)
    mine = selectors.customer_pets(request.auth).in_bulk(payload.pets)
    return services.ride_plan(
        customer=request.auth,
        pets=[mine.get(pk) for pk in payload.pets],  # None (not theirs): a field error
        pickup_address=stops["pickup_address"],
        dropoff_address=stops["dropoff_address"],
        scheduled_at=_aware(payload.scheduled_at, request.auth),
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
    answer = services.ride_availability(plan=plan, customer=request.auth)
    return {**plan.quote.as_json(), "availability": _availability_out(answer)}


@router.post(
    "/bookings", response={201: BookingDetailOut, **BAD_INPUT, 409: ErrorOut, 429: ErrorOut, **AUTH_ERRORS}
)
def booking_create(request, payload: BookingIn):
    """Book a ride. If `status` is `pending_payment`, pay with `POST /payments` next.
    Each stop is an address or one of your saved places (`pickup_place_id`, `dropoff_place_id`),
    whose notes then reach the driver. A time no driver can serve is refused (409, nothing
    saved) with the nearest servable times in `errors.suggested_times`. Bookings are limited
    per customer and per IP address (429)."""
    stops = _stops(request, payload)
    plan = _plan(request, payload, stops)
    try:
        ride = services.ride_book(
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
    """Reschedule (same rules as booking, before the cut-off, re-quoted) and/or edit the notes."""
    ride = _my_ride(request, ride_id)
    if payload.scheduled_at is None and payload.notes is None:
        raise invalid({"non_field": ["Send scheduled_at, notes, or both."]})
    if payload.scheduled_at is not None:
        ride = services.ride_reschedule(
            ride=ride, by=request.auth, scheduled_at=_aware(payload.scheduled_at, request.auth)
        )
    if payload.notes is not None:
        ride = services.ride_update_notes(ride=ride, by=request.auth, notes=payload.notes)
    return _detail(request, _my_ride(request, ride.pk))


@router.delete("/bookings/{ride_id}", response={200: CancelOut, 409: ErrorOut, **NOT_FOUND, **AUTH_ERRORS})
def booking_cancel(request, ride_id: Id, reason: str = Query("", max_length=500)):
    """Cancel under the cancellation policy; `fee_cents` is what the late cancellation costs
    (decided when the ride was cancelled: exactly what billing charges)."""
    ride = services.ride_cancel(ride=_my_ride(request, ride_id), by=request.auth, reason=reason)
    fee = selectors.cancellation_fee_cents(ride)
    return {"id": ride.pk, "status": ride.status, "fee_cents": fee, "currency": ride.currency}


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


@admin_router.get("/admin/rides", response={200: list[AdminRideOut], **BAD_INPUT, **AUTH_ERRORS})
@paginate(Pages)
def admin_ride_list(request, filters: Query[AdminRideFilters]):
    """Every ride, as the back office's table: status (or open/ended), pickup days, search."""
    return selectors.ops_rides(filters=checked_filters(OpsRideFilterSet, filters))
