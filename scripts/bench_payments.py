"""Benchmark the back office's payments ledger: page render, HTMX filter and CSV export.

    DATABASE_URL=sqlite:///var/bench-payments.sqlite3 uv run python scripts/bench_payments.py [rows]

Builds a throwaway database (the file named by DATABASE_URL is deleted and re-created)
with `rows` ledger rows (default 20000) spread over rides and customers, then times
each request through Django's test client and counts its queries. Figures: docs/benchmarks.md.
"""

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench-payments.sqlite3'}")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost")

import django  # noqa: E402

if os.environ["DATABASE_URL"].startswith("sqlite:///"):
    Path(os.environ["DATABASE_URL"].removeprefix("sqlite:///")).unlink(missing_ok=True)
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from billing.models import Payment, Transaction  # noqa: E402
from bookings.models import Pet, Ride, RidePet  # noqa: E402
from project.accounts.models import User  # noqa: E402


def build(rows: int) -> None:
    call_command("migrate", verbosity=0)
    admin = User.objects.create_user("bench-admin@example.com", "x", name="Bench Admin", role="admin")
    customers = User.objects.bulk_create(
        [User(email=f"c{i}@example.com", name=f"Customer {i}", role="customer") for i in range(200)]
    )
    pets = Pet.objects.bulk_create([Pet(owner=c, name=f"Pet {c.pk}", weight_lb=10) for c in customers])
    now = timezone.now()
    ride_count = rows // 2
    rides = Ride.objects.bulk_create(
        [
            Ride(
                customer=pets[i % len(pets)].owner,
                status="cancelled",
                pickup_address="A 10024",
                pickup_lat=0,
                pickup_lng=0,
                dropoff_address="B 10065",
                dropoff_lat=0,
                dropoff_lng=0,
                distance_miles=2,
                scheduled_at=now,
                ends_at=now + timezone.timedelta(hours=1),
                price_cents=2500,
            )
            for i in range(ride_count)
        ],  # fmt: skip
        batch_size=1000,
    )
    RidePet.objects.bulk_create(
        (RidePet(ride=r, pet=pets[i % len(pets)]) for i, r in enumerate(rides)), batch_size=1000
    )
    payments = Payment.objects.bulk_create(
        [Payment(ride=r, status="captured", amount_cents=2500, captured_cents=2500) for r in rides],
        batch_size=1000,
    )
    Transaction.objects.bulk_create(
        [
            Transaction(
                ride_id=p.ride_id,
                payment=p,
                kind=kind,
                status="succeeded",
                amount_cents=2500,
                idempotency_key=f"bench-{p.pk}-{kind}",
                source="ride",
                provider_id=f"pi_bench_{p.pk}",
                initiated_by=admin if kind == "refund" else None,
            )
            for p in payments
            for kind in ("authorization", "capture")
        ],  # fmt: skip
        batch_size=1000,
    )
    return admin


def measure(client: Client, label: str, url: str, repeat: int = 5, **headers) -> None:
    timings = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(url, **headers)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            timings.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code)
    timings.sort()
    print(
        f"{label:<34} median {timings[len(timings) // 2] * 1000:7.1f} ms  "
        f"queries {len(queries.captured_queries):3d}  {len(body) / 1024:8.1f} KiB"
    )


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    admin = build(rows)
    client = Client()
    client.force_login(admin)
    print(f"{Transaction.objects.count()} ledger rows on {connection.vendor}")
    measure(client, "payments page (first page of 50)", "/ops/payments/")
    measure(client, "payments, last page", f"/ops/payments/?page={rows // 50}")
    measure(client, "HTMX filter: refunds (none)", "/ops/payments/?kind=refund", HTTP_HX_REQUEST="true")
    measure(client, "search by ride #id", f"/ops/payments/?q=%23{rows // 4}", HTTP_HX_REQUEST="true")
    measure(client, "CSV export, all rows", "/ops/payments/export.csv", repeat=3)


if __name__ == "__main__":
    main()
