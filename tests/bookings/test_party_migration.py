"""0007_ride_party: every one-pet ride becomes a party of that one pet, with nothing lost, and
going back restores the pet."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("bookings", "0006_ride_payment_secured_cents")]
AFTER = [("bookings", "0007_ride_party")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_one_pet_rides_become_parties_of_one_and_back():
    old = migrate(BEFORE)
    User, Pet, Ride = (old.get_model(name) for name in ("accounts.User", "bookings.Pet", "bookings.Ride"))
    owner = User.objects.create(email="old@example.com", name="Old Owner", role="customer")
    crated = Pet.objects.create(
        owner=owner, name="Miso", type="cat", weight_lb=Decimal("9"), crate_required=True
    )
    loose = Pet.objects.create(owner=owner, name="Rex", type="dog", weight_lb=Decimal("30"))
    start = timezone.now() + timedelta(days=2)
    common = {
        "customer": owner,
        "status": "confirmed",
        "pickup_address": "A",
        "pickup_lat": 1,
        "pickup_lng": 1,
        "dropoff_address": "B",
        "dropoff_lat": 2,
        "dropoff_lng": 2,
        "distance_miles": 3,
        "price_cents": 2400,
    }
    later = start + timedelta(hours=3)
    first = Ride.objects.create(pet=crated, scheduled_at=start, ends_at=start + timedelta(hours=1), **common)
    second = Ride.objects.create(pet=loose, scheduled_at=later, ends_at=later + timedelta(hours=1), **common)
    try:
        new = migrate(AFTER)
        RidePet = new.get_model("bookings", "RidePet")
        assert sorted(RidePet.objects.values_list("ride_id", "pet_id", "crated", "position")) == [
            (first.pk, crated.pk, True, 0),
            (second.pk, loose.pk, False, 0),
        ]
        back = migrate(BEFORE)
        assert dict(back.get_model("bookings", "Ride").objects.values_list("pk", "pet_id")) == {
            first.pk: crated.pk,
            second.pk: loose.pk,
        }
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
