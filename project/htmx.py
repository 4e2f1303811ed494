"""Rendering helpers for the one-template-per-page HTMX pattern."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def render_partial(request, template: str, partial: str, context: dict, **kwargs):
    """Full page normally; only `partial` for an HTMX request (but the full page
    again when HTMX restores history, which needs the whole document)."""
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.history_restore_request:
        template = f"{template}#{partial}"
    response = render(request, template, context, **kwargs)
    patch_vary_headers(response, ["HX-Request"])
    return response


def paginate(request, queryset, per_page: int = 20):
    """A page of `queryset` from ?page=, clamped to a real page (no 404 for page=999)."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def query_without_page(request) -> str:
    """The current query string minus `page`, for pagination links that keep filters."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
