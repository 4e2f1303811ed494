"""Filters for ride lists: the back office's ride table (and the admin API), and the
customer's rides (the portal's tabs and the API's booking list)."""

import django_filters
from django import forms

from bookings.models import OPEN_STATUSES, Ride, RideStatus
from core.filters import CheckboxFilter, DayFilter, FilterSet, SearchFilter

# The customer's lists of rides: key -> (label, statuses; None for every ride). The portal
# shows them as tabs; the API's `status` takes these keys or a single ride status.
CUSTOMER_RIDE_GROUPS = {
    "upcoming": ("Upcoming", OPEN_STATUSES),
    "completed": ("Completed", [RideStatus.COMPLETED]),
    "cancelled": ("Cancelled", [RideStatus.CANCELLED, RideStatus.NO_SHOW]),
    "all": ("All", None),
}


class CustomerRideFilterSet(FilterSet):
    status = django_filters.ChoiceFilter(
        method="in_group_or_status",
        choices=[
            *((key, label) for key, (label, _statuses) in CUSTOMER_RIDE_GROUPS.items()),
            *((value, label) for value, label in RideStatus.choices if value not in CUSTOMER_RIDE_GROUPS),
        ],
    )
    date_from = DayFilter(field_name="scheduled_at", lookup_expr="gte")
    date_to = DayFilter(field_name="scheduled_at", lookup_expr="lte")

    class Meta:
        model = Ride
        fields = []

    def in_group_or_status(self, rides, name, value):
        if value not in CUSTOMER_RIDE_GROUPS:
            return rides.filter(status=value)
        statuses = CUSTOMER_RIDE_GROUPS[value][1]
        return rides if statuses is None else rides.filter(status__in=statuses)


class OpsRideFilterSet(FilterSet):
    q = SearchFilter(
        label="Search",
        widget=forms.SearchInput(attrs={"placeholder": "Customer, pet, driver, address or #id"}),
        lookups=[
            "customer__name__icontains",
            "customer__email__icontains",
            "pets__name__icontains",
            "pickup_address__icontains",
            "dropoff_address__icontains",
            "driver__name__icontains",
        ],
        id_lookup="pk",
        distinct=True,
    )
    status = django_filters.ChoiceFilter(
        label="Status",
        method="in_group_or_status",
        empty_label="Any status",
        choices=[("open", "Open (not ended)"), ("ended", "Ended"), *RideStatus.choices],
    )
    date_from = DayFilter(field_name="scheduled_at", lookup_expr="gte", label="From")
    date_to = DayFilter(field_name="scheduled_at", lookup_expr="lte", label="To (inclusive)")
    attention = CheckboxFilter(label="Needs attention", method="needing_attention")
    day_ranges = (("date_from", "date_to"),)

    class Meta:
        model = Ride
        fields = []

    def in_group_or_status(self, rides, name, value):
        if value == "open":
            return rides.open()
        if value == "ended":
            return rides.ended()
        return rides.filter(status=value)

    def needing_attention(self, rides, name, value):
        return rides.exclude(attention="") if value else rides
