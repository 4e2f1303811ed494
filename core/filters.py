"""What the apps' FilterSets (django-filter) share: a search box, calendar days as time ranges,
a checkbox, and reading a filter bar from the query string.

Each app's `filters.py` holds its FilterSets; its selectors run them
(`SomeFilterSet(filters, queryset=...).qs`), and its pages and API validate their input with
the same FilterSet's form, so a filter rule is written once."""

import django_filters
from django import forms
from django.core.validators import MaxValueValidator
from django.db.models import Q

from core.dates import day_bounds
from core.pagination import paginate, query_without_page

MAX_ID = 2**63 - 1  # the largest bigint


class FilterSet(django_filters.FilterSet):
    """Day filters read their dates in `tz` (default: the active zone, which the middleware
    sets to the signed-in user's; the API passes its caller's zone).

    `day_ranges`: (from, to) pairs of filters that make one range. A range running backwards
    could match nothing, so it is an error on its "to" field instead of a silent empty list."""

    day_ranges: tuple[tuple[str, str], ...] = ()

    def __init__(self, data=None, queryset=None, *, tz=None, **kwargs):
        super().__init__(data, queryset, **kwargs)
        self.tz = tz

    def get_form_class(self):
        form_class = super().get_form_class()
        ranges = self.day_ranges
        if not ranges:
            return form_class

        class RangesChecked(form_class):
            def clean(self):
                data = super().clean()
                for start, end in ranges:
                    first, last = data.get(start), data.get(end)
                    if first and last and first > last:
                        self.add_error(
                            end,
                            f"“{self.fields[end].label}” ({last:%-d %b %Y}) is before "
                            f"“{self.fields[start].label}” ({first:%-d %b %Y}): swap them to see "
                            "the rides between.",
                        )
                return data

        return RangesChecked


class SearchFilter(django_filters.CharFilter):
    """One search box over several columns: a row matching the trimmed text with any of
    `lookups` is kept. With `id_lookup`, a number such as `12` or `#12` also finds the row
    whose `id_lookup` is 12."""

    def __init__(self, *, lookups: list[str], id_lookup: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.lookups = lookups
        self.id_lookup = id_lookup

    def match(self, text: str) -> Q:
        match = Q()
        for lookup in self.lookups:
            match |= Q(**{lookup: text})
        number = text.lstrip("#")
        # isdecimal, not isdigit: int("²") raises. A number past any id would overflow the query.
        if self.id_lookup and number.isdecimal() and int(number) <= MAX_ID:
            match |= Q(**{self.id_lookup: int(number)})
        return match

    def filter(self, qs, value):
        text = (value or "").strip()
        if not text:
            return qs
        found = qs.filter(self.match(text))
        # A lookup across a to-many relation (a ride's pets) would repeat a row per match.
        return found.distinct() if self.distinct else found


class DayFilter(django_filters.DateFilter):
    """A calendar day compared with a datetime column in the filter set's time zone.
    `lookup_expr` says which side of the day: "gte" keeps rows from that day on, "lte" rows up
    to the end of that day (inclusive), "exact" rows on that day only. Both ends are local
    midnights (core.dates.day_bounds), so a day with a DST change is 23 or 25 hours."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}))  # the browser's picker
        super().__init__(**kwargs)

    def filter(self, qs, value):
        if value is None:
            return qs
        start, end = day_bounds(value, self.parent.tz)
        column = self.field_name
        bounds = {
            "gte": {f"{column}__gte": start},
            "lte": {f"{column}__lt": end},
            "exact": {f"{column}__gte": start, f"{column}__lt": end},
        }[self.lookup_expr]
        return qs.filter(**bounds)


class CheckboxFilter(django_filters.Filter):
    """A checkbox (absent means unticked, not "either"); give it a `method` that narrows the
    list when ticked and leaves it whole otherwise."""

    field_class = forms.BooleanField


class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number (NumberFilter takes decimals) from 1 up to the database's
    bigint limit, since a larger one overflows the query instead of matching nothing."""

    field_class = forms.IntegerField

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        super().__init__(**kwargs)

    def get_max_validator(self):
        return MaxValueValidator(MAX_ID)


def filters_from_query(filterset_class: type[FilterSet], query) -> tuple[forms.Form, dict]:
    """A page's filter bar bound to its query string, and the filters to apply: the form's
    cleaned values, or none while any value is invalid (the page then lists everything and
    shows each error beside its field)."""
    form = filterset_class(query or None).form
    return form, (form.cleaned_data if form.is_bound and form.is_valid() else {})


def filtered_page(request, filterset_class: type[FilterSet], selector, *, per_page: int = 25) -> dict:
    """What a back-office list page renders: its filter bar bound to the query string, the
    filtered `rows` (`selector(filters=...)`), the current page of them, and the query string
    its pagination links keep."""
    form, filters = filters_from_query(filterset_class, request.GET)
    rows = selector(filters=filters)
    return {
        "form": form,
        "filters": filters,
        "rows": rows,
        "page_obj": paginate(request, rows, per_page=per_page),
        "query_without_page": query_without_page(request),
    }
