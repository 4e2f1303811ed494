"""Dispatch to doorstep in real browsers: an admin assigns a ride, the driver (on a phone)
works it through with handover photos, and the customer's open ride page follows along
without ever reloading."""

import re
from datetime import timedelta
from io import BytesIO

import pytest
from django.test import override_settings
from django.utils import timezone
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from bookings.models import Pet, RideStatus
from fleet import services
from tests.browser.conftest import PHONE
from tests.factories import FAR, NEAR, AdminFactory, CustomerFactory, PetFactory, make_ride, on_duty_driver

pytestmark = pytest.mark.django_db(transaction=True)
DESKTOP = {"width": 1280, "height": 900}
WHERE = {"latitude": 40.7812, "longitude": -73.9665}  # near the pickup


def handover_photo(colour) -> dict:
    image = Image.new("RGB", (640, 480), colour)
    draw = ImageDraw.Draw(image)
    for i in range(0, 640, 40):
        draw.line([(i, 0), (640 - i, 480)], fill=(255, 255, 255), width=3)
    buffer = BytesIO()
    image.save(buffer, "JPEG")
    return {"name": "handover.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


@pytest.fixture
def new_context(browser, browser_context_args, live_server):
    """new_context(viewport, **options): a new browser context, closed before the live server
    stops (the pages poll; a request during its shutdown would fail)."""
    opened = []

    def make(viewport, **extra):
        opened.append(browser.new_context(**{**browser_context_args, "viewport": viewport, **extra}))
        return opened[-1]

    yield make
    for ctx in opened:
        ctx.close()


@pytest.fixture
def fast_polling():
    # The same code paths as in production, on a shorter clock.
    with override_settings(RIDE_LIVE_POLL_SECONDS=1, DRIVER_BOARD_POLL_SECONDS=2, DISPATCH_AUTO=False):
        yield


@pytest.fixture
def scene(fast_polling):
    admin = AdminFactory(name="Olivia Ops")
    customer = CustomerFactory(name="Alice Moreno", email="alice@example.com")
    pet = PetFactory(
        owner=customer,
        name="Biscuit",
        breed="Beagle",
        special_needs="Gets anxious in traffic; a blanket over the crate helps.",
        crate_required=True,
    )
    # Within the hour: Dana may set off as soon as she accepts (RIDE_START_WINDOW).
    ride = make_ride(pet=pet, scheduled_at=timezone.now() + timedelta(hours=1), notes="Ring twice, please.")
    dana = on_duty_driver("Dana Diaz", NEAR)
    eli = on_duty_driver("Eli Park", FAR)
    on_duty_driver("Fay Nguyen", NEAR, on_duty=False)
    return {"admin": admin, "customer": customer, "ride": ride, "dana": dana, "eli": eli}


def test_admin_assigns_driver_works_the_ride_customer_follows_live(
    new_context, live_server, login, shot, scene
):
    ride = scene["ride"]

    # The customer opens their ride page and keeps it open.
    customer_page = new_context(PHONE).new_page()
    login(customer_page, scene["customer"])
    customer_page.goto(f"{live_server.url}/app/rides/{ride.pk}/")
    customer_page.evaluate("window.__sameDocument = true")  # gone if the page ever reloads
    status = customer_page.locator("#ride-status")
    expect(status).to_have_text("Confirmed")
    shot(customer_page, "customer-confirmed")

    # Operations assigns the best driver from the dispatch queue.
    ops = new_context(DESKTOP).new_page()
    login(ops, scene["admin"])
    ops.get_by_role("link", name="Dispatch").click()
    expect(ops.get_by_role("heading", name=re.compile("Waiting for a driver"))).to_be_visible()
    shot(ops, "ops-dispatch-queue")
    ops.get_by_role("link", name="Assign driver").click()
    expect(ops.locator(".candidate-best")).to_contain_text("Dana Diaz")
    expect(ops.get_by_text("Not available (1)")).to_be_visible()
    shot(ops, "ops-assign")
    ops.get_by_role("button", name="Assign Dana Diaz").click()
    expect(ops.get_by_role("alert")).to_contain_text("Dana Diaz has Biscuit's ride")
    shot(ops, "ops-assigned")

    expect(status).to_have_text("Driver assigned")
    expect(customer_page.get_by_text("Waiting for Dana to confirm.")).to_be_visible()

    # The driver, on a phone that may share its location.
    driver_ctx = new_context(PHONE, geolocation=WHERE, permissions=["geolocation"])
    drive = driver_ctx.new_page()
    login(drive, scene["dana"])
    card = drive.locator(f"#ride-card-{ride.pk}")
    expect(card).to_contain_text("New ride for you")
    expect(card).to_contain_text("Gets anxious in traffic")
    expect(card.get_by_role("link", name="Call")).to_have_attribute("href", f"tel:{scene['customer'].phone}")
    shot(drive, "driver-new-ride")

    # Busy state: hold the request and look at the button while it waits.
    held = []
    drive.route("**/accept/", lambda route: held.append(route))
    card.get_by_role("button", name="Accept ride").click()
    expect(card.get_by_role("button", name="Accept ride")).to_be_disabled()
    expect(card.locator("form.htmx-request .spinner-border")).to_be_visible()
    shot(drive, "driver-accept-busy", full_page=False)
    held[0].continue_()
    drive.unroute("**/accept/")
    expect(card).to_contain_text("Ride accepted.")
    expect(customer_page.get_by_text("Dana has confirmed your ride.")).to_be_visible()

    card.get_by_role("button", name="On my way to pickup").click()
    expect(card).to_contain_text("You're on your way")
    expect(status).to_have_text("Driver on the way")

    # Location sharing, with the driver's say-so.
    card = drive.locator(f"#ride-card-{ride.pk}")
    card.get_by_role("button", name="Share my location with the owner").click()
    expect(card.locator("[data-location-status]")).to_contain_text("Sharing your location · sent")
    expect(customer_page.locator("[data-driver-position]")).to_contain_text("Last seen")
    shot(drive, "driver-en-route")
    shot(customer_page, "customer-en-route")

    # Pickup needs a photo: first without one, then with one.
    card.get_by_role("button", name="Picked up", exact=True).click()
    assert card.get_by_label("Picked up: add a photo").evaluate("input => input.validity.valueMissing")
    expect(status).to_have_text("Driver on the way")  # the browser kept the form back
    card.get_by_label("Picked up: add a photo").set_input_files(handover_photo((180, 120, 60)))
    expect(card.locator("[data-photo-preview]")).to_be_visible()
    card.get_by_label("Note (optional)").fill("Biscuit hopped right in.")
    card.get_by_role("button", name="Picked up", exact=True).click()
    expect(card).to_contain_text("Picked up. Drive safely!")
    expect(status).to_have_text("Picked up")
    expect(customer_page.get_by_role("img", name="Picked up: handover photo")).to_be_visible()
    shot(drive, "driver-picked-up")
    shot(customer_page, "customer-picked-up")

    card.get_by_label("Delivered: add a photo").set_input_files(handover_photo((60, 120, 180)))
    card.get_by_role("button", name="Delivered", exact=True).click()
    expect(card).to_contain_text("Delivered. Thank you!")
    expect(status).to_have_text("Completed")
    expect(customer_page.get_by_role("img", name="Delivered: handover photo")).to_be_visible()
    shot(drive, "driver-delivered")
    shot(customer_page, "customer-completed")

    # Dispatch gives Dana another ride: her open page shows it by itself.
    expect(drive.get_by_role("heading", name="Done today")).to_be_visible()
    drive.evaluate("window.__sameDocument = true")
    second = make_ride(pets=ride.party_pets, scheduled_at=ride.scheduled_at + timedelta(hours=2))
    services.dispatch_assign(ride=second, driver=scene["dana"], by=scene["admin"])
    expect(drive.locator(f"#ride-card-{second.pk}")).to_contain_text("New ride for you")
    assert drive.evaluate("window.__sameDocument") is True
    shot(drive, "driver-new-ride-arrives")

    # It all happened on one page load, and the page stopped polling once the ride ended.
    assert customer_page.evaluate("window.__sameDocument") is True
    expect(customer_page.locator("#ride-live")).not_to_have_attribute("hx-trigger", re.compile("."))
    expect(drive.locator("[data-share-location][aria-pressed=true]")).to_have_count(0)  # sharing ended
    ride.refresh_from_db()
    assert ride.status == RideStatus.COMPLETED
    assert list(ride.events.values_list("action", flat=True)) == [
        "assign",
        "accept",
        "start",
        "pickup",
        "complete",
    ]
    # The photos are served through the checking view, to the customer only among these two.
    photo_src = customer_page.get_by_role("img", name="Picked up: handover photo").get_attribute("src")
    assert ops.request.get(f"{live_server.url}{photo_src}").ok
    stranger = new_context(PHONE).new_page()
    login(stranger, CustomerFactory())
    assert stranger.request.get(f"{live_server.url}{photo_src}").status == 404


def tap_targets_too_small(page, selector):
    """Visible elements matching `selector` shorter than 44 px (WCAG 2.5.5, Apple's HIG)."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)]
            .filter((el) => el.offsetParent !== null && el.type !== 'hidden')
            .filter((el) => !el.closest('.drive-row') || el.matches('.btn'))  /* a row is one big link */
            .map((el) => [el.textContent.trim() || el.name || el.type, el.getBoundingClientRect().height])
            .filter(([, h]) => h < 44)""",
        selector,
    )


DRIVE_TARGETS = ".drive :is(a, button, input, select, textarea, summary)"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_driver_portal_and_dispatch_pages_look_finished(
    viewport, new_context, live_server, login, shot, scene
):
    ride = scene["ride"]
    customer = scene["customer"]
    dana, eli = scene["dana"], scene["eli"]
    # A full day for Dana: one under way, one to answer, one later, one upcoming, one done.
    now = timezone.now()
    kiwi = PetFactory(owner=customer, name="Kiwi", type=Pet.Type.BIRD, weight_lb=1)
    make_ride(pet=kiwi, status=RideStatus.EN_ROUTE, driver=dana, scheduled_at=now - timedelta(minutes=5))
    make_ride(pet=kiwi, status=RideStatus.ASSIGNED, driver=dana, scheduled_at=now + timedelta(days=1))
    make_ride(
        pet=kiwi,
        status=RideStatus.ASSIGNED,
        driver=dana,
        scheduled_at=now + timedelta(days=2),
        accepted_at=now,
    )
    make_ride(pet=kiwi, status=RideStatus.COMPLETED, driver=dana, scheduled_at=now - timedelta(hours=2))
    flagged = make_ride(
        pet=kiwi,
        scheduled_at=now + timedelta(hours=5),
        attention="Auto-dispatch found no eligible driver. Assign one by hand.",
    )
    assigned = make_ride(
        pet=kiwi, status=RideStatus.ASSIGNED, driver=eli, scheduled_at=now + timedelta(days=3)
    )

    drive = new_context(viewport).new_page()
    login(drive, dana)
    expect(drive.get_by_role("heading", name="Now")).to_be_visible()
    shot(drive, "driver-board")
    assert tap_targets_too_small(drive, DRIVE_TARGETS) == []
    drive.get_by_role("button", name="Go off duty").click()
    expect(drive.get_by_role("button", name="Go on duty")).to_be_visible()
    shot(drive, "driver-off-duty", full_page=False)
    drive.get_by_role("link", name="Timeline and photos").click()
    expect(drive.get_by_role("heading", name="Timeline")).to_be_visible()
    shot(drive, "driver-ride-detail")
    assert tap_targets_too_small(drive, DRIVE_TARGETS) == []

    ops = new_context(viewport).new_page()
    login(ops, scene["admin"])
    for path, name in [
        ("/ops/fleet/dispatch/", "ops-dispatch"),
        (f"/ops/fleet/dispatch/rides/{ride.pk}/", "ops-assign"),
        (f"/ops/rides/{flagged.pk}/", "ops-ride-unassigned"),
        (f"/ops/rides/{assigned.pk}/", "ops-ride-assigned"),
        ("/ops/fleet/drivers/", "ops-drivers"),
        (f"/ops/fleet/drivers/{dana.pk}/", "ops-driver-edit"),
        ("/ops/fleet/drivers/new/", "ops-driver-new"),
    ]:
        ops.goto(f"{live_server.url}{path}")
        ops.wait_for_load_state("networkidle")
        if name == "ops-ride-assigned":
            ops.get_by_text("Change driver").click()
        shot(ops, name)
        assert tap_targets_too_small(ops, "main .btn") == [], name
