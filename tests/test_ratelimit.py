"""core.ratelimit: reading rates from settings and counting hits in the cache; a window opens
at the first hit, so a limit holds across clock boundaries."""

import time as time_module

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.errors import DomainError
from core.ratelimit import Rate, parse_rates, rate_limit


def test_rates_are_read_with_their_units():
    assert parse_rates("1/30s, 5/h,20/1d") == (Rate(1, 30), Rate(5, 3600), Rate(20, 86400))
    assert parse_rates("") == ()


@pytest.mark.parametrize("text", ["5", "5/x", "0/h", "five/h", "5/h/ip"])
def test_a_rate_without_a_count_and_a_period_is_refused(text):
    with pytest.raises(ImproperlyConfigured, match="write a count, a slash and a period"):
        parse_rates(text)


def test_each_key_has_its_own_count_and_the_refusal_says_how_long_to_wait():
    rates = parse_rates("2/h")
    for _ in range(2):
        rate_limit(scope="test", key="a", rates=rates, message="Slow down.")
    with pytest.raises(DomainError, match=r"^Slow down\. Try again in \d+ (minutes|seconds)\.$") as refused:
        rate_limit(scope="test", key="a", rates=rates, message="Slow down.")
    assert refused.value.code == "rate_limited"
    rate_limit(scope="test", key="b", rates=rates, message="Slow down.")  # another key
    rate_limit(scope="other", key="a", rates=rates, message="Slow down.")  # another scope


@pytest.fixture
def clock(monkeypatch):
    now = {"t": 1_000_049.9}  # a tenth of a second before a 30 s boundary of the clock
    monkeypatch.setattr(time_module, "time", lambda: now["t"])
    return now


def hit():
    rate_limit(scope="test", key="+12125550100", rates=parse_rates("1/30s"), message="Slow down.")


def test_one_per_30_seconds_holds_across_a_boundary_of_the_clock(clock):
    hit()
    clock["t"] += 0.2  # the clock's window changed; ours did not
    with pytest.raises(DomainError, match=r"Slow down\. Try again in 30 seconds\.") as refused:
        hit()
    assert refused.value.code == "rate_limited"
    clock["t"] += 30  # the window from the first hit is over
    hit()
