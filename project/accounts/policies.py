"""Who may open a view: one decorator per policy, and a marker on every view.

Each decorator records its policy on the wrapped function (`view.access_policy`)
so `tests/test_url_policies.py` can walk every URL pattern and fail when a view
has none. Anonymous users are sent to the login page (an HTMX request gets an
`HX-Redirect`, so a fragment never swaps a login form into the page); a signed-in
user with the wrong role gets 403.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django_htmx.http import HttpResponseClientRedirect

from project.accounts.models import User


def _mark(view, policy: str):
    view.access_policy = policy
    return view


def _login_redirect(request):
    response = redirect_to_login(request.get_full_path())
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(response.url)
    return response


def role_required(*roles: str):
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return _login_redirect(request)
            if roles and user.role not in roles:
                raise PermissionDenied("This page is not part of your portal.")
            return view(request, *args, **kwargs)

        return _mark(wrapper, "+".join(roles) if roles else "authenticated")

    return decorator


customer_required = role_required(User.Role.CUSTOMER)
driver_required = role_required(User.Role.DRIVER)
admin_required = role_required(User.Role.ADMIN)
login_required = role_required()


def public(view):
    """Anyone, signed in or not (landing page, webhooks that check their own signature)."""
    return _mark(view, "public")
