"""The API's one error shape, and the handlers that turn every failure into it.

Errors always look like `{"detail": "...", "errors": {"field": ["message", ...]}}`
(`errors` may be empty). Status codes: 400 bad input that passed the schema,
401 no/invalid token, 403 wrong role or not allowed, 404 not found or not yours,
409 an illegal state move or a conflict, 422 schema validation, 429 rate limit.
"""

from django.http import Http404
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from core.api.parsing import NUL_MESSAGE
from core.errors import DomainError

DOMAIN_ERROR_STATUS = {
    "illegal_move": 409,
    "conflict": 409,
    "not_allowed": 403,
    "unauthenticated": 401,
    "rate_limited": 429,
    "unavailable": 503,
}


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = {}


# Responses every authenticated operation may give, for the OpenAPI schema.
AUTH_ERRORS = {401: ErrorOut, 403: ErrorOut}


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
    @api.exception_handler(DomainError)
    def domain_error(request, exc: DomainError):
        response = api.create_response(
            request, error_body(exc.message, exc.errors), status=DOMAIN_ERROR_STATUS.get(exc.code, 400)
        )
        if retry_after := getattr(exc, "retry_after", None):  # seconds, as a rate limit says
            response["Retry-After"] = str(retry_after)
        return response

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
