"""Every view we write declares who may open it (see project/accounts/policies.py)."""

from django.urls import URLPattern, URLResolver, get_resolver

# Third-party views guard themselves: allauth's pages, Django's admin.
THIRD_PARTY_PREFIXES = ("allauth.",)


def iter_patterns(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in ("admin", "api"):  # Django's admin checks staff itself; API below
                continue
            yield from iter_patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def test_every_view_has_an_access_policy():
    missing = []
    checked = 0
    for route, view in iter_patterns(get_resolver().url_patterns):
        module = getattr(view, "__module__", "") or ""
        view_class = getattr(view, "view_class", None)
        if view_class is not None:
            module = view_class.__module__
        if module.startswith(THIRD_PARTY_PREFIXES):
            continue
        checked += 1
        if not getattr(view, "access_policy", None):
            missing.append(f"{route} -> {module}.{getattr(view, '__name__', view)}")
    assert checked > 10
    assert missing == [], "Views without an access policy decorator:\n" + "\n".join(missing)


# API operations anyone may call (they authenticate by what they carry, or not at all).
PUBLIC_API_OPERATIONS = {
    "post /api/v1/register",
    "post /api/v1/login",
    "post /api/v1/token/refresh",
    "post /api/v1/auth/otp/send",
    "post /api/v1/auth/otp/verify",
}


def test_every_api_operation_requires_a_token_unless_public():
    from project.api import api

    schema = api.get_openapi_schema()
    unguarded = {
        f"{method} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if not operation.get("security")
    }
    assert unguarded == PUBLIC_API_OPERATIONS
