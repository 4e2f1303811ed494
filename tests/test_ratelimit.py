"""core.ratelimit: a window opens at the first hit, so a limit holds across clock boundaries."""

import pytest

from core import ratelimit
from core.errors import DomainError


@pytest.fixture
def clock(monkeypatch):
    now = {"t": 1_000_049.9}  # a tenth of a second before a 30 s boundary of the clock
    monkeypatch.setattr(ratelimit.time, "time", lambda: now["t"])
    return now


def hit():
    ratelimit.rate_limit(
        scope="test", key="+12125550100", rates=ratelimit.parse_rates("1/30s"), message="Slow down."
    )


def test_one_per_30_seconds_holds_across_a_boundary_of_the_clock(clock):
    hit()
    clock["t"] += 0.2  # the clock's window changed; ours did not
    with pytest.raises(DomainError, match=r"Slow down\. Try again in 30 seconds\.") as refused:
        hit()
    assert refused.value.code == "rate_limited"
    clock["t"] += 30  # the window from the first hit is over
    hit()
