"""Filters for the back office's messages page."""

import django_filters
from django import forms

from core.filters import FilterSet, IdFilter, SearchFilter
from notifications.kinds import Kind
from notifications.models import Channel, Notification, Status


class NotificationFilterSet(FilterSet):
    q = SearchFilter(
        label="Recipient",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, email or phone"}),
        lookups=["to__icontains", "user__name__icontains", "user__email__icontains"],
    )
    channel = django_filters.ChoiceFilter(label="Channel", empty_label="Any channel", choices=Channel.choices)
    status = django_filters.ChoiceFilter(label="Status", empty_label="Any status", choices=Status.choices)
    kind = django_filters.ChoiceFilter(label="Kind", empty_label="Any kind", choices=Kind.choices)
    ride = IdFilter(
        field_name="ride_id",
        label="Ride #",
        widget=forms.NumberInput(attrs={"placeholder": "e.g. 12"}),
    )

    class Meta:
        model = Notification
        fields = []
