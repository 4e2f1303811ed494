"""Calendar days as time ranges, in a person's (or the active) time zone."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone


def day_bounds(day: date, tz=None) -> tuple[datetime, datetime]:
    """Midnight starting `day` and midnight starting the next, in `tz` (default: the active
    zone). Both ends are local midnights, so a day with a DST change is 23 or 25 hours."""
    tz = tz or timezone.get_current_timezone()
    return datetime.combine(day, time.min, tz), datetime.combine(day + timedelta(days=1), time.min, tz)
