"""Availability benchmark: how fast the fleet answers "can this ride be served then?" on a
busy day, against a floor measured in the same run.

Builds a throwaway test database (SQLite in memory, or `test_<name>` on the PostgreSQL in
DATABASE_URL) with DRIVERS drivers (working hours: most every day 06:00–22:00, the rest
weekdays 07:00–19:00; one in twenty off that day) and RIDES rides on one day (70 % held by
drivers back to back from 06:00, so the morning is full; 30 % waiting for a driver, spread
over the day), then times each answer REPEAT times and prints the median and p95, and their
ratio to the floor (`SELECT 1`, and one row fetched through the ORM). Not a test: run it by
hand and copy the figures to docs/fleet-benchmarks.md.

    uv run python scripts/bench_availability.py [--drivers 300] [--rides 5000] [--repeat 200]
"""

import argparse
import statistics
import time
from datetime import datetime, timedelta
from decimal import Decimal

from benchkit import analyze, throwaway_database
from django.db import connection


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--drivers", type=int, default=300)
    parser.add_argument("--rides", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    with throwaway_database():
        run(args.drivers, args.rides, args.repeat)


def measure(func, repeat):
    func()  # warm
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def run(n_drivers, n_rides, repeat):
    from django.test.utils import CaptureQueriesContext

    from bookings import availability, services
    from bookings.geocoding import Point
    from bookings.models import Pet, Ride, RidePet, RideStatus
    from core.dates import operations_today, operations_zone
    from fleet.models import CrateSize, DriverProfile, TimeOff, WorkingHours
    from project.accounts.models import User

    tz = operations_zone()
    day = operations_today() + timedelta(days=3)
    opening = datetime.combine(day, datetime.min.time(), tz) + timedelta(hours=6)
    customer = User.objects.create_user("bench@example.com", "x", name="Bench Customer")
    pet = Pet.objects.create(owner=customer, name="Rex", weight_lb=Decimal("30"))
    drivers = User.objects.bulk_create(
        User(email=f"d{i}@bench.example", name=f"Driver {i:04d}", role=User.Role.DRIVER)
        for i in range(n_drivers)
    )
    profiles = DriverProfile.objects.bulk_create(
        DriverProfile(user=d, vehicle_make="Ford", vehicle_model="Transit", plate=f"B{i:05d}",
                      max_crate_size=CrateSize.XLARGE if i % 4 else CrateSize.SMALL,
                      pet_types=list(Pet.Type.values), on_duty=True)
        for i, d in enumerate(drivers)
    )  # fmt: skip
    from datetime import time as clock

    hours = []
    for i, profile in enumerate(profiles):
        days, starts, ends = (range(7), clock(6), clock(22)) if i % 5 else (range(5), clock(7), clock(19))
        hours += [WorkingHours(driver=profile, weekday=w, starts=starts, ends=ends) for w in days]
    WorkingHours.objects.bulk_create(hours)
    TimeOff.objects.bulk_create(
        TimeOff(driver=p, starts_on=day, ends_on=day) for i, p in enumerate(profiles) if i % 20 == 7
    )

    def ride(start, driver=None, status=RideStatus.CONFIRMED):
        return Ride(customer=customer, driver=driver, status=status,
                    pickup_address="200 Central Park W, New York, NY 10024", pickup_lat=Decimal("40.7830"),
                    pickup_lng=Decimal("-73.9712"), dropoff_address="510 E 62nd St, New York, NY 10065",
                    dropoff_lat=Decimal("40.7610"), dropoff_lng=Decimal("-73.9580"),
                    distance_miles=Decimal("2.1"), scheduled_at=start, ends_at=start + timedelta(minutes=40),
                    price_cents=3000)  # fmt: skip

    n_held = n_rides * 7 // 10
    held = [
        ride(opening + timedelta(minutes=40 * (i // n_drivers)), drivers[i % n_drivers], RideStatus.ASSIGNED)
        for i in range(n_held)
    ]
    waiting = [
        ride(opening + timedelta(minutes=(i * 16 * 60) // (n_rides - n_held)),
             status=RideStatus.PENDING_PAYMENT if i % 3 == 0 else RideStatus.CONFIRMED)
        for i in range(n_rides - n_held)
    ]  # fmt: skip
    Ride.objects.bulk_create(held + waiting, batch_size=2000)
    RidePet.objects.bulk_create((RidePet(ride=r, pet=pet) for r in held + waiting), batch_size=2000)
    analyze()

    def plan_at(hh, mm=0):
        start = datetime.combine(day, clock(hh, mm), tz)
        pickup = Point(Decimal("40.7830"), Decimal("-73.9712"))
        dropoff = Point(Decimal("40.7610"), Decimal("-73.9580"))
        return services.RidePlan(
            pets=[pet], pickup_address="", pickup=pickup, dropoff_address="", dropoff=dropoff,
            scheduled_at=start, distance_miles=Decimal("2.1"), quote=None,
        )  # fmt: skip

    full, free = plan_at(10), plan_at(16)
    assert not services.ride_availability(plan=full, customer=customer).servable
    assert services.ride_availability(plan=free, customer=customer).servable
    first, last = datetime.combine(day, clock(0), tz), datetime.combine(day + timedelta(days=1), clock(0), tz)
    one_row = User.objects.filter(pk=customer.pk)

    def select_1():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    paths = [
        ("floor: `SELECT 1`", select_1),
        ("floor: one row through the ORM", lambda: one_row.first()),
        ("a free time (16:00): servable, no suggestions",
         lambda: services.ride_availability(plan=free, customer=customer)),
        ("a full time (10:00): refused + 6 nearest suggestions",
         lambda: services.ride_availability(plan=full, customer=customer)),
        ("the whole day's servable slots (`GET /availability`'s answer)",
         lambda: availability.servable_starts(pets=[pet], pickup=full.pickup, first=first, last=last,
                                              duration=full.ends_at - full.scheduled_at)),
    ]  # fmt: skip
    print(f"{n_drivers} drivers, {n_rides} rides that day ({n_held} held, {n_rides - n_held} waiting), "
          f"{connection.vendor}, {repeat} runs each\n")  # fmt: skip
    print("| path | median | p95 | × floor (median, `SELECT 1`) | × floor (median, ORM row) | queries |")
    print("|---|---|---|---|---|---|")
    floors = []
    for label, func in paths:
        with CaptureQueriesContext(connection) as ctx:
            func()
        median, p95 = measure(func, repeat)
        floors.append(median)
        ratio_sql = f"{median / floors[0]:.0f}×" if len(floors) > 1 else "1×"
        ratio_orm = f"{median / floors[1]:.0f}×" if len(floors) > 2 else "—"
        queries = len(ctx.captured_queries)
        print(f"| {label} | {median:.2f} ms | {p95:.2f} ms | {ratio_sql} | {ratio_orm} | {queries} |")


if __name__ == "__main__":
    main()
