"""Test data builders: a factory per model (factory_boy) and `make_ride`, which prices a
ride as the booking service would and puts it straight into a state. Import from here;
fixtures (tests/conftest.py and each folder's conftest.py) build on these."""

from datetime import timedelta
from decimal import Decimal

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from bookings.models import ENDED_STATUSES, Pet, Place, Ride, RideStatus
from bookings.services import _plan_fields, party_record, ride_plan
from fleet.hours import minute_to_time
from fleet.models import CrateSize, DriverProfile, WorkingHours
from project.accounts.models import User

TEST_PASSWORD = "correct-horse-battery-staple"

PICKUP = "200 Central Park W, New York, NY 10024"
DROPOFF = "510 E 62nd St, New York, NY 10065"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    role = User.Role.CUSTOMER
    phone = "+12125550123"
    # As if they had typed back the code we texted (tests of that flow use real codes; pass
    # phone_verified_at=None for a number nobody has verified).
    phone_verified_at = factory.LazyAttribute(lambda user: timezone.now() if user.phone else None)
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()
            # A confirmed address, as every account that can sign in has (verification is mandatory).
            EmailAddress.objects.create(user=obj, email=obj.email, primary=True, verified=True)


class CustomerFactory(UserFactory):
    role = User.Role.CUSTOMER


class DriverFactory(UserFactory):
    role = User.Role.DRIVER
    email = factory.Sequence(lambda n: f"driver{n}@whiskers.example")


class AdminFactory(UserFactory):
    role = User.Role.ADMIN
    email = factory.Sequence(lambda n: f"ops{n}@whiskers.example")


class PetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pet

    owner = factory.SubFactory(CustomerFactory)
    name = factory.Iterator(["Biscuit", "Miso", "Pepper", "Kiwi", "Luna"])
    type = Pet.Type.DOG
    breed = "Beagle"
    age_years = 4
    weight_lb = Decimal("24.0")


class PlaceFactory(factory.django.DjangoModelFactory):
    """A saved place, with the coordinates the default geocoder gives its ZIP code."""

    class Meta:
        model = Place

    owner = factory.SubFactory(CustomerFactory)
    label = factory.Sequence(lambda n: f"Place {n}")
    kind = Place.Kind.HOME
    address = PICKUP
    lat = Decimal("40.786400")
    lng = Decimal("-73.976300")
    notes = ""


class PaymentFactory(factory.django.DjangoModelFactory):
    """A ride's fare held on a card, as checkout leaves it (no Stripe call: for tests that read
    the ledger; tests of the money itself go through localstripe with the `pay` fixture)."""

    class Meta:
        model = "billing.Payment"

    ride = factory.LazyFunction(lambda: make_ride())
    status = "authorized"
    amount_cents = factory.LazyAttribute(lambda payment: payment.ride.price_cents)
    payment_intent_id = factory.Sequence(lambda n: f"pi_test_{n}")
    card_brand, card_last4 = "visa", "4242"


class TransactionFactory(factory.django.DjangoModelFactory):
    """One ledger row of a payment (default: its fare captured)."""

    class Meta:
        model = "billing.Transaction"

    payment = factory.SubFactory(PaymentFactory)
    ride = factory.LazyAttribute(lambda txn: txn.payment.ride)
    kind = "capture"
    status = "succeeded"
    amount_cents = factory.LazyAttribute(lambda txn: txn.payment.amount_cents)
    idempotency_key = factory.Sequence(lambda n: f"test-txn-{n}")
    source = "ride"


def make_ride(
    *,
    customer=None,
    pet=None,
    pets=None,
    status=RideStatus.CONFIRMED,
    driver=None,
    scheduled_at=None,
    pickup=PICKUP,
    dropoff=DROPOFF,
    **fields,
) -> Ride:
    """A ride as the booking service would price it, put straight into `status` (an ended one
    ended now, unless `ended_at` says otherwise). Past `pending_payment` its fare counts as
    secured, as billing would have left it (`payment_secured_cents`), unless told otherwise.
    `pet` (one) or `pets` (a party, in order); by default a new pet of `customer`'s."""
    if pets is None:
        pets = [pet or (PetFactory(owner=customer) if customer else PetFactory())]
    customer = pets[0].owner
    scheduled_at = scheduled_at or timezone.now() + timedelta(days=3)
    plan = ride_plan(
        customer=customer,
        pets=pets,
        pickup_address=pickup,
        dropoff_address=dropoff,
        scheduled_at=scheduled_at,
        now=scheduled_at - timedelta(days=1),
    )
    if status in ENDED_STATUSES:
        fields.setdefault("ended_at", timezone.now())
    if status != RideStatus.PENDING_PAYMENT:
        fields.setdefault("payment_secured_cents", plan.quote.total_cents)
    ride = Ride.objects.create(
        customer=customer, status=status, driver=driver, **{**_plan_fields(plan), **fields}
    )
    party_record(ride=ride, pets=pets)
    return ride


def soon(minutes: int = 30):
    """A pickup time close enough for its driver to set off now (inside RIDE_START_WINDOW)."""
    return timezone.now() + timedelta(minutes=minutes)


def pickup_soon(ride: Ride, *, minutes: int = 30) -> Ride:
    """Time passes until `ride`'s pickup is `minutes` away, so its driver may set off: its window
    moves as one to that time (the quote stays as booked). For rides booked through a flow that
    needs notice (BOOKING_MIN_NOTICE) and are then driven."""
    shift = soon(minutes) - ride.scheduled_at
    Ride.objects.filter(pk=ride.pk).update(
        scheduled_at=ride.scheduled_at + shift, ends_at=ride.ends_at + shift
    )
    ride.refresh_from_db()
    return ride


def make_trip(
    *,
    customer=None,
    pets=None,
    trip="round_trip",
    scheduled_at=None,
    return_at=None,
    on_call=False,
    wait_minutes=None,
    status=RideStatus.CONFIRMED,
    back_status=None,
    driver=None,
    back_driver=None,
) -> tuple[Ride, Ride]:
    """A round trip's two legs as `bookings.trips` would book them, each put straight into its
    status (`back_status` defaults to `status`), fares secured past pending payment.
    Returns (outbound, return)."""
    from bookings.trips import trip_plan

    if pets is None:
        pets = [PetFactory(owner=customer) if customer else PetFactory()]
    customer = pets[0].owner
    scheduled_at = scheduled_at or timezone.now() + timedelta(days=3)
    if trip == "round_trip" and not on_call and return_at is None:
        return_at = scheduled_at + timedelta(hours=3)
    plan = trip_plan(
        customer=customer,
        pets=pets,
        pickup_address=PICKUP,
        dropoff_address=DROPOFF,
        scheduled_at=scheduled_at,
        trip=trip,
        return_at=return_at,
        return_on_call=on_call,
        wait_minutes=wait_minutes if wait_minutes is not None else (30 if trip == "wait_return" else None),
        now=scheduled_at - timedelta(days=1),
    )
    legs = []
    for leg_plan, leg_status, leg_driver, extra in (
        (plan.outbound, status, driver, {}),
        (plan.back, back_status or status, back_driver, {"on_call_until": plan.on_call_until}),
    ):
        fields = {"trip": trip, **extra}
        if legs:
            fields["outbound"] = legs[0]
        if leg_status in ENDED_STATUSES:
            fields["ended_at"] = timezone.now()
        if leg_status != RideStatus.PENDING_PAYMENT:
            fields["payment_secured_cents"] = leg_plan.quote.total_cents
        ride = Ride.objects.create(
            customer=customer, status=leg_status, driver=leg_driver, **{**_plan_fields(leg_plan), **fields}
        )
        party_record(ride=ride, pets=pets)
        legs.append(ride)
    return legs[0], legs[1]


def make_open_return(*, customer, outbound_status=RideStatus.COMPLETED) -> tuple[Ride, Ride]:
    """A round trip whose ride out left an hour ago (in `outbound_status`) and whose open
    return waits, paid, for the customer's call. Returns (outbound, return)."""
    return make_trip(
        customer=customer,
        on_call=True,
        scheduled_at=timezone.now() - timedelta(hours=1),
        status=outbound_status,
        driver=DriverFactory(),
        back_status=RideStatus.CONFIRMED,
    )


# Near the default test pickup (200 Central Park W, 10024) and further away.
NEAR = (Decimal("40.785000"), Decimal("-73.970000"))
FAR = (Decimal("40.650000"), Decimal("-73.950000"))


ALL_DAY = [(0, 24 * 60)]


class DriverProfileFactory(factory.django.DjangoModelFactory):
    """A vehicle that takes every pet, whose driver works round the clock every day (so a ride
    at any time of day finds them), unless `hours={weekday: [(start_min, end_min)], ...}` says
    otherwise (a weekday left out is a day off)."""

    class Meta:
        model = DriverProfile
        skip_postgeneration_save = True

    user = factory.SubFactory(DriverFactory)
    vehicle_make = "Toyota"
    vehicle_model = "Sienna"
    plate = factory.Sequence(lambda n: f"TST{n:04d}")
    pet_capacity = 2
    max_crate_size = CrateSize.XLARGE
    pet_types = factory.LazyFunction(lambda: list(Pet.Type.values))
    on_duty = True

    @factory.post_generation
    def hours(obj, create, extracted, **kwargs):
        if create:
            weekly = extracted if extracted is not None else {day: ALL_DAY for day in range(7)}
            WorkingHours.objects.bulk_create(
                WorkingHours(driver=obj, weekday=day, starts=minute_to_time(s), ends=minute_to_time(e))
                for day, intervals in weekly.items()
                for s, e in intervals
            )


def on_duty_driver(name: str, position=None, **fields):
    """A driver user with an on-duty vehicle that takes every pet."""
    lat, lng = position or (None, None)
    return DriverProfileFactory(user=DriverFactory(name=name), last_lat=lat, last_lng=lng, **fields).user


class NotificationFactory(factory.django.DjangoModelFactory):
    """A message as the notifications pipeline records it (default: a queued SMS)."""

    class Meta:
        model = "notifications.Notification"

    user = factory.SubFactory(CustomerFactory)
    ride = None
    channel = "sms"
    kind = "booking_confirmed"
    to = factory.LazyAttribute(lambda n: str(n.user.phone) if n.channel == "sms" else n.user.email)
    message = "Whiskers & Wheels: your ride is booked."


# A valid 1x1 PNG (checksums included: photos are checked by content): a real image for handover photos.
PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63e02fcbfb0f00037e01f3a9df61700000000049454e44ae426082"
)
