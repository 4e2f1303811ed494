import zoneinfo

from django.utils import timezone


class UserTimezoneMiddleware:
    """Show and parse times in the signed-in user's own time zone, for this request only
    (the zone is put back afterwards, so nothing else that runs on the thread inherits it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        zone = None
        if user is not None and user.is_authenticated:
            try:
                zone = zoneinfo.ZoneInfo(user.time_zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                zone = None
        with timezone.override(zone):
            return self.get_response(request)
