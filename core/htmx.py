"""Responses for the one-template-per-page HTMX pattern."""

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
