from django.urls import reverse

from project.accounts.models import User

PORTAL_HOME = {
    User.Role.CUSTOMER: "bookings:ride_list",
    User.Role.DRIVER: "fleet:home",
    User.Role.ADMIN: "ops_home",
}


def portal_home_url(user) -> str:
    return reverse(PORTAL_HOME.get(user.role, "bookings:ride_list"))


def portal(request):
    """Which portal's navigation the base layout shows."""
    user = getattr(request, "user", None)
    role = user.role if user is not None and user.is_authenticated else None
    return {"portal_role": role}
