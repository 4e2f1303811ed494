"""Fleet benchmark: how ranking and the driver's page scale with the fleet and the rides.

Builds a throwaway test database (SQLite in memory, or `test_<name>` on the
PostgreSQL in DATABASE_URL), fills it with DRIVERS drivers and RIDES rides, and
times the hot paths. Not a test: run it by hand and copy the figures to
docs/fleet-benchmarks.md.

    uv run python scripts/bench_fleet.py [--drivers 300] [--rides 20000]
"""

import argparse
from datetime import timedelta
from decimal import Decimal

from benchkit import analyze, table_header, throwaway_database, timed
from django.db import connection
from django.test import Client
from django.utils import timezone


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--drivers", type=int, default=300)
    parser.add_argument("--rides", type=int, default=20000)
    args = parser.parse_args()

    with throwaway_database():
        run(args.drivers, args.rides)


def run(n_drivers, n_rides):
    from bookings.models import Pet, Ride, RidePet, RideStatus
    from fleet import dispatch, selectors
    from fleet.models import CrateSize, DriverProfile
    from project.accounts.models import User

    now = timezone.now()
    customer = User.objects.create_user("bench@example.com", "x", name="Bench Customer")
    pet = Pet.objects.create(owner=customer, name="Rex", weight_lb=Decimal("30"))
    drivers = User.objects.bulk_create(
        User(email=f"d{i}@bench.example", name=f"Driver {i:04d}", role=User.Role.DRIVER)
        for i in range(n_drivers)
    )
    DriverProfile.objects.bulk_create(
        DriverProfile(
            user=d,
            vehicle_make="Ford",
            vehicle_model="Transit",
            plate=f"B{i:05d}",
            max_crate_size=CrateSize.XLARGE,
            pet_types=list(Pet.Type.values),
            on_duty=i % 5 != 0,
            last_lat=Decimal("40.70") + Decimal(i % 50) / 1000,
            last_lng=Decimal("-73.95") - Decimal(i % 30) / 1000,
        )
        for i, d in enumerate(drivers)
    )

    def ride(i, driver=None, status=RideStatus.CONFIRMED):
        start = now + timedelta(hours=1 + (i % (24 * 30)))  # spread over a month, back to back per driver
        return Ride(
            customer=customer,
            driver=driver,
            status=status,
            pickup_address="200 Central Park W, New York, NY 10024",
            pickup_lat=Decimal("40.7830"),
            pickup_lng=Decimal("-73.9712"),
            dropoff_address="510 E 62nd St, New York, NY 10065",
            dropoff_lat=Decimal("40.7610"),
            dropoff_lng=Decimal("-73.9580"),
            distance_miles=Decimal("2.1"),
            scheduled_at=start,
            ends_at=start + timedelta(minutes=40),
            price_cents=3000,
        )

    held = [ride(i, drivers[i % n_drivers], RideStatus.ASSIGNED) for i in range(n_rides)]
    # One driver's windows never overlap: each driver gets every n_drivers-th hour.
    for i, r in enumerate(held):
        r.scheduled_at = now + timedelta(hours=1 + i // n_drivers)
        r.ends_at = r.scheduled_at + timedelta(minutes=40)
    Ride.objects.bulk_create(held, batch_size=2000)
    waiting = Ride.objects.bulk_create([ride(i) for i in range(200)])
    RidePet.objects.bulk_create((RidePet(ride=r, pet=pet) for r in [*held, *waiting]), batch_size=2000)
    analyze()
    target = Ride.objects.with_party().get(pk=waiting[0].pk)
    busiest = drivers[1]

    print(f"{n_drivers} drivers, {n_rides} held rides, {connection.vendor}\n")
    table_header()
    timed(
        f"rank every driver for a ride (`dispatch.candidates`, {n_drivers} drivers)",
        lambda: dispatch.candidates(target),
    )
    timed("dispatch queue page data (25 rides)", lambda: list(selectors.dispatch_queue()[:25]))
    timed("driver board (`selectors.driver_board`)", lambda: selectors.driver_board(busiest))

    client = Client()
    client.force_login(busiest)
    version = selectors.driver_board(busiest).version
    timed("GET /drive/ (full page)", lambda: client.get("/drive/"))
    timed(
        "GET /drive/?v=… poll, nothing changed (204)",
        lambda: client.get(f"/drive/?v={version}", HTTP_HX_REQUEST="true"),
    )
    admin = User.objects.create_user("ops@bench.example", "x", name="Ops", role=User.Role.ADMIN)
    client.force_login(admin)
    timed(
        f"GET /ops/fleet/dispatch/rides/<id>/ (assign page, {n_drivers} drivers)",
        lambda: client.get(f"/ops/fleet/dispatch/rides/{target.pk}/"),
        repeat=10,
    )
    timed("GET /ops/fleet/dispatch/", lambda: client.get("/ops/fleet/dispatch/"), repeat=10)


if __name__ == "__main__":
    main()
