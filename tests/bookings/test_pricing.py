from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from bookings.geocoding import AddressNotFound, Point, ZipCentroidGeocoder, road_miles
from bookings.models import Pet, Ride, RideStatus
from bookings.pricing import cancellation_terms, estimated_end, quote_ride

NY = ZoneInfo("America/New_York")
# A Wednesday, mid-morning, booked three days ahead: no surcharges.
WEDNESDAY_10AM = datetime(2026, 12, 2, 10, 0, tzinfo=NY)
BOOKED = WEDNESDAY_10AM - timedelta(days=3)


def pet(**fields):
    return Pet(**{"name": "Rex", "type": Pet.Type.DOG, "weight_lb": Decimal("15"), **fields})


def lines(quote):
    return [(line.kind, line.label, line.cents) for line in quote.lines]


def test_plain_weekday_quote_has_base_distance_and_pet():
    quote = quote_ride(
        pets=[pet()], distance_miles=Decimal("5.0"), scheduled_at=WEDNESDAY_10AM, tz=NY, now=BOOKED
    )
    assert lines(quote) == [
        ("base", "Base fare", 1500),
        ("distance", "Distance 5.0 mi", 900),
        ("pet", "Small dog", 0),
    ]
    assert quote.total_cents == 2400
    assert isinstance(quote.total_cents, int)


def test_minimum_distance_is_billed():
    quote = quote_ride(
        pets=[pet()], distance_miles=Decimal("0.0"), scheduled_at=WEDNESDAY_10AM, tz=NY, now=BOOKED
    )
    assert quote.cents_of("distance") == 180


@pytest.mark.parametrize(
    ("weight", "label", "cents"),
    [
        ("19.9", "Small dog", 0),
        ("20", "Medium dog", 500),
        ("49.9", "Medium dog", 500),
        ("50", "Large dog", 1000),
    ],
)
def test_dog_size_bands(weight, label, cents):
    quote = quote_ride(
        pets=[pet(weight_lb=Decimal(weight))],
        distance_miles=Decimal("1"),
        scheduled_at=WEDNESDAY_10AM,
        tz=NY,
        now=BOOKED,
    )
    assert ("pet", label, cents) in lines(quote)


def test_extras_for_crate_and_special_needs_and_other_pet_types():
    quote = quote_ride(
        pets=[pet(type=Pet.Type.BIRD, crate_required=True, special_needs="Keep warm")],
        distance_miles=Decimal("1"),
        scheduled_at=WEDNESDAY_10AM,
        tz=NY,
        now=BOOKED,
    )
    assert ("pet", "Bird", 300) in lines(quote)
    assert ("extra", "Crate handling", 500) in lines(quote)
    assert ("extra", "Special-needs care", 800) in lines(quote)


def test_weekend_night_and_short_notice_surcharges_stack_on_the_subtotal():
    saturday_11pm = datetime(2026, 12, 5, 23, 0, tzinfo=NY)
    quote = quote_ride(
        pets=[pet()],
        distance_miles=Decimal("5.0"),
        scheduled_at=saturday_11pm,
        tz=NY,
        now=saturday_11pm - timedelta(hours=3),
    )
    surcharges = [(label, cents) for kind, label, cents in lines(quote) if kind == "surcharge"]
    assert surcharges == [("Weekend +15%", 360), ("Night +25%", 600), ("Short notice +20%", 480)]
    assert quote.total_cents == 2400 + 360 + 600 + 480


def test_surcharges_use_the_customers_local_time():
    # 03:00 UTC Thursday is 22:00 Wednesday in New York: a night ride there, not in Tokyo.
    moment = datetime(2026, 12, 3, 3, 0, tzinfo=ZoneInfo("UTC"))
    ny = quote_ride(pets=[pet()], distance_miles=Decimal("1"), scheduled_at=moment, tz=NY, now=BOOKED)
    tokyo = quote_ride(
        pets=[pet()], distance_miles=Decimal("1"), scheduled_at=moment, tz=ZoneInfo("Asia/Tokyo"), now=BOOKED
    )
    assert ny.cents_of("surcharge") > 0
    assert tokyo.cents_of("surcharge") == 0


def test_quote_json_round_trips_the_breakdown():
    quote = quote_ride(
        pets=[pet()], distance_miles=Decimal("5.0"), scheduled_at=WEDNESDAY_10AM, tz=NY, now=BOOKED
    )
    stored = quote.as_json()
    assert stored["total_cents"] == 2400
    assert stored["distance_miles"] == "5.0"
    assert stored["lines"][0] == {"kind": "base", "label": "Base fare", "cents": 1500}


def test_zip_centroid_geocoder_reads_the_last_zip():
    point = ZipCentroidGeocoder().geocode("12345 Main St, New York, NY 10001")
    assert point == Point(Decimal("40.7484"), Decimal("-73.9967"))


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("Main Street, Springfield", "5-digit ZIP"),
        ("1 Nowhere Rd, AA 00000", "don't know the ZIP code 00000"),
        ("", "5-digit ZIP"),
    ],
)
def test_unknown_addresses_are_refused_with_a_reason(address, message):
    with pytest.raises(AddressNotFound, match=message):
        ZipCentroidGeocoder().geocode(address)


def test_road_miles_between_manhattan_and_brooklyn():
    upper_west = ZipCentroidGeocoder().geocode("NY 10024")
    brooklyn = ZipCentroidGeocoder().geocode("NY 11201")
    miles = road_miles(upper_west, brooklyn)
    assert isinstance(miles, Decimal)
    assert Decimal("7") < miles < Decimal("12")


@override_settings(RIDE_AVERAGE_SPEED_MPH=30, RIDE_BUFFER=timedelta(minutes=30))
def test_window_is_drive_time_plus_buffer():
    assert estimated_end(WEDNESDAY_10AM, Decimal("15")) == WEDNESDAY_10AM + timedelta(minutes=60)
    # Very short rides still take some minutes.
    assert estimated_end(WEDNESDAY_10AM, Decimal("0.1")) == WEDNESDAY_10AM + timedelta(minutes=35)


@pytest.mark.parametrize(("hours_before", "fee"), [(48, 0), (24.01, 0), (24, 1250), (1, 1250)])
def test_cancellation_is_free_until_the_cutoff_then_half(hours_before, fee):
    ride = Ride(status=RideStatus.CONFIRMED, scheduled_at=WEDNESDAY_10AM, price_cents=2500)
    terms = cancellation_terms(ride=ride, now=WEDNESDAY_10AM - timedelta(hours=hours_before))
    assert terms.fee_cents == fee
    assert terms.free_until == WEDNESDAY_10AM - timedelta(hours=24)
    assert terms.late_fee_cents == 1250


def test_a_ride_moved_late_keeps_its_fee_window_and_fee():
    """Moved on Tuesday at noon (inside Wednesday 10:00's window) to Friday 10:00 and to a
    $16.00 fare: cancelling stays late from Tuesday 10:00 on, at the $12.50 it cost before."""
    ride = Ride(
        status=RideStatus.CONFIRMED,
        scheduled_at=WEDNESDAY_10AM + timedelta(days=2),
        price_cents=1600,
        late_fee_since=WEDNESDAY_10AM - timedelta(hours=24),
        late_fee_min_cents=1250,
    )
    terms = cancellation_terms(ride=ride, now=WEDNESDAY_10AM - timedelta(hours=22))
    assert (terms.free_until, terms.fee_cents) == (WEDNESDAY_10AM - timedelta(hours=24), 1250)
    ride.price_cents = 3000  # a pricier new fare: half of it
    assert cancellation_terms(ride=ride, now=WEDNESDAY_10AM).fee_cents == 1500


def test_an_unpaid_booking_cancels_free_but_shows_the_fee_to_come():
    ride = Ride(status=RideStatus.PENDING_PAYMENT, scheduled_at=WEDNESDAY_10AM, price_cents=2500)
    terms = cancellation_terms(ride=ride, now=WEDNESDAY_10AM - timedelta(hours=2))
    assert (terms.late, terms.fee_cents, terms.late_fee_cents) == (True, 0, 1250)
