"""Working time: a driver's weekly hours and days off, read as spans of real time.

Hours are wall-clock times in the operations zone (`core.dates.operations_zone`), so
"Monday 07:00–19:00" is 07:00–19:00 New York time on every Monday, DST or not. A ride's
window must lie wholly inside one span of working time; back-to-back intervals (Monday
until midnight, Tuesday from midnight) join into one span, so a late ride may run past
midnight when the driver works on both sides of it. Days off (`TimeOff`, both days
included) remove whole days.

Pure functions over rows already loaded: dispatch and availability load a day's hours for
every driver in one query each and ask these in Python.
"""

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings

from core.dates import operations_zone

DAY_MINUTES = 24 * 60


def parse_clock(value: str) -> int:
    """ "07:30" -> 450 minutes; "24:00" is midnight at the end of the day (1440)."""
    hours, _, minutes = (value or "").strip().partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError(f"Not a time of day (HH:MM): {value!r}")
    total = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or total > DAY_MINUTES:
        raise ValueError(f"Not a time of day (HH:MM): {value!r}")
    return total


def minute_to_time(minute: int) -> time:
    """1440 (midnight at the end of the day) is stored as 00:00 (see WorkingHours.ends)."""
    return time(minute // 60 % 24, minute % 60)


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def default_intervals() -> list[tuple[int, int]]:
    """DRIVER_DEFAULT_HOURS as (starts_minute, ends_minute), the same every day."""
    starts, _, ends = settings.DRIVER_DEFAULT_HOURS.partition("-")
    return [(parse_clock(starts), parse_clock(ends))]


def interval_errors(intervals: Iterable[tuple[int, int]]) -> list[str]:
    """What is wrong with one day's intervals (minutes): each must end after it starts, and
    none may overlap another (touching is fine: 07:00–12:00 and 12:00–19:00)."""
    errors = []
    ordered = sorted(intervals)
    for starts, ends in ordered:
        if ends <= starts:
            errors.append(f"{clock(starts)}–{clock(ends)}: the end must be after the start.")
    for (s1, e1), (s2, e2) in zip(ordered, ordered[1:], strict=False):
        if s2 < e1 and e1 > s1 and e2 > s2:
            errors.append(f"{clock(s1)}–{clock(e1)} and {clock(s2)}–{clock(e2)} overlap.")
    return errors


@dataclass
class WorkingTime:
    """One driver's working time over a few days, as sorted, merged, half-open spans."""

    starts: list[datetime]
    ends: list[datetime]

    def covers(self, start: datetime, end: datetime) -> bool:
        """Whether [start, end) lies inside one span."""
        i = bisect_right(self.starts, start) - 1
        return i >= 0 and self.ends[i] >= end


def working_time(
    hours: Iterable, time_off: Iterable, first_day: date, last_day: date, tz=None
) -> WorkingTime:
    """Spans of working time from `first_day` to `last_day` (both included), from WorkingHours
    rows (`weekday`, `starts_minute`, `ends_minute`) and TimeOff rows (`starts_on`, `ends_on`)."""
    tz = tz or operations_zone()
    by_weekday: dict[int, list[tuple[int, int]]] = {}
    for row in hours:
        by_weekday.setdefault(row.weekday, []).append((row.starts_minute, row.ends_minute))
    off = [(row.starts_on, row.ends_on) for row in time_off]
    spans: list[list[datetime]] = []
    day = first_day
    while day <= last_day:
        if not any(a <= day <= b for a, b in off):
            midnight = datetime.combine(day, time.min)
            for starts, ends in sorted(by_weekday.get(day.weekday(), ())):
                # Wall-clock times made aware in the zone (the day's DST offset applies).
                begin = (midnight + timedelta(minutes=starts)).replace(tzinfo=tz)
                finish = (midnight + timedelta(minutes=ends)).replace(tzinfo=tz)
                if spans and begin <= spans[-1][1]:
                    spans[-1][1] = max(spans[-1][1], finish)
                else:
                    spans.append([begin, finish])
        day += timedelta(days=1)
    return WorkingTime(starts=[s for s, _ in spans], ends=[e for _, e in spans])


def days_around(start: datetime, end: datetime) -> tuple[date, date]:
    """The operations days a window touches, one either side (for spans that join)."""
    tz = operations_zone()
    return (start.astimezone(tz).date() - timedelta(days=1), end.astimezone(tz).date() + timedelta(days=1))
