#!/usr/bin/env python
"""Benchmark: how long a `qcluster` takes to drain queued notifications.

    uv run python scripts/bench_notifications.py [--count 1000] [--workers 2]

On a throwaway SQLite database (in a temporary folder, the same settings as
development: WAL, IMMEDIATE transactions, the ORM broker) it queues `count`
notifications through the real entry point (half SMS, half email: booking
confirmations for count/2 rides), starts `manage.py qcluster` with `workers`
worker processes and the development backends (SMS recorder, console email, both
written to a log file), and measures until no notification is queued or sending.
It prints the figures; docs/benchmarks.md keeps the ones we measured.
"""

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def queue(count: int) -> None:
    """Runs inside Django (a child process): create rides and announce their confirmation."""
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    import logging

    logging.getLogger("django-q").setLevel(logging.WARNING)  # not a line per queued task
    from datetime import timedelta
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from bookings.models import Pet, Ride, RideStatus
    from bookings.services import _plan_fields, party_record, ride_plan
    from notifications.services import notify
    from notifications.triggers import Occasion
    from project.accounts.models import User

    customer = User.objects.create_user(
        "bench@example.com",
        "x",
        name="Bench Customer",
        phone="+12125550123",
        phone_verified_at=timezone.now(),  # texts go only to verified numbers
    )
    pet = Pet.objects.create(owner=customer, name="Biscuit", weight_lb=Decimal("20"))
    plan = ride_plan(
        customer=customer,
        pets=[pet],
        pickup_address="200 Central Park W, New York, NY 10024",
        dropoff_address="510 E 62nd St, New York, NY 10065",
        scheduled_at=timezone.now() + timedelta(days=3),
    )
    started = time.monotonic()
    for _ in range(count // 2):
        with transaction.atomic():
            ride = Ride.objects.create(customer=customer, status=RideStatus.CONFIRMED, **_plan_fields(plan))
            party_record(ride=ride, pets=[pet])
        notify(occasion=Occasion("confirm", ride.pk))  # one SMS and one email, queued on commit
    print(f"queued {count} notifications in {time.monotonic() - started:.1f} s")


def pending(db: Path) -> tuple[int, int]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=20) as conn:
        rows = dict(conn.execute("SELECT status, COUNT(*) FROM notifications_notification GROUP BY status"))
    waiting = rows.get("queued", 0) + rows.get("sending", 0)
    return waiting, sum(rows.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--queue-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.queue_only:
        return queue(args.count)

    with tempfile.TemporaryDirectory(prefix="ww-bench-") as tmp:
        db = Path(tmp) / "bench.sqlite3"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "DJANGO_DEBUG": "1",
            "DATABASE_URL": f"sqlite:///{db}",
            "Q_WORKERS": str(args.workers),
            # Sends go to the messages queue (core.tasks): run that queue's cluster.
            "Q_CLUSTER_NAME": "messages",
            "Q_WORKERS_MESSAGES": str(args.workers),
            "Q_SYNC": "0",
            "EMAIL_URL": "consolemail://",
            "SMS_BACKEND": "notifications.channels.DevelopmentSmsBackend",
            "TWILIO_ACCOUNT_SID": "",
        }
        python = [sys.executable]
        subprocess.run([*python, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        subprocess.run(
            [*python, __file__, "--queue-only", "--count", str(args.count)], cwd=ROOT, env=env, check=True
        )
        waiting, total = pending(db)
        print(f"{waiting} of {total} waiting; starting qcluster with {args.workers} workers")

        log = open(Path(tmp) / "qcluster.log", "w")  # noqa: SIM115 (closed below)
        started = time.monotonic()
        cluster = subprocess.Popen(
            [*python, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            while waiting:
                time.sleep(0.2)
                waiting, total = pending(db)
                if cluster.poll() is not None:
                    sys.exit("qcluster stopped early; see its log")
            drained = time.monotonic() - started
        finally:
            cluster.send_signal(signal.SIGTERM)
            cluster.wait(timeout=60)
            log.close()

        with sqlite3.connect(db) as conn:
            statuses = dict(
                conn.execute("SELECT status, COUNT(*) FROM notifications_notification GROUP BY status")
            )
            first, last = conn.execute(
                "SELECT MIN(sent_at), MAX(sent_at) FROM notifications_notification WHERE sent_at IS NOT NULL"
            ).fetchone()
        from datetime import datetime

        span = (datetime.fromisoformat(last) - datetime.fromisoformat(first)).total_seconds()
        print(f"statuses: {statuses}")
        print(
            f"drained {total} notifications in {drained:.1f} s from cluster start ({total / drained:.0f}/s)"
        )
        print(f"first to last send: {span:.1f} s ({total / span:.0f}/s)")


if __name__ == "__main__":
    main()
