"""Every URL, every API operation, as every party who has no business with another's data.

One customer (A) has a pet, a saved place, a ride with a driver (A's driver), a payment, a ledger row, a
message and a handover photo, all with the id 4242 and full of marker strings. Then the
anonymous visitor, another customer and another driver try every URL pattern of the site
and of the API, with 4242 in every id, by GET and POST (and PUT / DELETE on the API), as
plain requests and as HTMX fragments, with a body full of plausible values. No response may
show a marker, no image may be served to them, and nothing of A's may change.
"""

import json
import re
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from billing.models import Payment, Transaction
from bookings.models import Pet, Place, Ride, RideEvent, RidePet, RideStatus
from core.models import OutboxItem
from fleet.models import DriverProfile, TimeOff, WorkingHours
from notifications.models import Notification
from project.accounts.models import User
from project.accounts.tokens import token_pair_for
from tests.factories import (
    PNG_BYTES,
    TEST_PASSWORD,
    CustomerFactory,
    DriverFactory,
    DriverProfileFactory,
    NotificationFactory,
    PaymentFactory,
    PetFactory,
    PlaceFactory,
    TransactionFactory,
    make_ride,
)

pytestmark = pytest.mark.django_db

ID = 4242
MARKERS = [
    "Secretowner",  # customer A's name
    "alice.secret",  # their email
    "5550177",  # their phone
    "Zanzibar",  # their pet
    "secret-needs-marker",  # the pet's special needs
    "secret-notes-marker",  # the ride's notes for the driver
    "Secretplace",  # their saved place's label
    "secret-place-marker",  # its notes for the driver (and the ride's copy of them)
    "Tolkien",  # its address
    "secret-message-marker",  # a message we sent them
    "Secretdriver",  # their driver's name
    "SECRET42",  # the driver's plate
    "pi_secret_marker",  # the Stripe id of their payment
    "secret-outbox-marker",  # the error of a background task of their ride
    "secret-timeoff-marker",  # why the driver takes days off
]
SKIP_PREFIXES = ("accounts/", "django-admin/", "static/")  # allauth and Django's admin guard themselves
FORM_BODY = {
    "reason": "walk",
    "notes": "walked here",
    "scheduled_at": "2030-01-07T10:00",
    "pets": str(ID),
    "pickup_from": f"place:{ID}",
    "pickup_place_id": str(ID),
    "pickup_address": "200 Central Park W, New York, NY 10024",
    "dropoff_address": "510 E 62nd St, New York, NY 10065",
    "name": "Walker",
    "phone": "+12125550100",
    "email": "walker@example.com",
    "time_zone": "UTC",
    "on_duty": "on",
    "lat": "40.78",
    "lng": "-73.97",
    "accuracy": "5",
    "amount": "1.00",
    "payment": str(ID),
    "driver": str(ID),
    "driver_id": str(ID),
    "status": "cancelled",
}


@pytest.fixture
def world(settings):
    settings.DISPATCH_AUTO = False
    owner = CustomerFactory(name="Alice Secretowner", email="alice.secret@example.com", phone="+12125550177")
    pet = PetFactory(id=ID, owner=owner, name="Zanzibar", special_needs="secret-needs-marker")
    PlaceFactory(
        id=ID,
        owner=owner,
        label="Secretplace",
        address="1 Tolkien Ln, New York, NY 10024",
        notes="secret-place-marker",
    )
    driver = DriverFactory(id=ID, name="Dana Secretdriver")
    profile = DriverProfileFactory(user=driver, plate="SECRET42", last_lat=40.78, last_lng=-73.97)
    first = timezone.now().date() + timedelta(days=5)
    reason = "secret-timeoff-marker"
    TimeOff.objects.create(id=ID, driver=profile, starts_on=first, ends_on=first, reason=reason)
    ride = make_ride(
        pet=pet,
        status=RideStatus.ASSIGNED,
        driver=driver,
        notes="Gate code secret-notes-marker",
        pickup_notes="secret-place-marker",
        scheduled_at=timezone.now() + timedelta(days=2),
    )
    Ride.objects.filter(pk=ride.pk).update(id=ID)
    RidePet.objects.filter(ride_id=ride.pk).update(ride_id=ID)
    ride = Ride.objects.get(pk=ID)
    photo = default_storage.save("rides/walk.png", ContentFile(PNG_BYTES))
    RideEvent.objects.create(id=ID, ride=ride, action="assign", actor=None, photo=photo, note="internal")
    payment = PaymentFactory(id=ID, ride=ride, payment_intent_id="pi_secret_marker")
    TransactionFactory(id=ID, payment=payment, kind="authorization", provider_id="pi_secret_marker")
    NotificationFactory(id=ID, user=owner, ride=ride, message="secret-message-marker")
    OutboxItem.objects.create(
        id=ID,
        task="fleet.tasks.auto_dispatch",
        args=[ID],
        queue="dispatch",
        status="failed",
        last_error="secret-outbox-marker",
        next_attempt_at=timezone.now(),
        created_at=timezone.now(),
    )
    outsiders = {
        "anonymous": None,
        "other customer": CustomerFactory(name="Mallory Other"),
        "other driver": DriverProfileFactory(user=DriverFactory(name="Eve Otherdriver")).user,
    }
    return ride, outsiders


def snapshot() -> tuple:
    """What no outsider may change: how many rows of each kind, and A's rows as they are."""
    counts = tuple(
        m.objects.count() for m in (User, Pet, Place, Ride, RideEvent, Payment, Transaction, Notification)
    )
    ride = Ride.objects.values().get(pk=ID)
    pet = Pet.objects.values().get(pk=ID)
    place = Place.objects.values().get(pk=ID)
    driver = (
        DriverProfile.objects.values().get(pk=ID),
        tuple(WorkingHours.objects.filter(driver_id=ID).values_list("weekday", "starts", "ends")),
    )
    payment = Payment.objects.values().get(pk=ID)
    message = Notification.objects.values("status", "attempts", "to").get(pk=ID)
    task = OutboxItem.objects.values("status", "attempts").get(pk=ID)
    # A and A's driver; an outsider may of course change their own profile.
    people = tuple(User.objects.filter(pk__in=[ride["customer_id"], ID]).order_by("pk").values())
    return counts, ride, pet, place, driver, payment, message, task, people


def routes() -> list[tuple[str, bool]]:
    """(path with every id filled in, is it the API) for every URL pattern we serve."""

    def walk(patterns, prefix=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                yield prefix + str(entry.pattern)

    found = set()
    for pattern in walk(get_resolver().url_patterns):
        if pattern.startswith(SKIP_PREFIXES):
            continue
        pattern = pattern.lstrip("^").rstrip("$")
        for step in ("start", "decline") if "<slug:step>" in pattern else ("",):
            path = pattern.replace("<slug:step>", step)
            path = re.sub(r"<(?:(?:int|path|str|slug):)?[a-z_]+>", str(ID), path)
            found.add(("/" + path, path.startswith("api/")))
    return sorted(found)


def client_for(user, api: bool) -> tuple[Client, dict]:
    client = Client()
    headers = {}
    if user is not None and api:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token_pair_for(user=user).access}"
    elif user is not None:
        client.force_login(user)
    return client, headers


def requests_for(path: str, api: bool):
    if api:
        body = json.dumps(FORM_BODY)
        for method in ("get", "post", "put", "patch", "delete"):
            kwargs = {} if method == "get" else {"data": body, "content_type": "application/json"}
            yield method, kwargs
    else:
        for htmx in ({}, {"HTTP_HX_REQUEST": "true"}):
            yield "get", dict(htmx)
            yield "post", {"data": FORM_BODY, **htmx}


def shown(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def test_the_walk_covers_the_site_and_the_api(world):
    paths = [path for path, _api in routes()]
    assert len(paths) > 60
    for expected in ("/app/rides/4242/", "/drive/rides/4242/start/", "/ops/payments/rides/4242/refund/",
                     "/api/v1/bookings/4242", "/photos/4242/", "/webhooks/stripe/",
                     "/app/places/4242/edit/", "/api/v1/places/4242",
                     "/api/v1/bookings/4242/rebook", "/app/cards/", "/app/cards/4242/remove/",
                     "/api/v1/cards", "/api/v1/cards/4242"):  # fmt: skip
        assert expected in paths


@pytest.mark.parametrize("party", ["anonymous", "other customer", "other driver"])
def test_no_outsider_sees_or_changes_another_partys_data(world, party):
    ride, outsiders = world
    user = outsiders[party]
    before = snapshot()
    problems = []
    for path, api in routes():
        client, headers = client_for(user, api)
        for method, kwargs in requests_for(path, api):
            response = getattr(client, method)(path, **kwargs, **headers)
            body = shown(response)
            leaked = [marker for marker in MARKERS if marker in body]
            if leaked:
                problems.append(f"{method.upper()} {path} showed {leaked}")
            if response.status_code == HTTPStatus.OK and response.get("Content-Type", "").startswith(
                "image/"
            ):
                problems.append(f"{method.upper()} {path} served the photo")
            if response.status_code >= 500:
                problems.append(f"{method.upper()} {path} answered {response.status_code}")
            if (after := snapshot()) != before:
                problems.append(f"{method.upper()} {path} changed the database")
                before = after
    assert problems == [], f"{party}:\n" + "\n".join(problems)


@pytest.mark.parametrize("party", ["anonymous", "other customer", "other driver"])
def test_deleting_an_account_touches_only_the_callers_own(world, party):
    """The walk skips /accounts/ (allauth guards itself), so the account-deletion page is tried
    here, with the right password even: it deletes the caller's account or none, never A's."""
    _ride, outsiders = world
    user = outsiders[party]
    before = snapshot()
    page, _headers = client_for(user, api=False)
    for method in ("get", "post"):
        response = getattr(page, method)(
            "/accounts/profile/delete/", {"password": TEST_PASSWORD, "confirm": "on"}
        )
        assert response.status_code < 500
        assert not [marker for marker in MARKERS if marker in shown(response)]
    api, headers = client_for(user, api=True)
    body = json.dumps({"password": TEST_PASSWORD, "confirm": True})
    response = api.delete("/api/v1/profile", data=body, content_type="application/json", **headers)
    assert not [marker for marker in MARKERS if marker in shown(response)]
    assert snapshot() == before
    if party == "other customer":  # their own account, and only theirs
        assert User.objects.get(pk=user.pk).name == "Deleted customer"
