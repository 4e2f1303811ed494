"""Filters for the back office's payments ledger (the page and its CSV export)."""

import django_filters
from django import forms

from billing.models import Transaction
from core.filters import DayFilter, FilterSet, SearchFilter


class TransactionFilterSet(FilterSet):
    q = SearchFilter(
        label="Search",
        widget=forms.SearchInput(attrs={"placeholder": "Customer, ride #id, Stripe id or reason"}),
        lookups=[
            "ride__customer__name__icontains",
            "ride__customer__email__icontains",
            "provider_id",  # a Stripe id is pasted whole
            "reason__icontains",
        ],
        id_lookup="ride_id",
    )
    kind = django_filters.ChoiceFilter(label="Kind", empty_label="Any kind", choices=Transaction.Kind.choices)
    status = django_filters.ChoiceFilter(
        label="Status", empty_label="Any status", choices=Transaction.Status.choices
    )
    date_from = DayFilter(field_name="created_at", lookup_expr="gte", label="From")
    date_to = DayFilter(field_name="created_at", lookup_expr="lte", label="To (inclusive)")

    class Meta:
        model = Transaction
        fields = []
