"""Fleet fixtures: drivers with vehicles, placed somewhere in New York."""

import pytest
from django.test import override_settings

from tests.factories import FAR, NEAR, DriverProfileFactory


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
