"""Addresses to coordinates, behind one small interface.

The default works with no network: it reads the 5-digit ZIP code in the address
and uses that ZIP code's centroid (the `zipcodes` package ships the US data).
A real provider is another class with the same `geocode()` method, named in the
GEOCODER setting.
"""

import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Point:
    lat: Decimal
    lng: Decimal


class AddressNotFound(Exception):
    pass


class Geocoder:
    def geocode(self, address: str) -> Point:
        """Return the address's coordinates or raise AddressNotFound with a reason."""
        raise NotImplementedError


ZIP_PATTERN = re.compile(r"\b(\d{5})(?:-\d{4})?\b")


class ZipCentroidGeocoder(Geocoder):
    def geocode(self, address: str) -> Point:
        import zipcodes

        found = ZIP_PATTERN.findall(address or "")
        if not found:
            raise AddressNotFound("Add the 5-digit ZIP code so we can find this address.")
        zip_code = found[-1]  # the ZIP comes last in a US address; a house number may be 5 digits too
        matches = [z for z in zipcodes.matching(zip_code) if z.get("lat") and z.get("long")]
        if not matches:
            raise AddressNotFound(f"We don't know the ZIP code {zip_code}. Please check it.")
        return Point(Decimal(matches[0]["lat"]), Decimal(matches[0]["long"]))


@cache
def get_geocoder() -> Geocoder:
    return import_string(settings.GEOCODER)()


def straight_line_miles(a: Point, b: Point) -> float:
    """Great-circle (haversine) distance in miles."""
    lat1, lng1, lat2, lng2 = map(math.radians, (float(a.lat), float(a.lng), float(b.lat), float(b.lng)))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * 3958.8 * math.asin(math.sqrt(h))


def road_miles(a: Point, b: Point) -> Decimal:
    """Estimated driving distance, to a tenth of a mile (never float in what we store)."""
    estimate = Decimal(str(straight_line_miles(a, b))) * Decimal(str(settings.ROAD_FACTOR))
    return estimate.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
