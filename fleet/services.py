"""Writes for drivers, vehicles and dispatch.

Ride moves are never made here: every status change goes through
`bookings.services` (ride_assign, ride_reassign, ride_unassign, ...). What fleet
adds is the part only it knows: which driver may take a ride, checked under a
lock so two assignments can't both pass the overlap check.

No double-booking, in two layers:
1. Every assignment locks the driver's profile row (`select_for_update`) and
   then the ride row, and checks eligibility (overlap included) on what it
   read under those locks. Two assignments for one driver queue behind each
   other; the second sees the first's ride and is refused. (On SQLite, whose
   IMMEDIATE transactions serialise all writers, the same code is race-free.)
2. On PostgreSQL an exclusion constraint (bookings migration
   0002_fleet_driver_no_overlap) rejects any two overlapping windows held by one
   driver, whatever code path writes them. Its IntegrityError becomes a DomainError.
"""

import logging
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from bookings import services as rides
from bookings.models import IN_PROGRESS_STATUSES, Ride, RideStatus, Trip
from core import outbox
from core.errors import DomainError, required_reason
from fleet.dispatch import clashing_rides, eligible_candidates, exclusion_reasons, other_leg_driver_id
from fleet.hours import default_intervals, interval_errors, minute_to_time
from fleet.models import DriverProfile, TimeOff, Weekday, WorkingHours, normalise_plate
from project.accounts import services as accounts
from project.accounts.models import User

log = logging.getLogger(__name__)

AUTO_DISPATCH_FLAG = "Auto-dispatch found no eligible driver. Assign one by hand."
VEHICLE_FIELDS = ("vehicle_make", "vehicle_model", "plate", "pet_capacity", "max_crate_size", "pet_types")


# --- Assigning rides ------------------------------------------------------------


def _locked_profile(driver: User) -> DriverProfile:
    # of=("self",): lock the profile row only, not the joined user row.
    profile = (
        DriverProfile.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(pk=driver.pk)
        .first()
    )
    if profile is None:
        raise DomainError(f"{driver.name} has no vehicle on file yet.", code="invalid")
    return profile


def _lock_ride_for(profile: DriverProfile, ride: Ride) -> Ride:
    """Lock the ride (after the profile: one lock order everywhere) and check the driver
    can take it as it is now."""
    locked = Ride.objects.select_for_update().get(pk=ride.pk)
    busy = clashing_rides(locked).filter(driver_id=profile.user_id).exists()
    if reasons := exclusion_reasons(profile, locked, busy=busy):
        raise DomainError(
            f"{profile.user.name} can't take this ride: {'; '.join(reasons).lower()}.", code="conflict"
        )
    return locked


def _overlap_refused(driver: User) -> DomainError:
    return DomainError(f"{driver.name} has another ride in this time window.", code="conflict")


def dispatch_assign(*, ride: Ride, driver: User, by, note: str = "") -> Ride:
    """Give a confirmed ride to an eligible driver (an admin, or the system for auto-dispatch).
    A wait-and-return's ride out brings its return along (checked free for the whole stretch)."""
    with transaction.atomic():
        profile = _locked_profile(driver)
        locked = _lock_ride_for(profile, ride)
        try:
            assigned = rides.ride_assign(ride=locked, driver=profile.user, by=by, note=note)
            _return_follows(assigned, profile, by=by)
            return assigned
        except IntegrityError as exc:  # the PostgreSQL exclusion constraint
            raise _overlap_refused(driver) from exc


def dispatch_reassign(*, ride: Ride, driver: User, by, reason: str) -> Ride:
    reason = required_reason(reason, "you are changing the driver")
    with transaction.atomic():
        profile = _locked_profile(driver)
        locked = _lock_ride_for(profile, ride)
        try:
            reassigned = rides.ride_reassign(ride=locked, driver=profile.user, by=by, reason=reason)
            _return_follows(reassigned, profile, by=by, reason=reason)
            return reassigned
        except IntegrityError as exc:
            raise _overlap_refused(driver) from exc


def _return_follows(outbound: Ride, profile: DriverProfile, *, by, reason: str = "") -> None:
    """A wait-and-return's return goes to the driver of its ride out, in the same transaction
    (the stretch was checked free for them). Not yet paid for, it follows once it is (auto-dispatch)."""
    if outbound.trip != Trip.WAIT_RETURN or outbound.is_return_leg:
        return
    back = Ride.objects.select_for_update().filter(outbound_id=outbound.pk).first()
    if back is None or back.driver_id == profile.user_id:
        return
    note = "Goes with the ride out: the driver waiting there brings the pets back."
    if back.status == RideStatus.CONFIRMED and back.driver_id is None and back.payment_covers_fare:
        rides.ride_assign(ride=back, driver=profile.user, by=by, note=note)
    elif back.status == RideStatus.ASSIGNED and by is not None:
        rides.ride_reassign(ride=back, driver=profile.user, by=by, reason=reason or note)
    elif back.status == RideStatus.ASSIGNED:  # the system unassigns and assigns (reassigning is a person's)
        rides.ride_unassign(ride=back, by=None, reason=note)
        rides.ride_assign(ride=back, driver=profile.user, by=None, note=note)


def dispatch_unassign(*, ride: Ride, by, reason: str) -> Ride:
    """Take the driver off a ride; it goes back to the unassigned queue."""
    return rides.ride_unassign(ride=ride, by=by, reason=required_reason(reason, "you are unassigning"))


def ride_auto_dispatch(*, ride_id: int) -> Ride | None:
    """Assign the best eligible driver to a confirmed ride, or flag it for operations.

    Safe to run twice: a ride that is no longer confirmed-and-unassigned is left alone, and so
    is one whose fare is not secured yet (`ride_payment_secured` brings it back here once it is).
    """
    ride = Ride.objects.with_party().filter(pk=ride_id).first()
    if (
        ride is None
        or ride.status != RideStatus.CONFIRMED
        or ride.driver_id
        or ride.ends_at <= timezone.now()
        or not ride.payment_covers_fare
        or ride.awaiting_call  # an open return gets a time, and a driver, once called
    ):
        return None
    if ride.is_return_leg and ride.trip == Trip.WAIT_RETURN and other_leg_driver_id(ride) is None:
        return None  # its driver is the one waiting there: it follows the outbound's assignment
    for candidate in eligible_candidates(ride):
        if candidate.declined:
            continue
        where = f"{candidate.distance_miles} mi from pickup" if candidate.distance_miles is not None else ""
        note = "Auto-dispatch: best eligible driver" + (f" ({where})" if where else "") + "."
        try:
            return dispatch_assign(ride=ride, driver=candidate.driver, by=None, note=note)
        except DomainError as exc:
            if exc.code != "conflict":  # the ride itself moved on (cancelled, assigned by hand)
                return None
            log.info(
                "auto-dispatch: %s lost the race for ride %s; trying the next", candidate.driver, ride.pk
            )
    with transaction.atomic():
        current = Ride.objects.select_for_update().get(pk=ride.pk)
        if current.status == RideStatus.CONFIRMED and current.driver_id is None and not current.attention:
            rides.ride_flag(ride=current, reason=AUTO_DISPATCH_FLAG)
    return None


def dispatch_waiting_rides() -> int:
    """Try auto-dispatch again on every waiting ride (e.g. a driver just came on duty).
    Returns how many found a driver."""
    placed = 0
    waiting = Ride.objects.filter(
        status=RideStatus.CONFIRMED,
        driver__isnull=True,
        ends_at__gt=timezone.now(),
        payment_secured_cents__gte=F("price_cents"),
        on_call_until__isnull=True,
    ).order_by("scheduled_at")
    for ride_id in waiting.values_list("pk", flat=True):
        placed += ride_auto_dispatch(ride_id=ride_id) is not None
    return placed


def queue_auto_dispatch(ride_id: int) -> None:
    """Record, in the current transaction, that dispatch must look for a driver for this ride."""
    if settings.DISPATCH_AUTO:
        outbox.defer("fleet.tasks.auto_dispatch", ride_id, queue="dispatch")


def _queue_dispatch_waiting_rides() -> None:
    """A driver became available, so waiting rides may now find one (after commit)."""
    if settings.DISPATCH_AUTO:
        outbox.defer("fleet.tasks.dispatch_waiting_rides", queue="dispatch")


# --- The driver's own actions -------------------------------------------------------


def driver_set_duty(*, driver: User, on_duty: bool) -> DriverProfile:
    with transaction.atomic():
        profile = _locked_profile(driver)
        if on_duty and not profile.user.is_active:
            raise DomainError("This driver account is deactivated.", code="not_allowed")
        if profile.on_duty != on_duty:
            profile.on_duty = on_duty
            profile.save(update_fields=["on_duty", "updated_at"])
            if on_duty:
                _queue_dispatch_waiting_rides()
    return profile


def _coordinate(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def driver_report_position(*, driver: User, lat, lng, accuracy_m: int | None = None) -> Ride:
    """Keep the driver's last position, for the ride under way only: a driver who is not
    on a ride is not tracked."""
    ride = (
        Ride.objects.for_driver(driver)
        .filter(status__in=IN_PROGRESS_STATUSES)
        .order_by("scheduled_at")
        .first()
    )
    if ride is None:
        raise DomainError("Your location is only shared while you are on a ride.", code="conflict")
    updated = DriverProfile.objects.filter(user_id=driver.pk).update(
        last_lat=_coordinate(lat),
        last_lng=_coordinate(lng),
        last_accuracy_m=accuracy_m,
        position_at=timezone.now(),
        position_ride=ride,
        updated_at=timezone.now(),
    )
    if not updated:
        raise DomainError("You have no vehicle on file yet.", code="invalid")
    return ride


# --- Driver accounts (operations) ---------------------------------------------------


def _email_taken(email: str, *, exclude_pk=None) -> bool:
    return User.objects.filter(email__iexact=email).exclude(pk=exclude_pk).exists()


def _plate_taken(plate: str, *, exclude_pk=None) -> bool:
    return DriverProfile.objects.filter(plate=normalise_plate(plate)).exclude(pk=exclude_pk).exists()


def uniqueness_errors(*, email: str | None = None, plate: str | None, exclude_pk=None) -> dict:
    """A taken email or plate, by field (the driver form shows them with its other errors)."""
    errors = {}
    if email is not None and _email_taken(email.strip().lower(), exclude_pk=exclude_pk):
        errors["email"] = ["Someone already has an account with this email."]
    if plate is not None and _plate_taken(plate, exclude_pk=exclude_pk):
        errors["plate"] = ["Another vehicle has this plate."]
    return errors


def _check_unique(*, email: str | None = None, plate: str, exclude_pk=None) -> None:
    if errors := uniqueness_errors(email=email, plate=plate, exclude_pk=exclude_pk):
        raise DomainError("Please correct the highlighted fields.", code="conflict", errors=errors)


def driver_create(
    *, name: str, email: str, phone: str, vehicle: dict, on_duty: bool = False
) -> DriverProfile:
    """Make a driver account (the only way one is made) and email them a link to set a password."""
    from allauth.account.models import EmailAddress

    email = email.strip().lower()
    _check_unique(email=email, plate=vehicle["plate"])
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email, password=None, name=name.strip(), phone=phone or "", role=User.Role.DRIVER
            )
            EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
            profile = DriverProfile.objects.create(user=user, on_duty=on_duty, **vehicle)
            _give_default_hours(profile)
            driver_invite(profile=profile)
    except IntegrityError as exc:  # a concurrent create with the same email or plate
        _check_unique(email=email, plate=vehicle["plate"])
        raise DomainError("This driver could not be saved; please try again.", code="conflict") from exc
    return profile


def driver_update(
    *, profile: DriverProfile, name: str, phone: str, vehicle: dict, on_duty: bool
) -> DriverProfile:
    _check_unique(plate=vehicle["plate"], exclude_pk=profile.pk)
    with transaction.atomic():
        profile = _locked_profile(profile.user)
        user = profile.user
        user.name, user.phone = name.strip(), phone or ""
        user.save(update_fields=["name", "phone", "updated_at"])
        for field, value in vehicle.items():
            setattr(profile, field, value)
        came_on_duty = on_duty and user.is_active and not profile.on_duty
        profile.on_duty = on_duty and user.is_active
        try:
            with transaction.atomic():
                profile.save()
        except IntegrityError as exc:  # a concurrent save took the plate
            raise DomainError(
                "Another vehicle has this plate.",
                code="conflict",
                errors={"plate": ["Another vehicle has this plate."]},
            ) from exc
        if came_on_duty:
            _queue_dispatch_waiting_rides()
    return profile


def driver_deactivate(*, profile: DriverProfile, by) -> list[int]:
    """Stop a driver from signing in and from being dispatched. Their upcoming rides go back
    to dispatch; a ride under way must be finished (or handled by operations) first.
    Returns the ids of the rides that went back to dispatch."""
    with transaction.atomic():
        profile = _locked_profile(profile.user)
        held = Ride.objects.for_driver(profile.user).filter(
            status__in=[RideStatus.ASSIGNED, *IN_PROGRESS_STATUSES]
        )
        if held.filter(status__in=IN_PROGRESS_STATUSES).exists():
            raise DomainError(
                f"{profile.user.name} is on a ride right now. Deactivate after it ends.", code="conflict"
            )
        released = []
        for ride in held.order_by("scheduled_at"):
            rides.ride_unassign(ride=ride, by=by, reason=f"{profile.user.name} is no longer driving for us.")
            released.append(ride.pk)
        accounts.user_deactivate(user=profile.user)  # also ends their API logins
        profile.on_duty = False
        profile.save(update_fields=["on_duty", "updated_at"])
        for ride_id in released:
            queue_auto_dispatch(ride_id)
    return released


def driver_reactivate(*, profile: DriverProfile) -> None:
    User.objects.filter(pk=profile.pk).update(is_active=True, updated_at=timezone.now())


def driver_invite(*, profile: DriverProfile) -> None:
    """Record the set-your-password email (sent after commit, once per request)."""
    requested_at = timezone.now()
    with transaction.atomic():
        DriverProfile.objects.filter(pk=profile.pk).update(invite_requested_at=requested_at)
        outbox.defer("fleet.tasks.send_driver_invite", profile.pk, requested_at.isoformat(), queue="messages")


def driver_invite_send(*, user_id: int, requested_at: datetime) -> bool:
    """Send the invite asked for at `requested_at`, unless it was sent already. Returns whether it sent."""
    from fleet.emails import send_invite_email

    with transaction.atomic():
        profile = DriverProfile.objects.select_for_update().select_related("user").filter(pk=user_id).first()
        if profile is None or not profile.user.is_active:
            return False
        if profile.invite_sent_at and profile.invite_sent_at >= requested_at:
            return False
        send_invite_email(profile.user)
        profile.invite_sent_at = timezone.now()
        profile.save(update_fields=["invite_sent_at", "updated_at"])
    return True


# --- Working hours and days off (operations, or the driver themselves) ---------------

WeeklyHours = dict[int, list[tuple[int, int]]]  # weekday (0 = Monday) -> [(starts, ends) in minutes]


def _give_default_hours(profile: DriverProfile) -> None:
    WorkingHours.objects.bulk_create(
        WorkingHours(driver=profile, weekday=day, starts=minute_to_time(s), ends=minute_to_time(e))
        for day in Weekday.values
        for s, e in default_intervals()
    )


def weekly_hours_errors(hours: WeeklyHours) -> dict[str, list[str]]:
    """Problems per weekday field (`monday`, ...): ends after starts, no overlaps on a day."""
    errors = {}
    for day, intervals in hours.items():
        if day not in Weekday.values:
            errors["non_field"] = [f"No such weekday: {day}."]
        elif problems := interval_errors(intervals):
            errors[Weekday(day).label.lower()] = problems
    return errors


def driver_set_hours(*, profile: DriverProfile, hours: WeeklyHours) -> DriverProfile:
    """Replace the driver's weekly hours with `hours` (a weekday left out, or with no intervals,
    is a day off). Checked first: a DomainError names each day's problem and changes nothing.
    Rides already assigned keep their driver; new assignments follow the new hours."""
    if errors := weekly_hours_errors(hours):
        raise DomainError("Please correct the working hours.", errors=errors)
    with transaction.atomic():
        profile = _locked_profile(profile.user)
        WorkingHours.objects.filter(driver=profile).delete()
        WorkingHours.objects.bulk_create(
            WorkingHours(driver=profile, weekday=day, starts=minute_to_time(s), ends=minute_to_time(e))
            for day, intervals in sorted(hours.items())
            for s, e in sorted(intervals)
        )
        profile.save(update_fields=["updated_at"])
    return profile


def driver_add_time_off(*, profile: DriverProfile, starts_on, ends_on, reason: str = "") -> TimeOff:
    if starts_on is None or ends_on is None or ends_on < starts_on:
        message = "The last day off must be on or after the first."
        raise DomainError(message, errors={"ends_on": [message]})
    return TimeOff.objects.create(driver=profile, starts_on=starts_on, ends_on=ends_on, reason=reason.strip())


def driver_remove_time_off(*, profile: DriverProfile, time_off_id: int) -> None:
    """Remove one of `profile`'s days off (another driver's: nothing happens, a 404 upstream)."""
    TimeOff.objects.filter(driver=profile, pk=time_off_id).delete()
