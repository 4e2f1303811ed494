"""The JSON API's plumbing that every app's router shares. Routers import from here:
`from core.api import AUTH_ERRORS, BodyId, ErrorOut, Id, Pages, checked_filters, invalid, throttle`.
Authentication by role is the accounts app's (`project.accounts.api_auth`)."""

from core.api.errors import AUTH_ERRORS, ErrorOut, error_body, form_errors, install_error_handlers, invalid
from core.api.filters import checked_filters
from core.api.pagination import Pages
from core.api.parsing import BodyId, Id, TextParser
from core.api.throttling import throttle

__all__ = [
    "AUTH_ERRORS",
    "BodyId",
    "ErrorOut",
    "Id",
    "Pages",
    "TextParser",
    "checked_filters",
    "error_body",
    "form_errors",
    "install_error_handlers",
    "invalid",
    "throttle",
]
