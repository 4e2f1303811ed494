"""Migrations that move or restore a database tell what stops them."""

from datetime import timedelta
from importlib import import_module

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from bookings.models import Ride, RideStatus
from tests.factories import DriverFactory, make_ride

no_overlap = import_module("bookings.migrations.0002_fleet_driver_no_overlap")

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgres,
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="needs PostgreSQL (DATABASE_URL)"
    ),
]


def test_the_no_overlap_migration_names_the_rides_that_overlap_instead_of_failing_blind():
    with connection.cursor() as cursor:  # a database restored from before the constraint
        cursor.execute(no_overlap.DROP[0])
    driver = DriverFactory()
    start = timezone.now() + timedelta(days=2)
    first = make_ride(status=RideStatus.ASSIGNED, driver=driver, scheduled_at=start)
    second = make_ride(status=RideStatus.ASSIGNED, driver=driver, scheduled_at=start + timedelta(minutes=10))
    make_ride(status=RideStatus.ASSIGNED, driver=driver, scheduled_at=start + timedelta(days=1))  # no overlap

    with pytest.raises(no_overlap.OverlappingRides) as refused:
        no_overlap.refuse_overlaps(connection)
    assert str(refused.value).startswith(
        f"1 pair(s) of rides overlap for one driver: driver #{driver.pk}: rides #{first.pk} and #{second.pk}."
    )

    Ride.objects.filter(pk=second.pk).update(status=RideStatus.CONFIRMED, driver=None)  # unassigned
    no_overlap.refuse_overlaps(connection)  # nothing left to name: the constraint can go on
    # (the test's transaction rolls back, and with it the dropped constraint comes back)
