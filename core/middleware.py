"""Response headers every page gets."""

from functools import wraps

from django.conf import settings


def permissions_policy(**allowed):
    """Let a view's pages use browser features the site policy turns off, e.g.
    `@permissions_policy(geolocation=["self"])`. Values are allow-lists as in the header."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            response.permissions_policy = {**getattr(response, "permissions_policy", {}), **allowed}
            return response

        return wrapper

    return decorator


def _header(policy: dict[str, list[str]]) -> str:
    return ", ".join(f"{feature}=({' '.join(origins)})" for feature, origins in sorted(policy.items()))


class PermissionsPolicyMiddleware:
    """`Permissions-Policy` from settings.PERMISSIONS_POLICY, widened per view by `permissions_policy`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = {**settings.PERMISSIONS_POLICY, **getattr(response, "permissions_policy", {})}
        response.setdefault("Permissions-Policy", _header(policy))
        return response
