"""core.retry: claiming a due row once, leases, back-off delays and giving up. The rows are
billing's ledger rows (Transaction), the table with a nullable next attempt time."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from billing.models import Payment, Transaction
from core.retry import Backoff, claim_due_row, due_rows, parse_delays

PENDING, SUCCEEDED = Transaction.Status.PENDING, Transaction.Status.SUCCEEDED
NOON = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


@pytest.fixture
def make_row(ride):
    payment = Payment.objects.create(ride=ride, amount_cents=2500)

    def make(*, next_attempt_at=NOON, status=PENDING, attempts=0) -> Transaction:
        return Transaction.objects.create(
            ride=ride, payment=payment, kind=Transaction.Kind.CAPTURE, amount_cents=2500,
            idempotency_key=f"test-{Transaction.objects.count()}", source=Transaction.Source.RIDE,
            status=status, attempts=attempts, next_attempt_at=next_attempt_at,
        )  # fmt: skip

    return make


def claim(row, *, now=NOON, lease=None, **changes) -> bool:
    return claim_due_row(
        Transaction.objects, pk=row.pk, waiting_status=PENDING, now=now, lease=lease, **changes
    )


def test_claiming_twice_claims_once(make_row):
    row = make_row()
    assert claim(row, lease=LEASE) is True
    assert claim(row, lease=LEASE) is False  # a second worker, or the same task delivered twice
    row.refresh_from_db()
    assert row.attempts == 1


def test_a_claim_that_changes_the_status_takes_the_row_away(make_row):
    row = make_row()
    assert claim(row, status=SUCCEEDED, error="taken") is True
    assert claim(row) is False
    row.refresh_from_db()
    assert (row.status, row.error, row.attempts) == (SUCCEEDED, "taken", 1)


def test_a_leased_row_is_not_claimed_again_until_the_lease_ends(make_row):
    row = make_row()
    assert claim(row, lease=LEASE) is True
    row.refresh_from_db()
    assert row.next_attempt_at == NOON + timedelta(minutes=5)

    assert claim(row, now=NOON + timedelta(minutes=4, seconds=59)) is False
    assert claim(row, now=NOON + timedelta(minutes=5)) is True  # the first worker died: take over
    row.refresh_from_db()
    assert row.attempts == 2


def test_a_row_is_claimed_only_when_due_and_waiting(make_row):
    later = make_row(next_attempt_at=NOON + timedelta(seconds=1))
    settled = make_row(status=SUCCEEDED)
    assert claim(later) is False
    assert claim(settled) is False
    assert claim(make_row(next_attempt_at=NOON)) is True  # due at exactly its time


def test_a_row_without_a_time_is_claimable_but_not_swept(make_row):
    untimed = make_row(next_attempt_at=None)  # e.g. a payment waiting for the customer's bank
    assert list(due_rows(Transaction.objects, waiting_status=PENDING, now=NOON)) == []
    assert claim(untimed) is True


def test_due_rows_are_the_waiting_ones_whose_time_has_come_oldest_first(make_row):
    second = make_row(next_attempt_at=NOON - timedelta(minutes=1))
    first = make_row(next_attempt_at=NOON - timedelta(minutes=10))
    make_row(next_attempt_at=NOON + timedelta(minutes=1))  # not yet
    make_row(next_attempt_at=NOON - timedelta(hours=1), status=SUCCEEDED)  # settled
    due = due_rows(Transaction.objects, waiting_status=PENDING, now=NOON)
    assert list(due) == [first, second]


def test_each_failed_attempt_waits_the_next_delay_then_gives_up():
    backoff = Backoff([timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15)])
    waits = [backoff.next_attempt_at(attempts=n, now=NOON) for n in (1, 2, 3, 4)]
    assert waits == [
        NOON + timedelta(minutes=1),
        NOON + timedelta(minutes=5),
        NOON + timedelta(minutes=15),
        None,  # the fourth attempt was the last
    ]
    assert backoff.max_attempts == 4
    assert backoff.next_attempt_at(attempts=9, now=NOON) is None


def test_no_delays_means_one_attempt():
    backoff = Backoff([])
    assert backoff.max_attempts == 1
    assert backoff.next_attempt_at(attempts=1, now=NOON) is None


def test_backing_off_before_any_attempt_is_a_mistake():
    with pytest.raises(ValueError):
        Backoff([timedelta(minutes=1)]).next_attempt_at(attempts=0, now=NOON)


def test_delays_are_read_with_their_units():
    assert parse_delays("90s, 5m,1h") == [timedelta(seconds=90), timedelta(minutes=5), timedelta(hours=1)]
    assert parse_delays("") == []


@pytest.mark.parametrize("text", ["5", "1m,5", "1.5m", "-1m", "5 min", "1d"])
def test_a_delay_without_a_known_unit_is_refused(text):
    with pytest.raises(ImproperlyConfigured):
        parse_delays(text)
