"""Calendar days as time ranges, and the operations time zone.

People see times in their own zone (the active zone, from their profile). The business runs
on one calendar: "today" on the back office, a driver's day and dispatch's "rides that day"
are days in the operations zone (`DJANGO_TIME_ZONE`, which new users also start with)."""

import zoneinfo
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone


def day_bounds(day: date, tz=None) -> tuple[datetime, datetime]:
    """Midnight starting `day` and midnight starting the next, in `tz` (default: the active
    zone). Both ends are local midnights, so a day with a DST change is 23 or 25 hours."""
    tz = tz or timezone.get_current_timezone()
    return datetime.combine(day, time.min, tz), datetime.combine(day + timedelta(days=1), time.min, tz)


def operations_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def operations_today(now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), operations_zone()).date()


def operations_day(moment: datetime | None = None) -> tuple[datetime, datetime]:
    """The operations day that `moment` (default: now) falls on, as a time range."""
    return day_bounds(operations_today(moment), operations_zone())
