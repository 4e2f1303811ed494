"""The JSON API root (/api/v1/). Each app contributes a router; this file only
assembles them. Schema: /api/v1/openapi.json; docs: /api/v1/docs."""

from functools import wraps

from django.conf import settings
from django.core.exceptions import PermissionDenied
from ninja import NinjaAPI

from core.api import TextParser, install_error_handlers


def docs_access(view):
    """Interactive docs and schema: open in development, admins only otherwise."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not settings.API_DOCS_PUBLIC and not (request.user.is_authenticated and request.user.is_admin):
            raise PermissionDenied("API documentation is for operations staff.")
        return view(request, *args, **kwargs)

    return wrapper


api = NinjaAPI(
    title="Whiskers & Wheels API",
    version="1",
    description="Book and follow pet rides, drive them, and run operations. Authenticate with "
    "`POST /login`, then send `Authorization: Bearer <access>`.",
    urls_namespace="api",
    docs_decorator=docs_access,
    parser=TextParser(),
)
install_error_handlers(api)

from billing import api as billing_api  # noqa: E402
from bookings import api as bookings_api  # noqa: E402
from fleet import api as fleet_api  # noqa: E402
from project.accounts import api as accounts_api  # noqa: E402

api.add_router("", accounts_api.router)
api.add_router("", bookings_api.router)
api.add_router("", billing_api.router)
api.add_router("", fleet_api.router)
api.add_router("", bookings_api.admin_router)
api.add_router("", fleet_api.admin_router)
api.add_router("", billing_api.admin_router)
