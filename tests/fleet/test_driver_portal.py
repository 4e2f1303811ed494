"""The driver portal (/drive/): the board, ride steps, duty and position, and who may use them."""

import json
import re
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from bookings.models import RideEvent, RideStatus
from fleet.models import DriverProfile
from tests.factories import PNG_BYTES, CustomerFactory, PetFactory, make_ride, soon

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def step_url(ride, step):
    return reverse("fleet:ride_step", args=[ride.pk, step])


def png(name="handover.png"):
    return SimpleUploadedFile(name, PNG_BYTES, content_type="image/png")


@pytest.fixture
def assigned(fleet_driver, customer):
    return make_ride(
        pet=PetFactory(owner=customer, name="Biscuit", special_needs="Needs a blanket", crate_required=True),
        status=RideStatus.ASSIGNED,
        driver=fleet_driver,
        notes="Ring twice.",
        scheduled_at=soon(),  # its driver may set off as soon as they accept
    )


# --- The board ------------------------------------------------------------------------


def test_next_ride_card_has_what_the_driver_needs_at_the_kerb(driver_client, assigned, customer):
    page = driver_client.get(reverse("fleet:home")).content.decode()
    for expected in [
        "Next ride",
        "Biscuit",
        "Needs a blanket",
        "Travels in a crate",
        "Ring twice.",
        customer.name,
        f'href="tel:{customer.phone}"',
        f'href="sms:{customer.phone}"',
        "https://www.google.com/maps/dir/?api=1&amp;destination=200%20Central%20Park%20W",
        "Accept ride",
        "Can't take it? Decline",
    ]:
        assert expected in page, expected
    assert "On my way" not in page  # accept first


def test_board_groups_rides_and_shows_done_ones_from_today(driver_client, fleet_driver, customer):
    now = timezone.now()
    under_way = make_ride(
        customer=customer, status=RideStatus.EN_ROUTE, driver=fleet_driver, scheduled_at=now
    )
    unanswered = make_ride(
        customer=customer,
        status=RideStatus.ASSIGNED,
        driver=fleet_driver,
        scheduled_at=now + timedelta(days=2),
    )
    later = make_ride(
        customer=customer,
        status=RideStatus.ASSIGNED,
        driver=fleet_driver,
        scheduled_at=now + timedelta(days=5),
        accepted_at=now,
    )
    done = make_ride(customer=customer, status=RideStatus.COMPLETED, driver=fleet_driver, scheduled_at=now)
    board = driver_client.get(reverse("fleet:home")).context["board"]
    assert board.current == under_way
    assert board.waiting == [unanswered]
    assert board.upcoming == [later]
    assert board.done_today == [done]


def test_done_today_shows_the_day_of_a_ride_that_was_not_for_today(driver_client, fleet_driver, customer):
    """A ride booked for Thursday but ended today must not read as today's."""
    now = timezone.now()
    tz = fleet_driver.tzinfo
    other_day = now + timedelta(days=2)
    booked_for_later = make_ride(
        customer=customer, status=RideStatus.COMPLETED, driver=fleet_driver, scheduled_at=other_day
    )
    for_today = make_ride(
        customer=customer, status=RideStatus.COMPLETED, driver=fleet_driver, scheduled_at=now
    )
    response = driver_client.get(reverse("fleet:home"))
    assert response.context["board"].done_today == [for_today, booked_for_later]
    page = response.content.decode()
    done = page[page.index('id="done-title"') :]

    def row_time(ride):
        start = done.index(f'id="row-{ride.pk}-title"')
        return re.search(r"<time[^>]*>([^<]*)</time>", done[start:]).group(1)

    later_local = timezone.localtime(other_day, tz)
    assert row_time(booked_for_later) == f"{later_local:%a %-d %b}, {later_local:%-I:%M %p}"
    assert row_time(for_today) == f"{timezone.localtime(now, tz):%-I:%M %p}"  # today's: the time is enough


def test_board_shows_only_the_drivers_own_rides(driver_client, assigned, other_fleet_driver, customer):
    mine_not = make_ride(customer=customer, status=RideStatus.ASSIGNED, driver=other_fleet_driver)
    page = driver_client.get(reverse("fleet:home")).content.decode()
    assert f"ride #{assigned.pk}" in page
    assert f"#{mine_not.pk}" not in page


def test_the_board_polls_cheaply(driver_client, assigned):
    first = driver_client.get(reverse("fleet:home"))
    version = first.context["board"].version
    unchanged = driver_client.get(reverse("fleet:home"), {"v": version}, **HTMX)
    assert unchanged.status_code == HTTPStatus.NO_CONTENT  # htmx leaves the page alone

    assigned.accepted_at = timezone.now()
    assigned.save()  # what dispatch or a step would change
    changed = driver_client.get(reverse("fleet:home"), {"v": version}, **HTMX)
    assert changed.status_code == HTTPStatus.OK
    body = changed.content.decode()
    assert body.lstrip().startswith('<div id="drive-board"') and "<html" not in body
    assert changed.context["board"].version != version
    assert 'hx-trigger="every 20s' in body and "rides-changed from:body delay:2s" in body


@pytest.mark.parametrize("count", [5, 40])
def test_board_queries_do_not_grow_with_rides(
    count, driver_client, fleet_driver, django_assert_max_num_queries
):
    start = timezone.now() + timedelta(days=1)
    for i in range(count):
        make_ride(
            pet=PetFactory(owner=CustomerFactory()),
            status=RideStatus.ASSIGNED,
            driver=fleet_driver,
            scheduled_at=start + timedelta(hours=2 * i),
        )
    with django_assert_max_num_queries(8):
        response = driver_client.get(reverse("fleet:home"))
    assert len(response.context["board"].waiting) == count - 1


def test_a_driver_without_a_vehicle_sees_why(client, driver):
    client.force_login(driver)
    page = client.get(reverse("fleet:home")).content.decode()
    assert "Your vehicle isn't set up yet" in page
    assert "No rides for you yet" in page


# --- Steps ------------------------------------------------------------------------------


def test_a_ride_through_every_step_with_htmx(driver_client, assigned, fleet_driver):
    accepted = driver_client.post(step_url(assigned, "accept"), **HTMX)
    assert accepted.status_code == HTTPStatus.OK
    assert json.loads(accepted["HX-Trigger"]) == {"ride-stepped": {}, "rides-changed": {}}
    assert "Ride accepted." in accepted.content.decode()
    assert f'id="ride-card-{assigned.pk}"' in accepted.content.decode()

    started = driver_client.post(step_url(assigned, "start"), **HTMX)
    assert json.loads(started["HX-Trigger"]) == {"ride-stepped": {}}  # the board keeps this card as it is
    assert "Picked up: add a photo" in started.content.decode()

    driver_client.post(step_url(assigned, "pickup"), {"photo": png(), "note": "Happy dog"}, **HTMX)
    delivered = driver_client.post(step_url(assigned, "complete"), {"photo": png()}, **HTMX)
    assert "Delivered. Thank you!" in delivered.content.decode()

    assigned.refresh_from_db()
    assert assigned.status == RideStatus.COMPLETED
    events = list(assigned.events.values_list("action", "actor_id"))
    assert events == [(a, fleet_driver.pk) for a in ["accept", "start", "pickup", "complete"]]
    pickup = assigned.events.get(action="pickup")
    assert pickup.note == "Happy dog" and pickup.photo.name.startswith("ride-photos/")


def test_steps_work_as_plain_form_posts(driver_client, assigned):
    response = driver_client.post(step_url(assigned, "accept"))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("fleet:ride_detail", args=[assigned.pk])
    page = driver_client.get(response["Location"]).content.decode()
    assert "Ride accepted." in page and "On my way to pickup" in page


def expected_opening(ride, driver, minutes=90):
    """The time "On my way" opens, as the driver reads it (their zone; the day when not today)."""
    opens = timezone.localtime(ride.scheduled_at - timedelta(minutes=minutes), driver.tzinfo)
    today = timezone.localtime(timezone.now(), driver.tzinfo).date()
    when = opens.strftime("%-I:%M %p") if opens.date() == today else opens.strftime("%a %-d %b, %-I:%M %p")
    return f"You can set off from {when}, {minutes} minutes before pickup."


@pytest.mark.parametrize(
    "ahead", [timedelta(days=2), timedelta(minutes=100)], ids=["days-early", "minutes-early"]
)
def test_on_my_way_opens_only_shortly_before_pickup(ahead, driver_client, fleet_driver, customer, settings):
    settings.RIDE_START_WINDOW = timedelta(minutes=90)
    ride = make_ride(
        customer=customer,
        status=RideStatus.ASSIGNED,
        driver=fleet_driver,
        accepted_at=timezone.now(),
        scheduled_at=timezone.now() + ahead,
    )
    message = expected_opening(ride, fleet_driver)
    page = driver_client.get(reverse("fleet:ride_detail", args=[ride.pk])).content.decode()
    # The button shows disabled, saying when it opens; there is no form to set off with.
    assert re.search(r"<button[^>]*disabled[^>]*>On my way to pickup</button>", page), page
    assert message in page
    assert step_url(ride, "start") not in page
    for extra in ({}, HTMX):
        refused = driver_client.post(step_url(ride, "start"), **extra)
        assert refused.status_code == HTTPStatus.OK
        assert message in refused.content.decode()
    ride.refresh_from_db()
    assert ride.status == RideStatus.ASSIGNED and not ride.events.exists()

    # The window opens: the same ride can be started.
    settings.RIDE_START_WINDOW = ahead + timedelta(minutes=1)
    page = driver_client.get(reverse("fleet:ride_detail", args=[ride.pk])).content.decode()
    assert step_url(ride, "start") in page and "You can set off from" not in page
    driver_client.post(step_url(ride, "start"))
    ride.refresh_from_db()
    assert ride.status == RideStatus.EN_ROUTE


def test_declining_returns_the_ride_to_dispatch(driver_client, assigned, auto_dispatch_off):
    response = driver_client.post(step_url(assigned, "decline"), {"reason": "Flat tyre"})
    assert response["Location"] == reverse("fleet:home")
    assigned.refresh_from_db()
    assert (assigned.status, assigned.driver) == (RideStatus.CONFIRMED, None)
    assert assigned.events.get(action="decline").note == "Flat tyre"


@pytest.mark.parametrize("extra", [{}, HTMX], ids=["plain-post", "htmx"])
def test_declining_needs_a_reason(driver_client, assigned, extra):
    page = driver_client.get(reverse("fleet:ride_detail", args=[assigned.pk])).content.decode()
    assert "Why can&#x27;t you take it?" in page and "the owner isn't told" in page
    response = driver_client.post(step_url(assigned, "decline"), {"reason": " "}, **extra)
    assert response.status_code == HTTPStatus.OK
    card = response.content.decode()
    assert "This field is required." in card and "is-invalid" in card
    assert '<details class="drive-more" open>' in card  # the decline form stays open on its error
    assigned.refresh_from_db()
    assert assigned.driver is not None and assigned.status == RideStatus.ASSIGNED
    assert not assigned.events.exists()


def test_declining_with_htmx_replaces_the_card(driver_client, assigned, auto_dispatch_off):
    response = driver_client.post(step_url(assigned, "decline"), {"reason": "Car trouble"}, **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert "Ride declined" in response.content.decode() and "off your list" in response.content.decode()
    assert json.loads(response["HX-Trigger"]) == {"ride-stepped": {}, "rides-changed": {}}
    assert (
        driver_client.get(reverse("fleet:ride_detail", args=[assigned.pk])).status_code
        == HTTPStatus.NOT_FOUND
    )


@pytest.mark.parametrize(
    ("status", "step", "data", "message"),
    [
        (RideStatus.EN_ROUTE, "pickup", {}, "Add a photo of the handover."),
        (RideStatus.PICKED_UP, "complete", {"note": "here"}, "Add a photo of the handover."),
        (RideStatus.EN_ROUTE, "no-show", {"reason": ""}, "This field is required."),
        (RideStatus.ASSIGNED, "complete", "photo", "“Delivered” is not possible now."),
        (RideStatus.ASSIGNED, "pickup", "photo", "“Picked up” is not possible now."),
        (RideStatus.PICKED_UP, "start", {}, "“On my way” is not possible now."),
    ],
    ids=[
        "pickup-without-photo",
        "complete-without-photo",
        "no-show-without-reason",
        "complete-too-early",
        "pickup-too-early",
        "start-after-pickup",
    ],
)
def test_bad_or_illegal_steps_say_why_and_change_nothing(
    status, step, data, message, driver_client, fleet_driver, customer
):
    ride = make_ride(customer=customer, status=status, driver=fleet_driver)
    if data == "photo":
        data = {"photo": png()}
    for extra in ({}, HTMX):
        response = driver_client.post(step_url(ride, step), data, **extra)
        assert response.status_code == HTTPStatus.OK
        assert message.lower() in response.content.decode().lower()
        if data and "photo" in data:
            data = {"photo": png()}
    ride.refresh_from_db()
    assert ride.status == status
    assert not ride.events.exists()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("pet.jpg", b"GIF? no: plain text", content_type="image/jpeg"),
            "isn&#x27;t a photo",
        ),
        (SimpleUploadedFile("pet.png", PNG_BYTES + b"\x00" * 4096, content_type="image/png"), "too large"),
    ],
    ids=["text-file-named-jpg", "oversized"],
)
def test_forged_photo_uploads_are_refused(upload, message, driver_client, fleet_driver, customer):
    ride = make_ride(customer=customer, status=RideStatus.EN_ROUTE, driver=fleet_driver)
    with override_settings(RIDE_PHOTO_MAX_BYTES=2048):
        response = driver_client.post(step_url(ride, "pickup"), {"photo": upload}, **HTMX)
    assert message in response.content.decode()
    assert "is-invalid" in response.content.decode()  # beside the field
    ride.refresh_from_db()
    assert ride.status == RideStatus.EN_ROUTE
    assert not RideEvent.objects.exists()


def test_no_show_needs_a_reason_and_records_it(driver_client, fleet_driver, customer):
    ride = make_ride(customer=customer, status=RideStatus.EN_ROUTE, driver=fleet_driver)
    driver_client.post(step_url(ride, "no-show"), {"reason": "Nobody home after 15 minutes"})
    ride.refresh_from_db()
    assert ride.status == RideStatus.NO_SHOW
    assert ride.events.get().note == "Nobody home after 15 minutes"


# --- Who may ----------------------------------------------------------------------------


def test_another_drivers_ride_is_404(client, other_fleet_driver, assigned):
    client.force_login(other_fleet_driver)
    assert client.get(reverse("fleet:ride_detail", args=[assigned.pk])).status_code == HTTPStatus.NOT_FOUND
    for step in ["accept", "decline", "start"]:
        assert client.post(step_url(assigned, step)).status_code == HTTPStatus.NOT_FOUND
    assigned.refresh_from_db()
    assert assigned.accepted_at is None and assigned.status == RideStatus.ASSIGNED


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", lambda ride: reverse("fleet:home")),
        ("get", lambda ride: reverse("fleet:ride_detail", args=[ride.pk])),
        ("post", lambda ride: step_url(ride, "accept")),
        ("post", lambda ride: reverse("fleet:duty")),
        ("post", lambda ride: reverse("fleet:position")),
    ],
)
def test_customers_and_admins_get_403_on_driver_endpoints(
    method, url, client, customer, admin_user, assigned
):
    for user in (customer, admin_user):
        client.force_login(user)
        assert getattr(client, method)(url(assigned)).status_code == HTTPStatus.FORBIDDEN
    assigned.refresh_from_db()
    assert assigned.accepted_at is None


def test_anonymous_users_are_sent_to_login(client, assigned):
    response = client.post(step_url(assigned, "accept"))
    assert response.status_code == HTTPStatus.FOUND and "/accounts/login/" in response["Location"]
    htmx = client.get(reverse("fleet:home"), **HTMX)
    assert "/accounts/login/" in htmx["HX-Redirect"]


def test_unknown_steps_and_wrong_methods(driver_client, assigned):
    assert driver_client.post(step_url(assigned, "teleport")).status_code == HTTPStatus.NOT_FOUND
    assert driver_client.get(step_url(assigned, "accept")).status_code == HTTPStatus.METHOD_NOT_ALLOWED


# --- Duty and position ------------------------------------------------------------------


def test_drivers_toggle_their_duty(driver_client, fleet_driver, auto_dispatch_off):
    response = driver_client.post(reverse("fleet:duty"), {"on_duty": "0"}, **HTMX)
    assert "Off duty" in response.content.decode() and "Go on duty" in response.content.decode()
    assert not DriverProfile.objects.get(pk=fleet_driver.pk).on_duty
    driver_client.post(reverse("fleet:duty"), {"on_duty": "1"})
    assert DriverProfile.objects.get(pk=fleet_driver.pk).on_duty


def test_position_is_kept_only_during_a_ride(driver_client, fleet_driver, customer):
    url = reverse("fleet:position")
    refused = driver_client.post(url, {"lat": "40.7", "lng": "-73.9"})
    assert refused.status_code == HTTPStatus.CONFLICT
    assert "only shared while you are on a ride" in refused.json()["error"]

    ride = make_ride(customer=customer, status=RideStatus.PICKED_UP, driver=fleet_driver)
    ok = driver_client.post(url, {"lat": "40.78509123456", "lng": "-73.968285", "accuracy": "12"})
    assert ok.status_code == HTTPStatus.NO_CONTENT
    profile = DriverProfile.objects.get(pk=fleet_driver.pk)
    assert (str(profile.last_lat), str(profile.last_lng), profile.last_accuracy_m) == (
        "40.785091",
        "-73.968285",
        12,
    )
    assert profile.position_ride == ride and profile.position_at


@pytest.mark.parametrize("data", [{"lat": "91", "lng": "0"}, {"lat": "x", "lng": "1"}, {"lng": "1"}])
def test_bad_positions_are_refused(data, driver_client, fleet_driver, customer):
    make_ride(customer=customer, status=RideStatus.EN_ROUTE, driver=fleet_driver)
    response = driver_client.post(reverse("fleet:position"), data)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert DriverProfile.objects.get(pk=fleet_driver.pk).position_at is None
