"""Reads for pets and rides. Customer queries start from the user, so another
customer's rows are unreachable (they 404)."""

from collections.abc import Mapping

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from bookings.filters import CustomerRideFilterSet, OpsRideFilterSet
from bookings.models import Pet, Ride, RideEvent
from core.dates import operations_zone


def customer_pets(user) -> QuerySet[Pet]:
    """The customer's pets that can still be booked (archived ones keep only their history)."""
    return Pet.objects.filter(owner=user).active()


def customer_pet(user, pk) -> Pet:
    """One of the customer's bookable pets; anyone else's is a 404."""
    return get_object_or_404(customer_pets(user), pk=pk)


def customer_rides(*, customer, filters: Mapping | None = None, tz=None) -> QuerySet[Ride]:
    """The customer's rides, narrowed by CustomerRideFilterSet (every ride without a `status`);
    days are read in `tz` (default: the active zone)."""
    rides = Ride.objects.for_customer(customer).select_related("pet", "driver")
    # Upcoming reads soonest first; history reads newest first (the model's order).
    if filters and filters.get("status") == "upcoming":
        rides = rides.order_by("scheduled_at", "id")
    return CustomerRideFilterSet(filters, queryset=rides, tz=tz).qs


def customer_ride(user, pk) -> Ride:
    return get_object_or_404(Ride.objects.for_customer(user).select_related("pet", "driver"), pk=pk)


def ride_timeline(ride: Ride) -> QuerySet[RideEvent]:
    return ride.events.select_related("actor").order_by("created_at", "id")


def ride_photo_event(user, pk) -> RideEvent:
    """A handover photo, for the ride's customer, its current driver, or operations (else 404)."""
    events = RideEvent.objects.exclude(photo="")
    if not user.is_admin:
        events = events.filter(Q(ride__customer=user) | Q(ride__driver=user))
    return get_object_or_404(events, pk=pk)


def ops_rides(*, filters: Mapping | None = None, tz=None) -> QuerySet[Ride]:
    """Every ride, soonest first, narrowed by OpsRideFilterSet; days are operations days
    (core.dates.operations_zone) unless `tz` says otherwise."""
    rides = Ride.objects.with_list_relations().order_by("scheduled_at", "id")
    return OpsRideFilterSet(filters, queryset=rides, tz=tz or operations_zone()).qs


def cancellation_fee_cents(ride: Ride) -> int:
    """The fee decided when the ride was cancelled (`services.ride_cancel`); 0 if it wasn't."""
    event = ride.events.filter(action="cancel").order_by("created_at", "id").last()
    return (event.data.get("fee_cents") or 0) if event else 0
