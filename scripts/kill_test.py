#!/usr/bin/env python
"""Fault injection: `kill -9` a task worker cluster mid-flight; no message is lost or duplicated.

    uv run python scripts/kill_test.py [--messages 1000] [--rides 300] [--kill-after 0.3]

On a throwaway PostgreSQL database (dropped and created again; its name must contain
`kill_test`) and a Redis database (flushed), it queues `messages` booking-confirmation
emails through the real entry points: `rides` of them through the outbox
(`queue_occasion` in the ride's transaction, a `handle_occasion` task that creates the
email and queues its send), the rest with `notify()` directly. All tasks are in Redis
before any worker starts. It then starts three `qcluster`s: two for the `messages` queue
and the default one (the outbox relay's clock), with short recovery timings, emails going
to a local SMTP server this script runs (aiosmtpd). Once `kill-after` of the emails have
arrived it kills one messages cluster's whole process group with SIGKILL (its sentinel,
the tasks it had prefetched and its workers, mid-send or not), as a dying machine would.
The sweep and the relay must then finish the job. It waits until every email is sent and
every outbox item done, and counts what the SMTP server got, by notification and by
Message-ID. It exits 1 if any email is lost or arrived twice with different Message-IDs
(a second copy with the same Message-ID is SMTP's at-least-once, dedupable, and counted
apart). docs/reliability.md keeps the figures we measured.
"""

import argparse
import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from email.parser import BytesHeaderParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CUSTOMER_EMAIL = "kill-test@example.com"


def queue(messages: int, rides: int) -> None:
    """Runs inside Django (a child process): create the rides and queue their confirmations."""
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
    from core.models import OutboxItem
    from notifications.models import Channel, Notification
    from notifications.services import notify
    from notifications.tasks import queue_occasion
    from notifications.triggers import Occasion
    from project.accounts.models import User

    # No phone: every confirmation is one email, and every email is counted at the SMTP server.
    customer = User.objects.create_user(CUSTOMER_EMAIL, "x", name="Kill Test")
    pet = Pet.objects.create(owner=customer, name="Biscuit", weight_lb=Decimal("20"))
    plan = ride_plan(
        customer=customer,
        pets=[pet],
        pickup_address="200 Central Park W, New York, NY 10024",
        dropoff_address="510 E 62nd St, New York, NY 10065",
        scheduled_at=timezone.now() + timedelta(days=3),
    )
    started = time.monotonic()
    direct = 0
    for i in range(messages):
        # Interleaved, so whenever the kill comes both paths have work in flight.
        through_outbox = (i * rides) // messages != ((i + 1) * rides) // messages
        with transaction.atomic():
            ride = Ride.objects.create(customer=customer, status=RideStatus.CONFIRMED, **_plan_fields(plan))
            party_record(ride=ride, pets=[pet])
            if through_outbox:
                queue_occasion(Occasion("confirm", ride.pk))  # an outbox item, handed over on commit
        if not through_outbox:
            created = notify(occasion=Occasion("confirm", ride.pk))  # its send queued on commit
            assert [row.channel for row in created] == [Channel.EMAIL], created
            direct += 1
    outbox_items = OutboxItem.objects.filter(task="notifications.tasks.handle_occasion").count()
    emails = Notification.objects.filter(channel=Channel.EMAIL).count()
    assert outbox_items == rides and emails == direct == messages - rides, (outbox_items, emails, direct)
    assert Notification.objects.count() == emails  # no SMS: nothing the SMTP server cannot see
    print(
        f"queued {messages} emails in {time.monotonic() - started:.1f} s: "
        f"{rides} through the outbox, {direct} directly"
    )


class Recorder:
    """The aiosmtpd handler: notes each message's headers on arrival (before answering, so a
    client killed while waiting for the answer still counts as delivered, as it would be)."""

    def __init__(self, reply_delay: float):
        self.reply_delay = reply_delay
        self.lock = threading.Lock()
        self.received: list[tuple[float, str, str]] = []  # (time, X-Whiskers-Notification, Message-ID)

    async def handle_DATA(self, server, session, envelope):
        headers = BytesHeaderParser().parsebytes(envelope.content)
        with self.lock:
            self.received.append(
                (time.monotonic(), headers.get("X-Whiskers-Notification", ""), headers.get("Message-ID", ""))
            )
        if self.reply_delay:
            await asyncio.sleep(self.reply_delay)  # a real provider takes a while to answer
        return "250 OK"

    def count(self) -> int:
        with self.lock:
            return len(self.received)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict

    name = conninfo_to_dict(url).get("dbname", "")
    if "kill_test" not in name:
        sys.exit(f"Refusing to drop database {name!r}: its name must contain 'kill_test'.")
    with psycopg.connect(url, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def state(conn) -> dict:
    """Read-only: statuses of the notifications and the outbox items."""
    notifications = dict(conn.execute("SELECT status, COUNT(*) FROM notifications_notification GROUP BY 1"))
    outbox = dict(conn.execute("SELECT status, COUNT(*) FROM core_outboxitem GROUP BY 1"))
    return {"notifications": notifications, "outbox": outbox}


def drained(s: dict, messages: int, rides: int) -> bool:
    n, o = s["notifications"], s["outbox"]
    return (
        sum(n.values()) == messages
        and not n.get("queued", 0)
        and not n.get("sending", 0)
        and o.get("done", 0) == rides == sum(o.values())
    )


def start_cluster(name: str | None, env: dict, logdir: Path) -> tuple[subprocess.Popen, Path]:
    env = {**env, **({"Q_CLUSTER_NAME": name} if name else {})}
    path = logdir / f"qcluster-{name or 'default'}-{len(list(logdir.glob('qcluster-*')))}.log"
    log = open(path, "w")  # noqa: SIM115 (the child keeps it; closed when we exit)
    # Its own session: its process group (sentinel and workers) can be killed at once.
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return proc, path


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


# Django-Q's log lines: "<worker> processing <task name> '<func>' [<group>]", then from the monitor
# "Processed '<func>' (<task name>)" or "Failed '<func>' (<task name>) - <error>".
STARTED = re.compile(r" processing (.+?) '[^']*'(?: \[[^\]]*\])?$")
FINISHED = re.compile(r"(?:Processed|Failed) '[^']*' \((.+?)\)(?: - |$)")


def task_log(log: Path) -> tuple[Counter, Counter]:
    """Task names a cluster's log shows started and finished."""
    started, finished = Counter(), Counter()
    for line in log.read_text(errors="replace").splitlines():
        if match := STARTED.search(line):
            started[match[1]] += 1
        elif match := FINISHED.search(line):
            finished[match[1]] += 1
    return started, finished


# Rows the sweep queued again (it moves `enqueued_at`): a task lost, a send interrupted, or a
# task only waiting behind the backlog longer than NOTIFY_REQUEUE_AFTER (then run once anyway).
REQUEUED = "SELECT id FROM notifications_notification WHERE enqueued_at <> created_at"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/ww_kill_test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--rides", type=int, default=300, help="of them, how many via the outbox")
    parser.add_argument("--kill-after", type=float, default=0.3, help="share received before the kill")
    parser.add_argument("--smtp-delay", type=float, default=0.05, help="SMTP answer delay (s)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for everything to drain")
    parser.add_argument("--keep-logs", action="store_true", help="keep the clusters' logs")
    parser.add_argument("--queue-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.queue_only:
        return queue(args.messages, args.rides)
    if not 0 <= args.rides <= args.messages:
        sys.exit("--rides must be between 0 and --messages")

    import psycopg
    import redis
    from aiosmtpd.controller import Controller

    recreate_database(args.database_url)
    redis.Redis.from_url(args.redis_url).flushdb()
    recorder = Recorder(args.smtp_delay)
    smtp_port = free_port()
    smtp = Controller(recorder, hostname="127.0.0.1", port=smtp_port)
    smtp.start()

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "Q_SYNC": "0",
        "Q_WORKERS_MESSAGES": "2",
        # Short recovery timings, so a run takes minutes, not a quarter of an hour.
        "Q_TASK_TIMEOUT_SECONDS": "15",
        "NOTIFY_REQUEUE_AFTER_SECONDS": "20",
        "OUTBOX_RELAY_AFTER_SECONDS": "20",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "TWILIO_ACCOUNT_SID": "",
        "SMS_BACKEND": "notifications.channels.DevelopmentSmsBackend",
    }
    python = [sys.executable]
    procs: list[subprocess.Popen] = []
    logdir = Path(tempfile.mkdtemp(prefix="ww-kill-"))  # removed after a passing run
    try:
        subprocess.run([*python, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        subprocess.run(
            [*python, __file__, "--queue-only", "--messages", str(args.messages), "--rides", str(args.rides)],
            cwd=ROOT,
            env=env,
            check=True,
        )
        db = psycopg.connect(args.database_url, autocommit=True)
        db.read_only = True

        started = time.monotonic()
        victim, victim_log = start_cluster("messages", env, logdir)
        survivor, _ = start_cluster("messages", env, logdir)
        default, _ = start_cluster(None, env, logdir)
        procs = [victim, survivor, default]

        kill_at = max(1, int(args.messages * args.kill_after))
        while recorder.count() < kill_at:
            if any(p.poll() is not None for p in procs):
                sys.exit(f"a qcluster stopped early; see its log in {logdir}")
            if time.monotonic() - started > args.timeout:
                sys.exit("timed out before the kill")
            time.sleep(0.01)
        os.killpg(victim.pid, signal.SIGKILL)
        killed = time.monotonic()
        received_at_kill = recorder.count()
        at_kill = state(db)
        requeued_before_kill = len(db.execute(REQUEUED).fetchall())
        victim.wait()
        print(f"killed the first messages cluster (pid {victim.pid}) after {received_at_kill} emails")

        while not drained(current := state(db), args.messages, args.rides):
            if time.monotonic() - started > args.timeout:
                print(f"timed out waiting; the state was {current}")
                break
            if survivor.poll() is not None or default.poll() is not None:
                sys.exit(f"a surviving qcluster stopped; see its log in {logdir}")
            time.sleep(0.2)
        done = time.monotonic()
        time.sleep(1)  # an answer still on its way to the SMTP server
    finally:
        for proc in procs:
            stop(proc)
        smtp.stop()
    victim_started, victim_finished = task_log(victim_log)
    # Started, no result logged: running when killed, or done with its result still on the
    # way to the cluster's monitor (which logs after saving it; it lags on a busy machine).
    running = sorted((victim_started - victim_finished).elements())
    finished = Counter()
    for log in logdir.glob("qcluster-*.log"):
        finished += task_log(log)[1]

    final = state(db)
    rows = dict(
        db.execute("SELECT id, ride_id FROM notifications_notification WHERE channel = 'email'").fetchall()
    )
    unknown = db.execute(
        "SELECT COUNT(DISTINCT notification_id) FROM notifications_notificationattempt"
        " WHERE outcome = 'unknown'"
    ).fetchone()[0]
    requeued = [f"notification-{pk}" for (pk,) in db.execute(REQUEUED)]
    items = [f"outbox {pk}: {task}" for pk, task in db.execute("SELECT id, task FROM core_outboxitem")]
    outbox_again = db.execute("SELECT COUNT(*) FROM core_outboxitem WHERE attempts > 1").fetchone()[0]
    ride_ids = [r for (r,) in db.execute("SELECT id FROM bookings_ride").fetchall()]
    db.close()
    # What the killed cluster had taken from Redis but never started (no log names it): a row
    # the sweep queued again whose one finished task came after that (a row queued again
    # only for waiting behind the backlog has two), an item whose first task never finished.
    lost_sends = [name for name in requeued if finished[name] == 1 and name not in victim_started]
    lost_items = [name for name in items if not finished[name] and name not in victim_started]
    relayed = [name for name in items if finished[f"{name} (relayed)"]]

    # By ride (one confirmation email each): the copies received and their Message-IDs.
    copies: dict[int, list[str]] = defaultdict(list)
    unknown_ids = 0
    for _at, notification_id, message_id in recorder.received:
        ride = rows.get(int(notification_id)) if notification_id.isdigit() else None
        if ride is None:
            unknown_ids += 1
            continue
        copies[ride].append(message_id)
    lost = sum(1 for ride in ride_ids if not copies.get(ride))
    once = sum(1 for ride in ride_ids if len(copies.get(ride, [])) == 1)
    same_id = sum(1 for c in copies.values() if len(c) > 1 and len(set(c)) == 1)
    extra_copies = sum(len(c) - 1 for c in copies.values() if len(c) > 1 and len(set(c)) == 1)
    different_ids = sum(1 for c in copies.values() if len(set(c)) > 1)

    figures = [
        ("emails expected", args.messages),
        ("  of which through the outbox", args.rides),
        ("emails received at kill", received_at_kill),
        ("notification rows by status at kill", at_kill["notifications"]),
        ("notification rows by status at end", final["notifications"]),
        ("outbox items by status at end", final["outbox"]),
        ("SMTP: messages received", len(recorder.received)),
        ("SMTP: distinct notifications received", len(copies)),
        ("SMTP: received exactly once", once),
        ("SMTP: lost (never received)", lost),
        ("SMTP: duplicated, same Message-ID", f"{same_id} ({extra_copies} extra copies)"),
        ("SMTP: duplicated, different Message-IDs", different_ids),
        ("SMTP: not one of ours", unknown_ids),
        ("killed cluster: tasks it had started", sum(victim_started.values())),
        ("  started, no result logged", f"{len(running)} {running}"),
        (
            "  taken from Redis, never started",
            f"{len(lost_sends) + len(lost_items)} {lost_sends + lost_items}",
        ),
        ("sends interrupted (unknown attempt)", unknown),
        ("sends queued again by the sweep", f"{len(requeued)} ({requeued_before_kill} before the kill)"),
        ("outbox items relayed", len(relayed)),
        ("outbox items run more than once", outbox_again),
        ("drained after cluster start", f"{done - started:.1f} s"),
        ("drained after the kill", f"{done - killed:.1f} s"),
    ]
    width = max(len(label) for label, _ in figures)
    for label, value in figures:
        print(f"{label:<{width}}  {value}")
    ok = lost == 0 and different_ids == 0 and unknown_ids == 0 and drained(final, args.messages, args.rides)
    if ok and not args.keep_logs:
        shutil.rmtree(logdir)
    else:
        print(f"the clusters' logs: {logdir}")
    print("OK: nothing lost, nothing duplicated" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
