import zoneinfo

from django.utils import timezone


class UserTimezoneMiddleware:
    """Show and parse times in the signed-in user's own time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            # The zone is this request's: it must not stay on the thread for whatever runs
            # next there (a worker thread's next job, the code around a test client).
            timezone.deactivate()
