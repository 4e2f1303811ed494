"""Round trips and wait-and-return (bookings.trips): two linked rides in one booking, priced,
booked, cancelled, called and dispatched as the product says."""

from datetime import timedelta
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from bookings import services, trips
from bookings.models import Ride, RideEvent, RideStatus, Trip
from core.errors import DomainError
from fleet import services as fleet
from tests.factories import (
    DROPOFF,
    PICKUP,
    PetFactory,
    make_open_return,
    make_ride,
    make_trip,
    on_duty_driver,
)

pytestmark = pytest.mark.django_db


def weekday_morning(days: int = 3, hour: int = 10):
    """A weekday daytime pickup more than a day ahead: no surcharge applies."""
    moment = timezone.localtime(timezone.now() + timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )
    while moment.weekday() >= 5:
        moment += timedelta(days=1)
    return moment


def plan(customer, pets, **kwargs):
    kwargs.setdefault("scheduled_at", weekday_morning())
    return trips.trip_plan(
        customer=customer, pets=pets, pickup_address=PICKUP, dropoff_address=DROPOFF, **kwargs
    )


# --- Planning and pricing ------------------------------------------------------------


def test_a_round_trip_is_priced_each_way_and_the_return_goes_back(customer):
    pet = PetFactory(owner=customer, weight_lb=10)  # a small dog: no size charge
    one_way = plan(customer, [pet])
    at = weekday_morning()
    trip = plan(customer, [pet], trip=Trip.ROUND_TRIP, return_at=at + timedelta(hours=4))

    assert trip.back.pickup_address == DROPOFF and trip.back.dropoff_address == PICKUP
    # Same distance, same pets, no surcharge either way: the same fare each way.
    assert (
        trip.outbound.quote.total_cents == trip.back.quote.total_cents == one_way.outbound.quote.total_cents
    )
    assert trip.total_cents == 2 * one_way.outbound.quote.total_cents
    assert trip.back.scheduled_at == at + timedelta(hours=4)


@pytest.mark.parametrize(
    ("wait", "charged_cents"),
    [
        (15, 0),  # within the free period
        (30, 600),  # 15 charged minutes: one block
        (45, 1200),
        (60, 1800),  # 45 charged minutes: three blocks of $6
        (90, 3000),
    ],
)
def test_the_wait_is_charged_per_started_block_after_the_free_minutes(customer, pet, wait, charged_cents):
    one_way = plan(customer, [pet]).outbound.quote.total_cents
    trip = plan(customer, [pet], trip=Trip.WAIT_RETURN, wait_minutes=wait)

    assert trip.back.quote.cents_of("wait") == charged_cents
    assert trip.back.quote.total_cents == one_way + charged_cents
    assert trip.outbound.quote.total_cents == one_way  # the wait is on the way back


def test_the_wait_keeps_the_outbound_window_open_until_the_return_leaves(customer, pet):
    trip = plan(customer, [pet], trip=Trip.WAIT_RETURN, wait_minutes=60)
    outbound, back = trip.outbound, trip.back
    drive = timedelta(hours=float(outbound.distance_miles) / settings.RIDE_AVERAGE_SPEED_MPH)
    arrival = outbound.scheduled_at + max(drive, timedelta(minutes=5))

    assert outbound.ends_at == arrival + timedelta(minutes=60)
    assert back.scheduled_at == outbound.ends_at


def test_a_return_before_the_ride_out_arrives_is_refused(customer, pet):
    at = weekday_morning()
    with pytest.raises(DomainError) as excinfo:
        plan(customer, [pet], scheduled_at=at, trip=Trip.ROUND_TRIP, return_at=at + timedelta(minutes=10))
    assert "after the ride out arrives" in excinfo.value.errors["return_at"][0]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"trip": "there_and_back"}, "trip"),
        ({"trip": Trip.ROUND_TRIP}, "return_at"),  # neither a time nor "when I call"
        ({"trip": Trip.WAIT_RETURN}, "wait_minutes"),
        ({"trip": Trip.WAIT_RETURN, "wait_minutes": 7}, "wait_minutes"),
    ],
)
def test_an_incomplete_trip_says_which_field(customer, pet, kwargs, field):
    with pytest.raises(DomainError) as excinfo:
        plan(customer, [pet], **kwargs)
    assert field in excinfo.value.errors


def test_an_open_return_waits_for_a_call_within_the_limit(customer, pet):
    at = weekday_morning()
    trip = plan(customer, [pet], scheduled_at=at, trip=Trip.ROUND_TRIP, return_on_call=True)
    assert trip.on_call_until == at + settings.TRIP_OPEN_RETURN_WITHIN
    assert trip.back.scheduled_at == trip.outbound.ends_at  # the earliest it could be


# --- Booking -------------------------------------------------------------------------------


def test_booking_a_round_trip_writes_two_linked_rides(customer, pet):
    outbound = trips.trip_book(
        customer=customer,
        plan=plan(customer, [pet], trip=Trip.ROUND_TRIP, return_at=weekday_morning() + timedelta(hours=5)),
        notes="Gate code 1234",
        pickup_notes="Ring twice",
        dropoff_notes="Clinic entrance on 5th",
    )
    back = outbound.return_leg

    assert (outbound.trip, back.trip) == (Trip.ROUND_TRIP, Trip.ROUND_TRIP)
    assert back.outbound_id == outbound.pk and not outbound.is_return_leg and back.is_return_leg
    assert {outbound.status, back.status} == {RideStatus.PENDING_PAYMENT}
    assert back.party_pets == [pet]
    # Each stop keeps its notes: the return picks up where the ride out dropped off.
    assert (back.pickup_notes, back.dropoff_notes) == ("Clinic entrance on 5th", "Ring twice")
    assert RideEvent.objects.filter(ride__in=[outbound, back], action="book").count() == 2


def test_the_booking_form_books_a_round_trip_and_pays_once(customer_client, customer, pet):
    at = weekday_morning()
    response = customer_client.post(
        reverse("bookings:ride_new"),
        {
            "pets": [pet.pk],
            "pickup_address": PICKUP,
            "dropoff_address": DROPOFF,
            "scheduled_at": at.strftime("%Y-%m-%dT%H:%M"),
            "trip": "round_trip",
            "return_mode": "at",
            "return_at": (at + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    outbound = Ride.objects.get(outbound__isnull=True, customer=customer)
    back = outbound.return_leg
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("billing:checkout", args=[outbound.pk])
    # The return's own checkout leads to the booking's one checkout.
    again = customer_client.get(reverse("billing:checkout", args=[back.pk]))
    assert again.status_code == HTTPStatus.FOUND and again.url == response.url


def test_the_live_quote_shows_both_legs_and_their_total(customer_client, customer, pet):
    at = weekday_morning()
    response = customer_client.post(
        reverse("bookings:ride_quote"),
        {
            "pets": [pet.pk],
            "pickup_address": PICKUP,
            "dropoff_address": DROPOFF,
            "scheduled_at": at.strftime("%Y-%m-%dT%H:%M"),
            "trip": "wait_return",
            "wait_minutes": "60",
        },
    )
    html = response.content.decode()
    one_way = plan(customer, [pet]).outbound.quote.total_cents
    assert "Ride out" in html and "Return" in html
    assert "Waiting 60 min (15 free, 3 × 15 min)" in html
    assert "Total for both rides" in html
    assert f"${(2 * one_way + 1800) / 100:,.2f}" in html


def test_the_booking_form_words_a_return_before_arrival_beside_its_field(customer_client, pet):
    at = weekday_morning()
    response = customer_client.post(
        reverse("bookings:ride_new"),
        {
            "pets": [pet.pk],
            "pickup_address": PICKUP,
            "dropoff_address": DROPOFF,
            "scheduled_at": at.strftime("%Y-%m-%dT%H:%M"),
            "trip": "round_trip",
            "return_mode": "at",
            "return_at": at.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == HTTPStatus.OK
    assert "after the ride out arrives" in response.context["form"].errors["return_at"][0]
    assert not Ride.objects.exists()


# --- Cancelling -----------------------------------------------------------------------------


def test_cancelling_the_ride_out_cancels_both_legs(customer):
    outbound, back = make_trip(customer=customer)
    services.ride_cancel(ride=outbound, by=customer, reason="Vet closed")
    outbound.refresh_from_db()
    back.refresh_from_db()
    assert (outbound.status, back.status) == (RideStatus.CANCELLED, RideStatus.CANCELLED)
    assert back.events.get(action="cancel").data == {"cancelled_by": "customer", "fee_cents": 0}


def test_each_leg_cancelled_late_costs_its_own_fee(customer):
    soon = timezone.now() + timedelta(hours=3)  # inside the free-cancellation cut-off
    outbound, back = make_trip(customer=customer, scheduled_at=soon, return_at=soon + timedelta(hours=3))
    services.ride_cancel(ride=outbound, by=customer)
    percent = settings.CANCELLATION_FEE_PERCENT
    for leg in (outbound, back):  # the percentage of each leg's own fare, rounded half up
        assert leg.events.get(action="cancel").data["fee_cents"] == (leg.price_cents * percent + 50) // 100


def test_cancelling_only_the_return_keeps_the_ride_out(customer):
    outbound, back = make_trip(customer=customer)
    services.ride_cancel(ride=back, by=customer)
    outbound.refresh_from_db()
    back.refresh_from_db()
    assert (outbound.status, back.status) == (RideStatus.CONFIRMED, RideStatus.CANCELLED)


def test_cancelling_a_wait_and_returns_return_ends_the_wait(customer, driver):
    outbound, back = make_trip(customer=customer, trip=Trip.WAIT_RETURN, wait_minutes=90)
    long_window = outbound.ends_at
    services.ride_cancel(ride=back, by=customer)
    outbound.refresh_from_db()
    assert outbound.wait_minutes == 0
    assert outbound.ends_at == long_window - timedelta(minutes=90) + settings.RIDE_BUFFER
    assert outbound.events.filter(action="wait_cancelled", for_driver=True).exists()


def test_a_no_show_on_the_way_out_cancels_the_return_free(customer, driver):
    outbound, back = make_trip(
        customer=customer, status=RideStatus.EN_ROUTE, driver=driver, back_status=RideStatus.CONFIRMED
    )
    services.ride_no_show(ride=outbound, by=driver, reason="Nobody home")
    back.refresh_from_db()
    assert back.status == RideStatus.CANCELLED
    assert back.events.get(action="cancel").data == {"cancelled_by": "system", "fee_cents": 0}


def test_the_cancel_page_says_the_return_goes_too(customer_client, customer):
    outbound, back = make_trip(customer=customer)
    page = customer_client.get(reverse("bookings:ride_cancel", args=[outbound.pk])).content.decode()
    assert "is cancelled with it" in page and "Yes, cancel both rides" in page
    page = customer_client.get(reverse("bookings:ride_cancel", args=[back.pk])).content.decode()
    assert "Only the return is cancelled" in page and "Yes, cancel the return" in page


# --- Open returns ---------------------------------------------------------------------------


def test_the_customer_calls_the_open_return(customer_client, customer):
    outbound, back = make_open_return(customer=customer)
    before = timezone.now()
    response = customer_client.post(reverse("bookings:ride_call_return", args=[back.pk]), follow=True)
    back.refresh_from_db()

    assert back.on_call_until is None and back.status == RideStatus.CONFIRMED
    assert back.scheduled_at >= before + settings.TRIP_CALL_NOTICE
    assert "coming back for" in response.content.decode()
    event = back.events.get(action="call_return")
    assert event.for_customer and event.actor == customer


def test_operations_call_the_return_for_the_customer(admin_client, admin_user, customer):
    _outbound, back = make_open_return(customer=customer)
    admin_client.post(reverse("bookings_ops:ride_call_return", args=[back.pk]))
    back.refresh_from_db()
    assert back.on_call_until is None
    assert back.events.get(action="call_return").actor == admin_user


def test_a_return_is_not_called_before_the_pets_were_collected(customer):
    _outbound, back = make_open_return(customer=customer, outbound_status=RideStatus.ASSIGNED)
    with pytest.raises(DomainError, match="picked up for the ride out"):
        services.ride_call_return(ride=back, by=customer)
    back.refresh_from_db()
    assert back.awaiting_call and not back.events.filter(action="call_return").exists()


def test_a_return_is_called_once(customer):
    _outbound, back = make_open_return(customer=customer)
    services.ride_call_return(ride=back, by=customer)
    back.refresh_from_db()
    called_for = back.scheduled_at
    with pytest.raises(DomainError):
        services.ride_call_return(ride=back, by=customer)
    back.refresh_from_db()
    assert back.scheduled_at == called_for


def test_another_customers_return_cannot_be_called(client, other_customer, customer):
    _outbound, back = make_open_return(customer=customer)
    client.force_login(other_customer)
    response = client.post(reverse("bookings:ride_call_return", args=[back.pk]))
    assert response.status_code == HTTPStatus.NOT_FOUND
    back.refresh_from_db()
    assert back.awaiting_call


def test_an_uncalled_return_is_not_dispatched_and_a_called_one_is(customer, settings):
    settings.DISPATCH_AUTO = True
    _outbound, back = make_open_return(customer=customer)
    driver = on_duty_driver("Dana Diaz")
    assert fleet.ride_auto_dispatch(ride_id=back.pk) is None
    with pytest.raises(DomainError, match="calls for it"):
        fleet.dispatch_assign(ride=back, driver=driver, by=None)

    services.ride_call_return(ride=back, by=customer)
    assert fleet.ride_auto_dispatch(ride_id=back.pk).driver == driver


def test_a_return_not_called_in_time_is_flagged_for_operations_once(customer):
    _outbound, back = make_open_return(customer=customer)
    later = back.on_call_until + timedelta(minutes=1)
    assert services.returns_not_called(now=later) == 1
    assert services.returns_not_called(now=later) == 0
    back.refresh_from_db()
    assert "not called in time" in back.attention


# --- Dispatch ---------------------------------------------------------------------------------


def test_the_wait_keeps_its_driver_from_other_rides(customer):
    driver = on_duty_driver("Wes Waiting")
    outbound, back = make_trip(customer=customer, trip=Trip.WAIT_RETURN, wait_minutes=60)
    fleet.dispatch_assign(ride=outbound, driver=driver, by=None)
    # A ride inside the wait can't go to the waiting driver...
    during_wait = make_ride(scheduled_at=outbound.ends_at - timedelta(minutes=20))
    with pytest.raises(DomainError, match="another ride"):
        fleet.dispatch_assign(ride=during_wait, driver=driver, by=None)
    # ...and the return, which starts as the wait ends, went to them with the ride out.
    back.refresh_from_db()
    assert (back.status, back.driver) == (RideStatus.ASSIGNED, driver)


def test_the_ride_out_goes_only_to_a_driver_free_for_the_return_too(customer, settings):
    settings.DISPATCH_AUTO = True
    near = on_duty_driver("Nia Near", position=(Decimal("40.785"), Decimal("-73.970")))
    far = on_duty_driver("Zed Far", position=(Decimal("40.650"), Decimal("-73.950")))
    outbound, back = make_trip(customer=customer, trip=Trip.WAIT_RETURN, wait_minutes=30)
    make_ride(status=RideStatus.ASSIGNED, driver=near, scheduled_at=back.scheduled_at)  # Nia's next job
    assert fleet.ride_auto_dispatch(ride_id=outbound.pk).driver == far
    back.refresh_from_db()
    assert back.driver == far


def test_the_return_goes_to_nobody_but_the_driver_waiting_there(customer, admin_user):
    waiting, other = on_duty_driver("Wes Waiting"), on_duty_driver("Olga Other")
    outbound, back = make_trip(customer=customer, trip=Trip.WAIT_RETURN)
    with pytest.raises(DomainError, match="driver waiting there"):
        fleet.dispatch_assign(ride=back, driver=other, by=admin_user)  # the ride out has no driver yet
    fleet.dispatch_assign(ride=outbound, driver=waiting, by=admin_user)
    back.refresh_from_db()
    assert back.driver == waiting


def test_when_the_ride_out_loses_its_driver_so_does_the_return(customer):
    driver = on_duty_driver("Ann Able")
    outbound, back = make_trip(customer=customer, trip=Trip.WAIT_RETURN)
    fleet.dispatch_assign(ride=outbound, driver=driver, by=None)
    services.ride_decline(ride=Ride.objects.get(pk=outbound.pk), by=driver, reason="Car trouble")
    outbound.refresh_from_db()
    back.refresh_from_db()
    assert (outbound.driver, back.driver) == (None, None)
    assert back.status == RideStatus.CONFIRMED


def test_reassigning_the_ride_out_takes_the_return_along(customer, admin_user):
    first, second = on_duty_driver("Ann Able"), on_duty_driver("Ben Baker")
    outbound, back = make_trip(customer=customer, trip=Trip.WAIT_RETURN)
    fleet.dispatch_assign(ride=outbound, driver=first, by=admin_user)
    fleet.dispatch_reassign(
        ride=Ride.objects.get(pk=outbound.pk), driver=second, by=admin_user, reason="Swap"
    )
    back.refresh_from_db()
    assert back.driver == second


def test_an_open_return_not_called_yet_is_free_to_cancel_even_late(customer):
    soon = timezone.now() + timedelta(hours=3)
    _outbound, back = make_trip(customer=customer, on_call=True, scheduled_at=soon)
    services.ride_cancel(ride=back, by=customer)
    assert back.events.get(action="cancel").data["fee_cents"] == 0


def test_an_open_return_is_priced_without_the_night_surcharge(customer, pet):
    evening = weekday_morning(hour=19).replace(minute=45)  # arrives after 20:00, when night fares start
    trip = plan(customer, [pet], scheduled_at=evening, trip=Trip.ROUND_TRIP, return_on_call=True)
    assert trip.back.scheduled_at.astimezone(customer.tzinfo).hour >= 20  # the placeholder is at night
    assert not [line for line in trip.back.quote.lines if line.kind == "surcharge"]
    assert [line.kind for line in trip.outbound.quote.lines].count("surcharge") == 0


def test_the_dispatch_queue_leaves_out_returns_not_called(customer):
    from fleet.selectors import dispatch_queue

    _outbound, back = make_trip(customer=customer, on_call=True)
    assert back not in dispatch_queue()


def test_a_wait_and_returns_return_waits_for_its_outbounds_driver(customer, settings):
    settings.DISPATCH_AUTO = True
    on_duty_driver("Free Frank")
    outbound, back = make_trip(customer=customer, trip=Trip.WAIT_RETURN)
    assert fleet.ride_auto_dispatch(ride_id=back.pk) is None  # the outbound has no driver yet
    back.refresh_from_db()
    assert back.driver is None and not back.attention


def test_a_round_trips_return_prefers_the_driver_of_the_ride_out(customer):
    # By name alone "Aaron" would rank first; neither has reported a position.
    on_duty_driver("Aaron First")
    second = on_duty_driver("Zed Second")
    outbound, back = make_trip(customer=customer)
    fleet.dispatch_assign(ride=outbound, driver=second, by=None)
    assert fleet.ride_auto_dispatch(ride_id=back.pk).driver == second


# --- Moving legs ----------------------------------------------------------------------------


def test_the_ride_out_cannot_move_past_its_return(customer):
    outbound, back = make_trip(customer=customer)
    with pytest.raises(DomainError, match="Your return is picked up"):
        services.ride_reschedule(ride=outbound, by=customer, scheduled_at=back.scheduled_at)
    outbound.refresh_from_db()
    assert not outbound.events.filter(action="reschedule").exists()


def test_the_return_cannot_move_before_the_ride_out_arrives(customer):
    outbound, back = make_trip(customer=customer)
    with pytest.raises(DomainError, match="after the ride out arrives"):
        services.ride_reschedule(
            ride=back, by=customer, scheduled_at=outbound.scheduled_at + timedelta(minutes=5)
        )


def test_a_return_moves_to_a_later_time(customer):
    _outbound, back = make_trip(customer=customer)
    later = back.scheduled_at + timedelta(hours=1)
    assert services.ride_reschedule(ride=back, by=customer, scheduled_at=later).scheduled_at == later


def test_an_open_return_follows_its_ride_out(customer):
    outbound, back = make_trip(customer=customer, on_call=True)
    moved = services.ride_reschedule(
        ride=outbound, by=customer, scheduled_at=outbound.scheduled_at + timedelta(hours=2)
    )
    back.refresh_from_db()
    assert back.scheduled_at == moved.ends_at
    assert back.on_call_until == moved.scheduled_at + settings.TRIP_OPEN_RETURN_WITHIN


def test_a_wait_and_return_moves_as_one(customer):
    outbound, back = make_trip(customer=customer, trip=Trip.WAIT_RETURN, wait_minutes=60)
    stretch = back.ends_at - outbound.scheduled_at
    later = outbound.scheduled_at + timedelta(days=1)
    moved = services.ride_reschedule(ride=outbound, by=customer, scheduled_at=later)
    back.refresh_from_db()
    assert moved.scheduled_at == later and moved.wait_minutes == 60
    assert back.scheduled_at == moved.ends_at  # the return still leaves as the wait ends
    assert back.ends_at - moved.scheduled_at == stretch
    assert back.quote["lines"][-1]["kind"] == "wait"  # still charged for the wait
    assert {e.ride_id for e in RideEvent.objects.filter(action="reschedule")} == {outbound.pk, back.pk}


def test_a_wait_and_returns_return_is_moved_with_its_ride_out(customer):
    _outbound, back = make_trip(customer=customer, trip=Trip.WAIT_RETURN)
    with pytest.raises(DomainError, match="move the ride out"):
        services.ride_reschedule(ride=back, by=customer, scheduled_at=back.scheduled_at + timedelta(days=1))
    assert not RideEvent.objects.filter(action="reschedule").exists()


def test_the_reschedule_quote_of_a_wait_and_return_prices_both_legs(customer_client, customer):
    outbound, back = make_trip(customer=customer, trip=Trip.WAIT_RETURN, wait_minutes=60)
    later = timezone.localtime(outbound.scheduled_at + timedelta(days=1))
    html = customer_client.post(
        reverse("bookings:ride_reschedule_quote", args=[outbound.pk]),
        {"scheduled_at": later.strftime("%Y-%m-%dT%H:%M")},
    ).content.decode()
    assert "Ride out" in html and "Total for both rides" in html and "Waiting 60 min" in html


# --- Pages ------------------------------------------------------------------------------------


def test_each_legs_page_links_the_other(customer_client, customer):
    outbound, back = make_trip(customer=customer, on_call=True)
    page = customer_client.get(reverse("bookings:ride_detail", args=[outbound.pk])).content.decode()
    assert f"Return #{back.pk}" in page and "when called" in page and "Cancel both rides" in page
    page = customer_client.get(reverse("bookings:ride_detail", args=[back.pk])).content.decode()
    assert f"Ride out #{outbound.pk}" in page and "Cancel the return only" in page
    # Calling is offered once the pets were collected for the ride out.
    assert "once" in page and "Call for the return now" not in page


def test_the_driver_sees_the_wait_on_the_ride_out(client, customer):
    driver = on_duty_driver("Dana Diaz")
    outbound, _back = make_trip(customer=customer, trip=Trip.WAIT_RETURN, wait_minutes=45)
    fleet.dispatch_assign(ride=outbound, driver=driver, by=None)
    client.force_login(driver)
    page = client.get(reverse("fleet:ride_detail", args=[outbound.pk])).content.decode()
    assert "Wait 45 min at the drop-off" in page
