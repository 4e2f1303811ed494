"""Shared fixtures: users of each role, pets, rides, logged-in clients."""

import os
from datetime import timedelta
from decimal import Decimal

import factory
import pytest
from django.test.utils import override_settings
from django.utils import timezone

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

TEST_PASSWORD = "correct-horse-battery-staple"


def pytest_configure(config):
    import django_q.conf

    override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        # The manifest storage needs collectstatic; live_server would 404 on hashed names.
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    ).enable()
    django_q.conf.Conf.SYNC = True  # tasks run inline, right after the commit that queued them


# --- Factories ----------------------------------------------------------------

from bookings.models import ENDED_STATUSES, Pet, Ride, RideStatus  # noqa: E402
from bookings.services import _plan_fields, ride_plan  # noqa: E402
from project.accounts.models import User  # noqa: E402
from tests.billing.fixtures import *  # noqa: E402, F403  (localstripe, payment helpers)

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
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


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
    status=RideStatus.CONFIRMED,
    driver=None,
    scheduled_at=None,
    pickup=PICKUP,
    dropoff=DROPOFF,
    **fields,
) -> Ride:
    """A ride as the booking service would price it, put straight into `status` (an ended one
    ended now, unless `ended_at` says otherwise)."""
    if pet is None:
        pet = PetFactory(owner=customer) if customer else PetFactory()
    customer = pet.owner
    scheduled_at = scheduled_at or timezone.now() + timedelta(days=3)
    plan = ride_plan(
        customer=customer,
        pet=pet,
        pickup_address=pickup,
        dropoff_address=dropoff,
        scheduled_at=scheduled_at,
        now=scheduled_at - timedelta(days=1),
    )
    if status in ENDED_STATUSES:
        fields.setdefault("ended_at", timezone.now())
    return Ride.objects.create(
        customer=customer, pet=pet, status=status, driver=driver, **{**_plan_fields(plan), **fields}
    )


# --- Fixtures -------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_cache():
    """allauth keeps rate-limit counters in the cache: no test inherits another's."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def customer(db):
    return CustomerFactory(name="Alice Moreno")


@pytest.fixture
def other_customer(db):
    return CustomerFactory(name="Mallory Other")


@pytest.fixture
def driver(db):
    return DriverFactory(name="Dana Diaz")


@pytest.fixture
def other_driver(db):
    return DriverFactory(name="Eli Park")


@pytest.fixture
def admin_user(db):
    return AdminFactory(name="Olivia Ops")


@pytest.fixture
def pet(customer):
    return PetFactory(owner=customer, name="Biscuit")


@pytest.fixture
def ride(pet):
    return make_ride(pet=pet)


# A valid 1x1 PNG (checksums included: photos are checked by content): a real image for handover photos.
PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63e02fcbfb0f00037e01f3a9df61700000000049454e44ae426082"
)


@pytest.fixture
def photo():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("handover.png", PNG_BYTES, content_type="image/png")


def _client_for(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def customer_client(client, customer):
    return _client_for(client, customer)


@pytest.fixture
def driver_client(client, driver):
    return _client_for(client, driver)


@pytest.fixture
def admin_client(client, admin_user):
    return _client_for(client, admin_user)
