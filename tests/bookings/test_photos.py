"""Handover photos: checked by content and size, stored clean, served only to the ride's people."""

from http import HTTPStatus
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from PIL import Image

from bookings import services
from bookings.models import RideStatus
from bookings.photos import clean_ride_photo
from core.errors import DomainError
from tests.factories import CustomerFactory, DriverFactory, make_ride

pytestmark = pytest.mark.django_db


def image_upload(fmt="JPEG", size=(64, 48), name="photo.jpg", exif=None, mode="RGB"):
    buffer = BytesIO()
    image = Image.new(mode, size, (200, 120, 40) if mode == "RGB" else (200, 120, 40, 128))
    kwargs = {"exif": exif} if exif is not None else {}
    image.save(buffer, fmt, **kwargs)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")


def gps_exif():
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (40.0, 47.0, 6.0), 3: "W", 4: (73.0, 58.0, 5.0)}  # GPSInfo
    exif[0x0112] = 6  # Orientation: rotated 90° clockwise
    return exif


@pytest.mark.parametrize(("fmt", "mode"), [("JPEG", "RGB"), ("PNG", "RGBA"), ("WEBP", "RGB")])
def test_real_photos_are_accepted_and_stored_as_clean_jpegs(fmt, mode):
    cleaned = clean_ride_photo(image_upload(fmt, mode=mode, name=f"x.{fmt.lower()}"), what="pickup")
    assert cleaned.name.startswith("pickup-") and cleaned.name.endswith(".jpg")
    with Image.open(BytesIO(cleaned.read())) as stored:
        assert stored.format == "JPEG"


def test_location_metadata_is_stripped_and_the_photo_turned_upright():
    cleaned = clean_ride_photo(image_upload(exif=gps_exif(), size=(64, 48)), what="pickup")
    with Image.open(BytesIO(cleaned.read())) as stored:
        assert not stored.getexif()  # no GPS position of the customer's door
        assert stored.size == (48, 64)  # the EXIF rotation is applied, then dropped


@override_settings(RIDE_PHOTO_MAX_EDGE=100)
def test_large_photos_are_scaled_down():
    cleaned = clean_ride_photo(image_upload(size=(400, 200)), what="dropoff")
    with Image.open(BytesIO(cleaned.read())) as stored:
        assert stored.size == (100, 50)


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("pet.jpg", b"just some text, honest", content_type="image/jpeg"),
            "isn't a photo",
        ),
        (SimpleUploadedFile("pet.jpg", b"", content_type="image/jpeg"), "isn't a photo"),
        (
            SimpleUploadedFile("pet.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 200, content_type="image/jpeg"),
            "isn't a photo",
        ),
        (image_upload("GIF", name="pet.gif"), "isn't a photo"),
        (image_upload("BMP", name="pet.jpg"), "isn't a photo"),
    ],
    ids=["text-renamed-jpg", "empty", "jpeg-header-only", "gif", "bmp-named-jpg"],
)
def test_forged_or_unsupported_files_are_refused(upload, message):
    with pytest.raises(DomainError) as excinfo:
        clean_ride_photo(upload, what="pickup")
    assert message in excinfo.value.errors["photo"][0]


def test_truncated_images_are_refused():
    data = image_upload("PNG", size=(300, 300), name="p.png").read()
    with pytest.raises(DomainError):
        clean_ride_photo(SimpleUploadedFile("p.png", data[: len(data) // 2]), what="pickup")


@override_settings(RIDE_PHOTO_MAX_BYTES=1024)
def test_oversized_files_are_refused_before_they_are_read():
    upload = SimpleUploadedFile("big.jpg", b"\xff" * 2048, content_type="image/jpeg")
    with pytest.raises(DomainError, match="too large"):
        clean_ride_photo(upload, what="pickup")


@override_settings(RIDE_PHOTO_MAX_PIXELS=1000)
def test_images_with_too_many_pixels_are_refused():
    with pytest.raises(DomainError, match="too many pixels"):
        clean_ride_photo(image_upload(size=(100, 100)), what="pickup")


def test_a_refused_photo_changes_nothing(driver):
    ride = make_ride(status=RideStatus.EN_ROUTE, driver=driver)
    with pytest.raises(DomainError):
        services.ride_pickup(ride=ride, by=driver, photo=SimpleUploadedFile("x.jpg", b"not an image"))
    ride.refresh_from_db()
    assert ride.status == RideStatus.EN_ROUTE and not ride.events.exists()


# --- Serving ------------------------------------------------------------------------------


@pytest.fixture
def photo_event(customer, driver, photo):
    ride = make_ride(customer=customer, status=RideStatus.EN_ROUTE, driver=driver)
    services.ride_pickup(ride=ride, by=driver, photo=photo)
    return ride.events.get(action="pickup")


def photo_url(event):
    return reverse("ride_photo", args=[event.pk])


@pytest.mark.parametrize("who", ["customer", "driver", "admin_user"])
def test_the_rides_customer_driver_and_operations_see_the_photo(who, photo_event, client, request):
    client.force_login(request.getfixturevalue(who))
    response = client.get(photo_url(photo_event))
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, max-age=86400"
    assert Image.open(BytesIO(b"".join(response.streaming_content))).format == "JPEG"


@pytest.mark.parametrize("who", [CustomerFactory, DriverFactory])
def test_anyone_else_gets_404(who, photo_event, client):
    client.force_login(who())
    assert client.get(photo_url(photo_event)).status_code == HTTPStatus.NOT_FOUND


def test_a_driver_taken_off_the_ride_no_longer_sees_it(photo_event, driver, client):
    ride = photo_event.ride
    ride.driver = DriverFactory()
    ride.save()
    client.force_login(driver)
    assert client.get(photo_url(photo_event)).status_code == HTTPStatus.NOT_FOUND


def test_anonymous_users_are_sent_to_login(photo_event, client):
    response = client.get(photo_url(photo_event))
    assert response.status_code == HTTPStatus.FOUND and "/accounts/login/" in response["Location"]


def test_events_without_a_photo_are_404(customer_client, ride):
    services.ride_cancel(ride=ride, by=ride.customer)
    event = ride.events.get(action="cancel")
    assert customer_client.get(photo_url(event)).status_code == HTTPStatus.NOT_FOUND


def test_the_timeline_shows_the_photo_through_the_checking_view(photo_event, customer_client):
    page = customer_client.get(reverse("bookings:ride_detail", args=[photo_event.ride_id]))
    assert f'src="{photo_url(photo_event)}"' in page.content.decode()
    assert "/private-media/" not in page.content.decode()
