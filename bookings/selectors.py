"""Reads for pets and rides. Customer queries start from the user, so another
customer's rows are unreachable (they 404)."""

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from bookings.models import ENDED_STATUSES, OPEN_STATUSES, Pet, Ride, RideEvent, RideStatus

# Filters on the customer's ride list: key -> (label, statuses).
CUSTOMER_RIDE_FILTERS = {
    "upcoming": ("Upcoming", OPEN_STATUSES),
    "completed": ("Completed", [RideStatus.COMPLETED]),
    "cancelled": ("Cancelled", [RideStatus.CANCELLED, RideStatus.NO_SHOW]),
    "all": ("All", None),
}


def pets_of(user) -> QuerySet[Pet]:
    return Pet.objects.filter(owner=user).active()


def pet_of(user, pk) -> Pet:
    return get_object_or_404(pets_of(user), pk=pk)


def customer_rides(user, status_filter: str = "upcoming") -> QuerySet[Ride]:
    _label, statuses = CUSTOMER_RIDE_FILTERS.get(status_filter, CUSTOMER_RIDE_FILTERS["upcoming"])
    rides = Ride.objects.for_customer(user).select_related("pet", "driver")
    if statuses is None:
        return rides
    rides = rides.filter(status__in=statuses)
    # Upcoming reads soonest first; history reads newest first.
    return rides.order_by("scheduled_at", "id") if statuses == OPEN_STATUSES else rides


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


def ops_rides(
    *, status: str = "", date_from=None, date_to=None, search: str = "", attention: bool = False
) -> QuerySet[Ride]:
    rides = Ride.objects.with_list_relations()
    if status == "open":
        rides = rides.filter(status__in=OPEN_STATUSES)
    elif status == "ended":
        rides = rides.filter(status__in=ENDED_STATUSES)
    elif status:
        rides = rides.filter(status=status)
    if date_from:
        rides = rides.filter(scheduled_at__gte=date_from)
    if date_to:
        rides = rides.filter(scheduled_at__lt=date_to)
    if attention:
        rides = rides.exclude(attention="")
    if search := search.strip():
        match = (
            Q(customer__name__icontains=search)
            | Q(customer__email__icontains=search)
            | Q(pet__name__icontains=search)
            | Q(pickup_address__icontains=search)
            | Q(dropoff_address__icontains=search)
            | Q(driver__name__icontains=search)
        )
        if search.lstrip("#").isdigit():
            match |= Q(pk=int(search.lstrip("#")))
        rides = rides.filter(match)
    return rides.order_by("scheduled_at", "id")
