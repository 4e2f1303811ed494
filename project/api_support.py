"""What every API router shares: JWT authentication by role, the one error shape,
and helpers that turn our DomainError and Django form errors into it.

Errors always look like `{"detail": "...", "errors": {"field": ["message", ...]}}`
(`errors` may be empty). Status codes: 400 bad input that passed the schema,
401 no/invalid token, 403 wrong role or not allowed, 404 not found or not yours,
409 an illegal state move or a conflict, 422 schema validation, 429 rate limit.
"""

from typing import Annotated

from django.conf import settings
from ninja import Field, Path, Schema
from ninja.errors import AuthorizationError, HttpError
from ninja.pagination import PageNumberPagination
from ninja.parser import Parser
from ninja.security import HttpBearer
from ninja.throttling import AnonRateThrottle

from project.accounts.tokens import TokenError, user_for_access_token
from project.errors import DomainError

# A row id in a URL: bounded like the database's bigint, so a huge number is a 422, not a 500.
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]

DOMAIN_ERROR_STATUS = {
    "illegal_move": 409,
    "conflict": 409,
    "not_allowed": 403,
    "unauthenticated": 401,
    "unavailable": 503,
}


NUL_MESSAGE = "Text may not contain NUL characters."


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class TextParser(Parser):
    """JSON and query/form parsing that refuses NUL characters, which no text column can store
    (PostgreSQL raises on them). Django's form fields refuse them too; this covers the API's schemas."""

    def parse_body(self, request):
        data = super().parse_body(request)
        if _has_nul(data):
            raise ValueError(NUL_MESSAGE)
        return data

    def parse_querydict(self, data, list_fields, request):
        from ninja.errors import ValidationError

        parsed = super().parse_querydict(data, list_fields, request)
        if bad := [key for key, value in parsed.items() if _has_nul(value)]:
            raise ValidationError([{"loc": ["query", key], "msg": NUL_MESSAGE} for key in bad])
        return parsed


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = {}


# Responses every authenticated operation may give, for the OpenAPI schema.
AUTH_ERRORS = {401: ErrorOut, 403: ErrorOut}


class JWTAuth(HttpBearer):
    """Bearer access token; `roles` limits who may call (wrong role -> 403, not 401)."""

    def __init__(self, *roles: str):
        super().__init__()
        self.roles = set(roles)

    def authenticate(self, request, token):
        try:
            user = user_for_access_token(token)
        except TokenError:
            return None
        if self.roles and user.role not in self.roles:
            raise AuthorizationError(message=f"This needs a {' or '.join(sorted(self.roles))} account.")
        request.user = user
        return user


any_user = JWTAuth()
customer_auth = JWTAuth("customer")
driver_auth = JWTAuth("driver")
admin_auth = JWTAuth("admin")


class Pages(PageNumberPagination):
    """`?page=&page_size=` with bounds, so a huge page number is a 422 rather than a database error."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=100_000)
        page_size: int | None = Field(None, ge=1, le=100)

    def __init__(self, **kwargs):
        super().__init__(page_size=settings.NINJA_PAGINATION_PER_PAGE, max_page_size=100, **kwargs)


def throttle(name: str) -> AnonRateThrottle:
    """Per-IP rate limit from settings.API_RATE_LIMITS (kept in the cache)."""
    limiter = AnonRateThrottle(settings.API_RATE_LIMITS[name])
    limiter.scope = f"api-{name}"
    return limiter


def form_errors(form) -> dict[str, list[str]]:
    return {
        ("non_field" if field == "__all__" else field): [str(m) for m in messages]
        for field, messages in form.errors.items()
    }


def invalid(form_or_errors, detail: str = "Please correct the fields listed in errors.") -> DomainError:
    errors = form_or_errors if isinstance(form_or_errors, dict) else form_errors(form_or_errors)
    return DomainError(detail, code="invalid", errors=errors)


def error_body(detail: str, errors: dict | None = None) -> dict:
    return {"detail": detail, "errors": errors or {}}


def _field_of(location) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "form", "file")]
    if len(parts) > 1:  # drop the handler's parameter name ("payload.email" -> "email")
        parts = parts[1:]
    return ".".join(parts) or "non_field"


def install_error_handlers(api) -> None:
    from django.http import Http404
    from ninja.errors import AuthenticationError, Throttled, ValidationError

    @api.exception_handler(DomainError)
    def domain_error(request, exc: DomainError):
        return api.create_response(
            request, error_body(exc.message, exc.errors), status=DOMAIN_ERROR_STATUS.get(exc.code, 400)
        )

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        errors: dict[str, list[str]] = {}
        for error in exc.errors:
            errors.setdefault(_field_of(error.get("loc", ())), []).append(error.get("msg", "Invalid value."))
        return api.create_response(request, error_body("The request is not valid.", errors), status=422)

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return api.create_response(request, error_body("Not found."), status=404)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return api.create_response(
            request, error_body("Authentication credentials were not provided or are invalid."), status=401
        )

    @api.exception_handler(Throttled)
    def throttled(request, exc):
        return api.create_response(request, error_body("Too many requests; try again later."), status=429)

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        detail = str(exc)
        if (
            exc.status_code == 400
            and isinstance(exc.__cause__, ValueError)
            and str(exc.__cause__) == NUL_MESSAGE
        ):
            detail = NUL_MESSAGE  # a body with NUL characters: say so rather than "cannot parse"
        return api.create_response(request, error_body(detail), status=exc.status_code)
