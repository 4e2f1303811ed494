"""core.ratelimit: reading rates from settings and counting hits in the cache."""

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
