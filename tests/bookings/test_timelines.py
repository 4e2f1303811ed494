"""Each reader's timeline: the customer's page (and its live HTMX fragment), the driver's ride
page (its timeline fragment and its error re-renders) and operations' page show only the
events meant for that reader, in that reader's words. Operations read everything, names and
notes included; nobody else reads a flag, a dispatch detail, an admin's name, another
driver's name or anyone's reason but their own."""

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from bookings import selectors, services
from bookings.lifecycle import Actor, audience_fields
from bookings.models import Audience, RideEvent, RideStatus
from fleet.services import AUTO_DISPATCH_FLAG
from tests.factories import DriverFactory, make_ride, pickup_soon

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}

DISPATCH_NOTE = "Auto-dispatch: best eligible driver (0.4 mi from pickup)."
DECLINE_NOTE = "Owner was rude to me last time"
REASSIGN_NOTE = "Eli is faster on this route"
UNASSIGN_NOTE = "Eli called in sick"
CANCEL_NOTE = "Fraud check failed on the card"
NO_SHOW_NOTE = "Owner shouted at me through the door"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def body(response) -> str:
    assert response.status_code == HTTPStatus.OK, response.status_code
    return response.content.decode()


@pytest.fixture
def fay(db):
    return DriverFactory(name="Fay Gomez")


@pytest.fixture
def troubled(ride, driver, other_driver, fay, admin_user):
    """A ride that went through hands: flagged by dispatch, declined by Dana with a note,
    given to Eli, moved to Fay with a reason, taken off Fay with a reason, back to Eli."""
    services.ride_flag(ride=ride, reason=AUTO_DISPATCH_FLAG)
    services.ride_assign(ride=ride, driver=driver, by=None, note=DISPATCH_NOTE)
    services.ride_decline(ride=ride, by=driver, reason=DECLINE_NOTE)
    services.ride_assign(ride=ride, driver=other_driver, by=admin_user, note="Assigned by hand")
    services.ride_reassign(ride=ride, driver=fay, by=admin_user, reason=REASSIGN_NOTE)
    services.ride_unassign(ride=ride, by=admin_user, reason=UNASSIGN_NOTE)
    services.ride_assign(ride=ride, driver=other_driver, by=admin_user)
    ride.refresh_from_db()
    return ride


# Nothing of what operations know about the ride's hands reaches the customer.
INTERNAL = [
    AUTO_DISPATCH_FLAG,
    "Needs attention",
    "Auto-dispatch",
    "Assigned by hand",
    DECLINE_NOTE,
    REASSIGN_NOTE,
    UNASSIGN_NOTE,
    "Olivia Ops",  # the admin
    "Dana",  # the driver who declined
    "Fay",  # the driver it was taken from
    "Driver declined",
    "Back to dispatch",
]


def assert_none_of(texts, page):
    leaked = [text for text in texts if text in page]
    assert not leaked, leaked


# --- The customer -------------------------------------------------------------------------


def test_the_customers_page_and_its_live_fragment_show_no_internal_event(troubled, customer):
    client = logged_in(customer)
    url = reverse("bookings:ride_detail", args=[troubled.pk])
    for page in (body(client.get(url)), body(client.get(url, **HTMX))):
        assert_none_of(INTERNAL, page)
        assert page.count("Your driver changed") == 3  # the decline, the reassign, the unassign
        assert "We&#x27;re finding another driver for your ride." in page
        assert "Driver assigned" in page and "Eli Park" in page  # the driver panel: who comes now


def test_the_customers_timeline_reads_in_their_words(troubled):
    entries = selectors.customer_timeline(troubled)
    assert [(e.action, e.title) for e in entries] == [
        ("assign", "Driver assigned"),
        ("decline", "Your driver changed"),
        ("assign", "Driver assigned"),
        ("reassign", "Your driver changed"),
        ("unassign", "Your driver changed"),
        ("assign", "Driver assigned"),
    ]
    # Nobody is named, and a driver change reads as ours: who declined is not the customer's to know.
    assert [e.by for e in entries] == ["Whiskers & Wheels"] * 6
    assert {e.note for e in entries} == {"", "We're finding another driver for your ride."}


def test_an_operations_cancel_reason_stays_with_operations(ride, customer, admin_user):
    services.ride_cancel(ride=ride, by=admin_user, reason=CANCEL_NOTE)
    page = body(logged_in(customer).get(reverse("bookings:ride_detail", args=[ride.pk])))
    assert CANCEL_NOTE not in page and "Olivia Ops" not in page
    assert "Cancelled" in page and "Our team cancelled this ride." in page


def test_the_customer_reads_their_own_cancel_reason(ride, customer):
    services.ride_cancel(ride=ride, by=customer, reason="Vet moved the appointment")
    [cancel] = [e for e in selectors.customer_timeline(ride) if e.action == "cancel"]
    assert (cancel.title, cancel.note, cancel.by) == ("Cancelled", "Vet moved the appointment", "You")


def test_a_no_show_reads_in_customer_words_without_the_drivers_reason(customer, driver):
    ride = make_ride(customer=customer, status=RideStatus.EN_ROUTE, driver=driver)
    services.ride_no_show(ride=ride, by=driver, reason=NO_SHOW_NOTE)
    page = body(logged_in(customer).get(reverse("bookings:ride_detail", args=[ride.pk])))
    assert NO_SHOW_NOTE not in page
    assert "Our driver couldn&#x27;t collect your pet, so the ride is closed as a no-show." in page


def test_the_customer_sees_the_handover_photos_but_not_the_drivers_notes(customer, driver, photo):
    ride = make_ride(customer=customer, status=RideStatus.EN_ROUTE, driver=driver)
    services.ride_pickup(ride=ride, by=driver, photo=photo, note="Crate strap is frayed, told ops")
    page = body(logged_in(customer).get(reverse("bookings:ride_detail", args=[ride.pk])))
    pickup = ride.events.get(action="pickup")
    assert "Picked up" in page and reverse("ride_photo", args=[pickup.pk]) in page
    assert "Crate strap" not in page
    assert logged_in(customer).get(reverse("ride_photo", args=[pickup.pk])).status_code == HTTPStatus.OK


def test_the_customer_sees_payment_and_reschedule_lines_meant_for_them(customer):
    ride = make_ride(customer=customer, status=RideStatus.PENDING_PAYMENT)
    services.ride_confirm(ride=ride, note="$40.12 held on Visa •4242.")
    services.ride_reschedule(ride=ride, by=customer, scheduled_at=ride.scheduled_at.replace(hour=9))
    entries = selectors.customer_timeline(ride)
    assert [(e.title, e.note) for e in entries][0] == ("Confirmed", "$40.12 held on Visa •4242.")
    assert entries[1].title == "Rescheduled" and entries[1].note.startswith("Pickup moved from")


def test_flags_are_never_on_the_customers_timeline(ride, admin_user):
    services.ride_flag(ride=ride, reason="Payment: could not charge $40.12: card declined")
    services.ride_clear_flag(ride=ride, by=admin_user)
    assert selectors.customer_timeline(ride) == []
    assert [e.title for e in selectors.ops_timeline(ride)] == ["Needs attention", "Resolved"]


# --- The driver -----------------------------------------------------------------------------


@pytest.fixture
def second_driver_ride(ride, driver, other_driver, admin_user):
    """Dana declined (with a note); operations gave the ride to Eli."""
    services.ride_assign(ride=ride, driver=driver, by=None, note=DISPATCH_NOTE)
    services.ride_decline(ride=ride, by=driver, reason=DECLINE_NOTE)
    services.ride_flag(ride=ride, reason=AUTO_DISPATCH_FLAG)
    services.ride_assign(ride=ride, driver=other_driver, by=admin_user, note="Eli knows the vet")
    ride.refresh_from_db()
    return ride


DRIVER_INTERNAL = [DECLINE_NOTE, DISPATCH_NOTE, AUTO_DISPATCH_FLAG, "Eli knows the vet", "Dana", "Olivia Ops"]


def test_the_second_drivers_page_and_timeline_fragment_show_nothing_of_the_first(
    second_driver_ride, other_driver
):
    client = logged_in(other_driver)
    url = reverse("fleet:ride_detail", args=[second_driver_ride.pk])
    page, fragment = body(client.get(url)), body(client.get(url, **HTMX))
    assert 'id="drive-timeline"' in fragment and "<html" not in fragment
    for html in (page, fragment):
        assert_none_of([*DRIVER_INTERNAL, "Driver declined", "Needs attention"], html)
        assert "Assigned to you" in html


@pytest.mark.parametrize(
    "step, data",
    [
        ("no-show", {"reason": "Nobody home"}),  # not possible before setting off: the card's error
        ("pickup", {}),  # no photo: the form's error
    ],
)
def test_the_second_drivers_error_re_renders_show_nothing_of_the_first(
    second_driver_ride, other_driver, step, data
):
    response = logged_in(other_driver).post(
        reverse("fleet:ride_step", args=[second_driver_ride.pk, step]), data
    )
    page = body(response)
    assert 'id="drive-timeline"' in page
    assert_none_of(DRIVER_INTERNAL, page)
    assert "Assigned to you" in page


def test_a_driver_reads_only_their_own_time_on_the_ride(ride, driver, other_driver, admin_user, photo):
    services.ride_assign(ride=ride, driver=driver, by=admin_user)
    services.ride_accept(ride=ride, by=driver)
    services.ride_reassign(ride=ride, driver=other_driver, by=admin_user, reason=REASSIGN_NOTE)
    ride.refresh_from_db()
    assert selectors.driver_timeline(ride, driver) == []  # no longer theirs
    pickup_soon(ride)
    services.ride_start(ride=ride, by=other_driver)
    services.ride_pickup(ride=ride, by=other_driver, photo=photo, note="Strap frayed")
    ride.refresh_from_db()
    entries = selectors.driver_timeline(ride, other_driver)
    assert [(e.title, e.note, e.by) for e in entries] == [
        ("Assigned to you", "", "Whiskers & Wheels"),
        ("On your way", "", "You"),
        ("Picked up", "Strap frayed", "You"),
    ]
    assert entries[-1].has_photo


def test_a_driver_reads_their_own_no_show_reason_and_the_cancellation_without_its_reason(customer, driver):
    shown = make_ride(customer=customer, status=RideStatus.EN_ROUTE, driver=driver)
    services.ride_no_show(ride=shown, by=driver, reason="Nobody home")
    assert [(e.title, e.note) for e in selectors.driver_timeline(shown, driver)] == [
        ("No-show", "Nobody home")
    ]

    cancelled = make_ride(customer=customer, status=RideStatus.ASSIGNED, driver=driver)
    services.ride_cancel(ride=cancelled, by=customer, reason="Vet moved the appointment")
    assert [(e.title, e.note, e.by) for e in selectors.driver_timeline(cancelled, driver)] == [
        ("Ride cancelled", "", "The owner")
    ]


def test_a_driver_sees_photos_only_of_their_own_time_on_the_ride(customer, driver, other_driver, photo):
    ride = make_ride(customer=customer, status=RideStatus.EN_ROUTE, driver=driver)
    services.ride_pickup(ride=ride, by=driver, photo=photo)
    pickup = ride.events.get(action="pickup")
    url = reverse("ride_photo", args=[pickup.pk])
    assert logged_in(driver).get(url).status_code == HTTPStatus.OK
    # The ride changes hands (a repair by operations): the new driver's time starts there.
    RideEvent.objects.create(ride=ride, action="reassign", data={"driver_id": other_driver.pk})
    type(ride).objects.filter(pk=ride.pk).update(driver=other_driver)
    assert logged_in(other_driver).get(url).status_code == HTTPStatus.NOT_FOUND
    assert logged_in(driver).get(url).status_code == HTTPStatus.NOT_FOUND


# --- Operations -----------------------------------------------------------------------------


def test_operations_read_every_event_with_names_and_notes(troubled, admin_user):
    page = body(logged_in(admin_user).get(reverse("bookings_ops:ride_detail", args=[troubled.pk])))
    for expected in [
        "Needs attention",
        AUTO_DISPATCH_FLAG,
        DISPATCH_NOTE,
        "Driver declined",
        DECLINE_NOTE,
        "Dana Diaz",
        "Olivia Ops",
        REASSIGN_NOTE,
        "Back to dispatch",
        UNASSIGN_NOTE,
    ]:
        assert expected.replace("'", "&#x27;") in page, expected


def test_ride_timeline_picks_the_audiences_selector(troubled, other_driver):
    assert selectors.ride_timeline(troubled, audience=Audience.OPERATIONS) == selectors.ops_timeline(troubled)
    assert selectors.ride_timeline(troubled, audience=Audience.CUSTOMER) == selectors.customer_timeline(
        troubled
    )
    assert selectors.ride_timeline(
        troubled, audience=Audience.DRIVER, reader=other_driver
    ) == selectors.driver_timeline(troubled, other_driver)


# --- Where the audience is decided ----------------------------------------------------------


def test_every_writer_decides_its_events_audience(troubled, customer, admin_user):
    services.ride_update_notes(ride=troubled, by=customer, notes="Ring twice")
    rows = {
        (e.action, e.for_customer, e.for_driver)
        for e in RideEvent.objects.filter(ride=troubled).exclude(action="assign")
    }
    assert rows == {
        ("flag", False, False),
        ("decline", True, False),
        ("reassign", True, True),
        ("unassign", True, False),
        ("notes", True, True),
    }


def test_an_event_written_without_an_audience_is_for_operations_only(ride):
    RideEvent.objects.create(ride=ride, action="payout_hold", note="Driver payout held for review")
    assert selectors.customer_timeline(ride) == []
    assert [e.title for e in selectors.ops_timeline(ride)] == ["Payout hold"]


def test_audience_fields_follow_the_table():
    assert audience_fields("cancel", by=Actor.ADMIN, note=CANCEL_NOTE) == {
        "for_customer": True,
        "customer_note": "Our team cancelled this ride.",
        "for_driver": True,
        "driver_note": "",
    }
    assert (
        audience_fields("cancel", by=Actor.CUSTOMER, note=" Plans changed ")["customer_note"]
        == "Plans changed"
    )
    assert audience_fields("flag", by=None, note="x") == {
        "for_customer": False,
        "customer_note": "",
        "for_driver": False,
        "driver_note": "",
    }


# --- The migration that gave existing events their audiences ---------------------------------


def test_the_backfill_gives_existing_events_the_audiences_new_ones_get(ride, customer, driver, admin_user):
    """Events written before audiences existed (every flag False) read, once backfilled, as the
    same events written now would."""
    from importlib import import_module

    from django.apps import apps

    backfill = import_module("bookings.migrations.0004_ride_event_audience").backfill_audiences
    written = [
        ("book", customer, Actor.CUSTOMER, ""),
        ("confirm", None, Actor.SYSTEM, "$40.12 held on Visa •4242."),
        ("flag", None, Actor.SYSTEM, AUTO_DISPATCH_FLAG),
        ("assign", None, Actor.SYSTEM, DISPATCH_NOTE),
        ("decline", driver, Actor.DRIVER, DECLINE_NOTE),
        ("assign", admin_user, Actor.ADMIN, "By hand"),
        ("reassign", admin_user, Actor.ADMIN, REASSIGN_NOTE),
        ("accept", driver, Actor.DRIVER, ""),
        ("unassign", admin_user, Actor.ADMIN, UNASSIGN_NOTE),
        ("start", driver, Actor.DRIVER, ""),
        ("pickup", driver, Actor.DRIVER, "Strap frayed"),
        ("no_show", driver, Actor.DRIVER, NO_SHOW_NOTE),
        ("no_show", admin_user, Actor.ADMIN, NO_SHOW_NOTE),
        ("complete", admin_user, Actor.ADMIN, "Closed by hand"),
        ("cancel", customer, Actor.CUSTOMER, "Plans changed"),
        ("cancel", admin_user, Actor.ADMIN, CANCEL_NOTE),
        ("expire", None, Actor.SYSTEM, "Not paid in time; the slot is released."),
        ("reschedule", customer, Actor.CUSTOMER, "Pickup moved from Mon to Tue."),
        ("notes", customer, Actor.CUSTOMER, "Notes for the driver updated."),
        ("clear_flag", admin_user, Actor.ADMIN, "Resolved."),
        ("payout_hold", admin_user, Actor.ADMIN, "Another app's event"),
    ]
    events = [
        RideEvent.objects.create(ride=ride, actor=who, action=a, note=note) for a, who, _, note in written
    ]
    backfill(apps, None)
    for event, (action, _, capacity, note) in zip(events, written, strict=True):
        event.refresh_from_db()
        got = {
            name: getattr(event, name)
            for name in ("for_customer", "customer_note", "for_driver", "driver_note")
        }
        assert got == audience_fields(action, by=capacity, note=note), (action, capacity)
        assert event.note == note  # operations keep the note as written
