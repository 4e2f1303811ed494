"""Handover photos are checked in the browser before they are sent (issue 13, point 12): a
file that is not a photo is refused at once, and a big phone photo is scaled down to what
the server keeps before it is uploaded (the server still checks everything)."""

import os
from io import BytesIO

import pytest
from PIL import Image
from playwright.sync_api import expect

from bookings.models import RideStatus
from tests.factories import CustomerFactory, PetFactory, make_ride, on_duty_driver

pytestmark = pytest.mark.django_db(transaction=True)


def big_photo() -> bytes:
    """A 2400×1800 photo of noise: several megabytes, as a phone camera's are."""
    image = Image.frombytes("RGB", (2400, 1800), os.urandom(2400 * 1800 * 3))
    buffer = BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def test_the_photo_is_checked_and_shrunk_before_upload(page, live_server, login, shot):
    driver = on_duty_driver("Dana Diaz")
    pet = PetFactory(owner=CustomerFactory(), name="Biscuit")
    ride = make_ride(pet=pet, status=RideStatus.EN_ROUTE, driver=driver)
    login(page, driver)
    page.goto(f"{live_server.url}/drive/rides/{ride.pk}/")
    field = page.get_by_label("Picked up: add a photo")

    field.set_input_files({"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a photo"})
    expect(page.locator("[data-photo-error]")).to_have_text(
        "That file isn't a photo we can read. Take a JPEG, PNG or WebP photo."
    )
    assert field.evaluate("input => input.files.length") == 0

    original = big_photo()
    field.set_input_files({"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": original})
    expect(page.locator("[data-photo-preview]")).to_be_visible()
    expect(page.locator("[data-photo-error]")).to_have_text("")
    sent = field.evaluate("input => ({size: input.files[0].size, type: input.files[0].type})")
    assert sent["type"] == "image/jpeg" and sent["size"] < len(original) / 2
    shot(page, "photo-shrunk")

    uploads = []
    page.on(
        "request",
        lambda request: request.method == "POST" and uploads.append(len(request.post_data_buffer or b"")),
    )
    page.get_by_role("button", name="Picked up", exact=True).click()
    expect(page.get_by_label("Delivered: add a photo")).to_be_visible()  # the next step
    ride.refresh_from_db()
    assert ride.status == RideStatus.PICKED_UP
    assert uploads and max(uploads) < len(original) / 2
    stored = Image.open(ride.events.get(action="pickup").photo.open("rb"))
    assert max(stored.size) == 1600
