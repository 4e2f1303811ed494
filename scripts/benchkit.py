"""What the benchmark scripts share: Django set up for measuring, a throwaway test
database, and one table row per timed path. Imported by scripts/bench_*.py."""

import os
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-key-long-enough-for-hs256-signing")
os.environ.setdefault("DJANGO_DEBUG", "1")  # plain static storage: no collectstatic needed
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402


@contextmanager
def throwaway_database():
    """SQLite in memory, or `test_<name>` on the PostgreSQL in DATABASE_URL; dropped afterwards."""
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def analyze() -> None:
    """Fresh planner statistics, as a live database has."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def table_header() -> None:
    print("| path | median | max | queries |\n|---|---|---|---|")


def timed(label, func, repeat=20, expect_status=None):
    """Run `func` `repeat` times; print the median, the worst and the queries of the last run."""
    samples, queries = [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            result = func()
            samples.append((time.perf_counter() - start) * 1000)
        if expect_status is not None:
            assert result.status_code == expect_status, (label, result.status_code)
        queries = len(ctx.captured_queries)
    print(f"| {label} | {statistics.median(samples):.1f} ms | {max(samples):.1f} ms | {queries} |")
