"""API for drivers (their rides, steps, duty, position) and for operations' assignment.
The steps are fleet.steps' table, the same the driver portal uses."""

from datetime import date, datetime

from django.shortcuts import get_object_or_404
from django.utils.datastructures import MultiValueDict
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate
from pydantic import Field

from bookings.api import BookingDetailOut, _detail
from bookings.lifecycle import allowed_moves
from bookings.models import Audience, Ride, RideStatus
from core.api import AUTH_ERRORS, ErrorOut, Id, Pages, checked_filters, invalid
from core.dates import operations_zone
from fleet import selectors, services
from fleet.filters import DriverRideFilterSet
from fleet.hours import clock, parse_clock
from fleet.models import Weekday
from fleet.steps import STEPS
from project.accounts.api_auth import admin_auth, driver_auth
from project.accounts.models import User

router = Router(tags=["drivers"], auth=driver_auth)
admin_router = Router(tags=["admin"], auth=admin_auth)

# API action name -> the portal's step slug.
ACTIONS = {
    "accept": "accept",
    "decline": "decline",
    "start": "start",
    "pickup": "pickup",
    "complete": "complete",
    "no_show": "no-show",
}


class PetForDriverOut(Schema):
    """One pet of the ride's party, as the driver needs it at the kerb."""

    name: str
    type: str
    breed: str
    weight_lb: str
    special_needs: str
    crated: bool = Field(description="Travels in a crate on this ride")

    @staticmethod
    def resolve_name(member) -> str:
        return member.pet.name

    @staticmethod
    def resolve_type(member) -> str:
        return member.pet.type

    @staticmethod
    def resolve_breed(member) -> str:
        return member.pet.breed

    @staticmethod
    def resolve_weight_lb(member) -> str:
        return str(member.pet.weight_lb)

    @staticmethod
    def resolve_special_needs(member) -> str:
        return member.pet.special_needs


class OwnerOut(Schema):
    name: str
    phone: str

    @staticmethod
    def resolve_phone(user) -> str:
        return str(user.phone or "")


class DriverRideOut(Schema):
    id: int
    status: str
    pets: list[PetForDriverOut]
    owner: OwnerOut
    pickup_address: str
    dropoff_address: str
    distance_miles: str
    scheduled_at: datetime
    ends_at: datetime
    notes: str
    accepted_at: datetime | None
    allowed_actions: list[str]
    trip: str = Field(description="one_way, round_trip or wait_return")
    leg: str = Field(description='"outbound" or "return" on a round trip\'s rides; "" one way')
    wait_minutes: int = Field(description="Wait-and-return's ride out: wait this long at the drop-off")

    @staticmethod
    def resolve_leg(ride) -> str:
        return ride.leg_label.lower()

    @staticmethod
    def resolve_owner(ride):
        return ride.customer

    @staticmethod
    def resolve_pets(ride):
        return ride.party_members

    @staticmethod
    def resolve_distance_miles(ride) -> str:
        return str(ride.distance_miles)

    @staticmethod
    def resolve_allowed_actions(ride, context) -> list[str]:
        moves = allowed_moves(ride, context["request"].auth)
        return [action for action, slug in ACTIONS.items() if STEPS[slug].move in moves]


class AssignedFilters(Schema):
    day: date | None = Field(None, description="Pickups on this day (your time zone)")
    status: RideStatus | None = None


class DutyIn(Schema):
    on_duty: bool


class DutyOut(Schema):
    on_duty: bool


class PositionIn(Schema):
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    accuracy_m: int | None = Field(None, ge=0, le=100_000)


class PositionOut(Schema):
    ride_id: int


class IntervalIO(Schema):
    weekday: Weekday = Field(description="0 = Monday … 6 = Sunday")
    starts: str = Field(max_length=5, description="HH:MM, operations time zone")
    ends: str = Field(max_length=5, description="HH:MM; 24:00 is midnight at the end of the day")


class TimeOffIn(Schema):
    starts_on: date
    ends_on: date = Field(description="The last day off (included)")
    reason: str = Field("", max_length=200)


class TimeOffOut(TimeOffIn):
    id: int


class HoursIn(Schema):
    hours: list[IntervalIO] = Field(max_length=100, description="The whole week; a day left out is a day off")


class HoursOut(HoursIn):
    time_zone: str
    time_off: list[TimeOffOut] = Field(description="Days off that haven't ended yet")


class StepIn(Schema):
    action: str = Field(description="accept, decline, start, pickup, complete or no_show")
    note: str = Field("", max_length=1000, description="Optional, with pickup and complete")
    reason: str = Field("", max_length=500, description="Required for no_show; optional for decline")


class AssignIn(Schema):
    driver_id: int = Field(ge=1, le=2**63 - 1)
    reason: str = Field("", max_length=500, description="Required when the ride already has a driver")


@router.get(
    "/rides/assigned", response={200: list[DriverRideOut], 400: ErrorOut, 422: ErrorOut, **AUTH_ERRORS}
)
@paginate(Pages)
def assigned_rides(request, filters: Query[AssignedFilters]):
    """Rides given to you, soonest first; filter by day and status."""
    return selectors.driver_ride_list(
        driver=request.auth,
        filters=checked_filters(DriverRideFilterSet, filters),
        tz=request.auth.tzinfo,
    )


@router.put(
    "/rides/{ride_id}/status",
    response={200: DriverRideOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, **AUTH_ERRORS},
)
def ride_step(request, ride_id: Id, payload: Form[StepIn], photo: UploadedFile | None = File(None)):
    """Move one of your rides a step: the same moves and checks as the driver portal.
    Send `multipart/form-data`; `pickup` and `complete` need a `photo` (JPEG, PNG or WebP)."""
    ride = selectors.driver_ride(request.auth, ride_id)
    slug = ACTIONS.get(payload.action)
    if slug is None:
        raise invalid({"action": [f"Choose one of: {', '.join(ACTIONS)}."]})
    step = STEPS[slug]
    form = None
    if step.form is not None:
        files = MultiValueDict({"photo": [photo]} if photo is not None else {})
        form = step.form(payload.dict(), files)
        if not form.is_valid():
            raise invalid(form)
    ride = step.call(ride, request.auth, form.cleaned_data if form else {})
    if ride.driver_id != request.auth.pk:  # declined: no longer the caller's ride
        ride = Ride.objects.select_related("customer").with_party().get(pk=ride.pk)
    else:
        ride = selectors.driver_ride(request.auth, ride.pk)
    return ride


@router.put("/drivers/me/duty", response={200: DutyOut, 409: ErrorOut, 422: ErrorOut, **AUTH_ERRORS})
def duty(request, payload: DutyIn):
    """Go on or off duty. Going on duty lets waiting rides come your way."""
    if selectors.driver_profile(request.auth) is None:
        raise invalid({"non_field": ["Your vehicle isn't set up yet. Operations will add it."]})
    return services.driver_set_duty(driver=request.auth, on_duty=payload.on_duty)


def _my_profile(request):
    profile = selectors.driver_profile(request.auth)
    if profile is None:
        raise invalid({"non_field": ["Your vehicle isn't set up yet. Operations will add it."]})
    return profile


def _hours_out(profile) -> dict:
    hours = selectors.driver_weekly_hours(profile)
    return {
        "hours": [
            {"weekday": day, "starts": clock(s), "ends": clock(e)}
            for day, intervals in sorted(hours.items())
            for s, e in sorted(intervals)
        ],
        "time_zone": str(operations_zone()),
        "time_off": list(selectors.driver_time_off(profile)),
    }


@router.get("/drivers/me/hours", response={200: HoursOut, 400: ErrorOut, **AUTH_ERRORS})
def hours(request):
    """Your weekly working hours (operations time zone) and your coming days off."""
    return _hours_out(_my_profile(request))


@router.put("/drivers/me/hours", response={200: HoursOut, 400: ErrorOut, 422: ErrorOut, **AUTH_ERRORS})
def hours_update(request, payload: HoursIn):
    """Replace your weekly hours. Per day: each interval ends after it starts, none overlap
    (400 with the day's problems under `errors.<weekday name>`; nothing changes)."""
    profile = _my_profile(request)
    weekly: dict[int, list[tuple[int, int]]] = {}
    errors: dict[str, list[str]] = {}
    for index, row in enumerate(payload.hours):
        try:
            weekly.setdefault(int(row.weekday), []).append((parse_clock(row.starts), parse_clock(row.ends)))
        except ValueError as exc:
            errors.setdefault(f"hours.{index}", []).append(str(exc))
    if errors:
        raise invalid(errors)
    services.driver_set_hours(profile=profile, hours=weekly)
    return _hours_out(profile)


@router.post("/drivers/me/time-off", response={201: TimeOffOut, 400: ErrorOut, 422: ErrorOut, **AUTH_ERRORS})
def time_off_add(request, payload: TimeOffIn):
    """Add days off (both days included)."""
    profile = _my_profile(request)
    created = services.driver_add_time_off(
        profile=profile, starts_on=payload.starts_on, ends_on=payload.ends_on, reason=payload.reason
    )
    return Status(201, created)


@router.delete("/drivers/me/time-off/{time_off_id}", response={204: None, 404: ErrorOut, **AUTH_ERRORS})
def time_off_delete(request, time_off_id: Id):
    profile = _my_profile(request)
    get_object_or_404(profile.time_off, pk=time_off_id)  # another driver's: 404
    services.driver_remove_time_off(profile=profile, time_off_id=time_off_id)
    return Status(204, None)


@router.post(
    "/drivers/me/position",
    response={200: PositionOut, 400: ErrorOut, 409: ErrorOut, 422: ErrorOut, **AUTH_ERRORS},
)
def position(request, payload: PositionIn):
    """Report where you are, while a ride is under way (refused otherwise, 409)."""
    ride = services.driver_report_position(
        driver=request.auth, lat=payload.lat, lng=payload.lng, accuracy_m=payload.accuracy_m
    )
    return {"ride_id": ride.pk}


@admin_router.post(
    "/admin/rides/{ride_id}/assign",
    response={
        200: BookingDetailOut,
        400: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ErrorOut,
        **AUTH_ERRORS,
    },
)
def assign(request, ride_id: Id, payload: AssignIn):
    """Give a confirmed ride to an eligible driver, or (with a reason) move an assigned ride to
    another driver. Ineligible drivers and overlapping windows are refused (409)."""
    ride = get_object_or_404(Ride.objects.select_related("customer", "driver").with_party(), pk=ride_id)
    driver = User.objects.drivers().filter(pk=payload.driver_id).first()
    if driver is None:
        raise invalid({"driver_id": ["Choose a driver."]})
    if ride.status == RideStatus.ASSIGNED:
        ride = services.dispatch_reassign(ride=ride, driver=driver, by=request.auth, reason=payload.reason)
    else:
        ride = services.dispatch_assign(ride=ride, driver=driver, by=request.auth, note=payload.reason)
    ride = Ride.objects.select_related("customer", "driver").with_party().get(pk=ride.pk)
    return _detail(request, ride, audience=Audience.OPERATIONS)
