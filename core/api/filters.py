from ninja import Schema

from core.api.errors import invalid
from core.filters import FilterSet


def checked_filters(filterset_class: type[FilterSet], params: Schema) -> dict:
    """A list endpoint's query parameters checked by the same FilterSet as the page's filter bar:
    its cleaned values, or a 400 naming each bad parameter (the schema has already turned away
    values of the wrong type with a 422)."""
    form = filterset_class(params.dict(exclude_none=True)).form
    if not form.is_valid():
        raise invalid(form, "Some filters are not valid; see errors.")
    return form.cleaned_data
