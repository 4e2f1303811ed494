"""Filters for the drivers page (operations) and a driver's rides in the API."""

import django_filters
from django import forms
from django.db.models import Q

from bookings.models import Ride, RideStatus
from core.filters import DayFilter, FilterSet, SearchFilter
from fleet.models import DriverProfile


class DriverSearchFilter(SearchFilter):
    def match(self, text: str) -> Q:
        # Plates are stored without spaces, so "far 999" finds FAR999.
        return super().match(text) | Q(plate__icontains=text.replace(" ", ""))


class DriverFilterSet(FilterSet):
    q = DriverSearchFilter(
        label="Search drivers",
        widget=forms.SearchInput(
            attrs={"class": "form-control", "id": "driver-search", "placeholder": "Name, email, plate…"}
        ),
        lookups=[
            "user__name__icontains",
            "user__email__icontains",
            "vehicle_make__icontains",
            "vehicle_model__icontains",
        ],
    )

    class Meta:
        model = DriverProfile
        fields = []


class DriverRideFilterSet(FilterSet):
    day = DayFilter(field_name="scheduled_at", lookup_expr="exact")
    status = django_filters.ChoiceFilter(choices=RideStatus.choices)

    class Meta:
        model = Ride
        fields = []
