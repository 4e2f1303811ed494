"""Pages of a list for the HTML portals (the API's pages are core.api.Pages)."""

from django.core.paginator import Paginator


def paginate(request, queryset, per_page: int = 20):
    """A page of `queryset` from ?page=, clamped to a real page (no 404 for page=999)."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def query_without_page(request) -> str:
    """The current query string minus `page`, for pagination links that keep filters."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
