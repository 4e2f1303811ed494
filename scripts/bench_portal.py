"""Portal and API benchmark: the customer's ride list, the live quote, the back office's
ride table and the API's booking list, with many rides in the database.

Builds a throwaway test database (SQLite in memory, or `test_<name>` on the
PostgreSQL in DATABASE_URL), fills it with CUSTOMERS customers sharing RIDES rides,
and times each path. Not a test: run it by hand and copy the figures to
docs/portal-benchmarks.md.

    uv run python scripts/bench_portal.py [--customers 200] [--rides 20000]
"""

import argparse
from datetime import timedelta
from decimal import Decimal

from benchkit import analyze, table_header, throwaway_database
from benchkit import timed as timed_any
from django.db import connection
from django.test import Client
from django.utils import timezone


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--rides", type=int, default=20000)
    args = parser.parse_args()
    with throwaway_database():
        run(args.customers, args.rides)


def timed(label, func, repeat=20):
    timed_any(label, func, repeat=repeat, expect_status=200)


def run(n_customers, n_rides):
    from bookings.models import Pet, Ride, RidePet, RideStatus
    from project.accounts.models import User
    from project.accounts.tokens import token_pair_for

    now = timezone.now()
    customers = User.objects.bulk_create(
        User(email=f"c{i}@bench.example", name=f"Customer {i:04d}") for i in range(n_customers)
    )
    pets = Pet.objects.bulk_create(
        Pet(owner=c, name=f"Pet {i}", weight_lb=Decimal("30")) for i, c in enumerate(customers)
    )
    statuses = list(RideStatus)
    rides = []
    for i in range(n_rides):
        start = now + timedelta(hours=(i % 2000) - 1000)
        rides.append(
            Ride(
                customer=customers[i % n_customers],
                status=statuses[i % len(statuses)]
                if statuses[i % len(statuses)]
                not in (RideStatus.ASSIGNED, RideStatus.EN_ROUTE, RideStatus.PICKED_UP, RideStatus.COMPLETED)
                else RideStatus.CONFIRMED,
                pickup_address=f"{i} Central Park W, New York, NY 10024",
                pickup_lat=Decimal("40.7830"),
                pickup_lng=Decimal("-73.9712"),
                dropoff_address="510 E 62nd St, New York, NY 10065",
                dropoff_lat=Decimal("40.7610"),
                dropoff_lng=Decimal("-73.9580"),
                distance_miles=Decimal("2.1"),
                scheduled_at=start,
                ends_at=start + timedelta(minutes=40),
                price_cents=3000,
                quote={
                    "currency": "usd",
                    "total_cents": 3000,
                    "distance_miles": "2.1",
                    "lines": [{"kind": "base", "label": "Base fare", "cents": 3000}],
                },
            )
        )
    Ride.objects.bulk_create(rides, batch_size=2000)
    RidePet.objects.bulk_create(
        (RidePet(ride=r, pet=pets[i % n_customers]) for i, r in enumerate(rides)), batch_size=2000
    )
    analyze()
    customer = customers[0]
    per_customer = Ride.objects.filter(customer=customer).count()

    print(f"{n_rides} rides, {n_customers} customers ({per_customer} rides each), {connection.vendor}\n")
    table_header()
    client = Client()
    client.force_login(customer)
    timed("GET /app/ (my rides, upcoming)", lambda: client.get("/app/"))
    timed(
        "GET /app/?status=all&page=5 (HTMX fragment)",
        lambda: client.get("/app/?status=all&page=5", HTTP_HX_REQUEST="true"),
    )
    timed(
        "POST /app/rides/quote/ (live quote fragment)",
        lambda: client.post(
            "/app/rides/quote/",
            {
                "pets": [pets[0].pk],
                "pickup_address": "200 Central Park W, New York, NY 10024",
                "dropoff_address": "120 Atlantic Ave, Brooklyn, NY 11201",
                "scheduled_at": timezone.localtime(now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
            },
            HTTP_HX_REQUEST="true",
        ),
    )
    token = token_pair_for(user=customer).access
    timed(
        "GET /api/v1/bookings?page_size=20",
        lambda: client.get("/api/v1/bookings?page_size=20", HTTP_AUTHORIZATION=f"Bearer {token}"),
    )

    admin = User.objects.create_user("ops@bench.example", "x", name="Ops", role=User.Role.ADMIN)
    client.force_login(admin)
    timed("GET /ops/ (today at a glance)", lambda: client.get("/ops/"))
    timed("GET /ops/rides/ (first page of all rides)", lambda: client.get("/ops/rides/"))
    timed(
        "GET /ops/rides/?status=confirmed (HTMX fragment)",
        lambda: client.get("/ops/rides/?status=confirmed", HTTP_HX_REQUEST="true"),
    )
    timed("GET /ops/rides/?q=customer+0042 (search)", lambda: client.get("/ops/rides/?q=customer+0042"))


if __name__ == "__main__":
    main()
