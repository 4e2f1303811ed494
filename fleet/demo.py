"""Demo vehicles and working hours for the three demo drivers (`manage.py seed_demo`; safe
to run again). Dana and Eli work round the clock, so the demo's rides (placed relative to
now) find a driver whatever the hour; Fay works weekdays 07:00–19:00 and has days off."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from bookings.models import IN_PROGRESS_STATUSES, Pet, Ride
from core.dates import operations_today
from fleet import services
from fleet.models import CrateSize, DriverProfile, TimeOff

ALL_TYPES = list(Pet.Type.values)
VEHICLES = {
    # email: vehicle, duty, last position (lat, lng) somewhere in New York
    "dana.driver@whiskers.example": (
        dict(vehicle_make="Toyota", vehicle_model="Sienna", plate="WW1001", pet_capacity=3,
             max_crate_size=CrateSize.XLARGE, pet_types=ALL_TYPES),
        True,
        ("40.785091", "-73.968285"),  # Upper West Side
    ),
    "eli.driver@whiskers.example": (
        dict(vehicle_make="Honda", vehicle_model="CR-V", plate="WW1002", pet_capacity=2,
             max_crate_size=CrateSize.LARGE, pet_types=[Pet.Type.DOG, Pet.Type.CAT]),
        True,
        ("40.690201", "-73.993286"),  # Brooklyn Heights
    ),
    "fay.driver@whiskers.example": (
        dict(vehicle_make="Subaru", vehicle_model="Outback", plate="WW1003", pet_capacity=2,
             max_crate_size=CrateSize.MEDIUM, pet_types=[t for t in ALL_TYPES if t != Pet.Type.DOG]),
        False,
        ("40.672770", "-73.977500"),  # Park Slope
    ),
}  # fmt: skip
ROUND_THE_CLOCK = {day: [(0, 24 * 60)] for day in range(7)}
HOURS = {
    "dana.driver@whiskers.example": ROUND_THE_CLOCK,
    "eli.driver@whiskers.example": ROUND_THE_CLOCK,
    "fay.driver@whiskers.example": {day: [(7 * 60, 19 * 60)] for day in range(5)},
}


def seed(users) -> None:
    for email, (vehicle, on_duty, (lat, lng)) in VEHICLES.items():
        driver = users[email]
        if DriverProfile.objects.filter(pk=driver.pk).exists():
            continue  # keep whatever happened to it since (duty, position, edits)
        under_way = Ride.objects.for_driver(driver).filter(status__in=IN_PROGRESS_STATUSES).first()
        profile = DriverProfile.objects.create(
            user=driver,
            on_duty=on_duty,
            last_lat=Decimal(lat),
            last_lng=Decimal(lng),
            last_accuracy_m=15,
            position_at=timezone.now(),
            position_ride=under_way,
            **vehicle,
        )
        services.driver_set_hours(profile=profile, hours=HOURS[email])
        if email.startswith("fay."):
            first = operations_today() + timedelta(days=10)
            TimeOff.objects.create(driver=profile, starts_on=first, ends_on=first + timedelta(days=4),
                                   reason="Family visit")  # fmt: skip
