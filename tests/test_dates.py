from datetime import date, timedelta
from zoneinfo import ZoneInfo

from core.dates import day_bounds

NY = ZoneInfo("America/New_York")


def test_a_day_runs_from_local_midnight_to_local_midnight():
    start, end = day_bounds(date(2026, 11, 20), NY)
    assert (start.isoformat(), end.isoformat()) == ("2026-11-20T00:00:00-05:00", "2026-11-21T00:00:00-05:00")


def test_the_day_clocks_go_back_is_25_hours():
    start, end = day_bounds(date(2026, 11, 1), NY)  # DST ends in New York
    utc = ZoneInfo("UTC")
    assert end.astimezone(utc) - start.astimezone(utc) == timedelta(hours=25)
