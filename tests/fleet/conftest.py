"""Fleet fixtures: drivers with vehicles, placed somewhere in New York."""

from decimal import Decimal

import factory
import pytest
from django.test import override_settings

from bookings.models import Pet
from fleet.models import CrateSize, DriverProfile
from tests.conftest import DriverFactory

# Near the default test pickup (200 Central Park W, 10024) and further away.
NEAR = (Decimal("40.785000"), Decimal("-73.970000"))
FAR = (Decimal("40.650000"), Decimal("-73.950000"))


class DriverProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DriverProfile

    user = factory.SubFactory(DriverFactory)
    vehicle_make = "Toyota"
    vehicle_model = "Sienna"
    plate = factory.Sequence(lambda n: f"TST{n:04d}")
    pet_capacity = 2
    max_crate_size = CrateSize.XLARGE
    pet_types = factory.LazyFunction(lambda: list(Pet.Type.values))
    on_duty = True


def on_duty_driver(name: str, position=None, **fields):
    """A driver user with an on-duty vehicle that takes every pet."""
    lat, lng = position or (None, None)
    return DriverProfileFactory(user=DriverFactory(name=name), last_lat=lat, last_lng=lng, **fields).user


@pytest.fixture
def fleet_driver(driver):
    """The `driver` fixture (Dana Diaz), with an on-duty vehicle near the default pickup."""
    DriverProfileFactory(user=driver, last_lat=NEAR[0], last_lng=NEAR[1])
    return driver


@pytest.fixture
def other_fleet_driver(other_driver):
    DriverProfileFactory(user=other_driver, last_lat=FAR[0], last_lng=FAR[1])
    return other_driver


@pytest.fixture
def auto_dispatch_off():
    with override_settings(DISPATCH_AUTO=False):
        yield


@pytest.fixture
def auto_dispatch_on():
    with override_settings(DISPATCH_AUTO=True):
        yield
