"""Handover photos: checked by content, not by name, and stored as a clean JPEG.

An upload is accepted when Pillow reads it as a JPEG, PNG or WebP image within
the size limits (settings.RIDE_PHOTO_MAX_BYTES / RIDE_PHOTO_MAX_PIXELS). What we
store is re-encoded: upright, at most RIDE_PHOTO_MAX_EDGE pixels on its long
side, and without metadata (a phone photo's EXIF carries the GPS position of the
customer's home). A file that merely claims to be an image (a text file named
.jpg, a polyglot) never reaches storage. Photos live in the private default
storage and are served only by `bookings.views.ride_photo`, which checks who asks.
"""

import uuid
from io import BytesIO

from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import DomainError

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
ACCEPT_ATTRIBUTE = "image/jpeg,image/png,image/webp"  # for <input type=file accept=...>


def _refuse(message: str) -> DomainError:
    return DomainError(message, code="invalid", errors={"photo": [message]})


def clean_ride_photo(upload, *, what: str) -> ContentFile:
    """Check an uploaded photo and return the JPEG to store, or raise DomainError on `photo`."""
    max_bytes = settings.RIDE_PHOTO_MAX_BYTES
    if upload.size is not None and upload.size > max_bytes:
        size_mb, limit_mb = upload.size / 1_048_576, max_bytes // 1_048_576
        raise _refuse(f"That photo is too large ({size_mb:.1f} MB); the limit is {limit_mb} MB.")
    unreadable = _refuse("That file isn't a photo we can read. Take a JPEG, PNG or WebP photo.")
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise unreadable
            if probe.width * probe.height > settings.RIDE_PHOTO_MAX_PIXELS:
                raise _refuse("That photo has too many pixels. Take it again at a normal camera setting.")
            probe.verify()  # checks the file's structure without decoding it all
        upload.seek(0)
        with Image.open(upload) as image:
            image.load()
            image = ImageOps.exif_transpose(image)
            if image.mode not in ("RGB", "L"):
                canvas = Image.new("RGB", image.size, "white")
                canvas.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
                image = canvas
            image.thumbnail((settings.RIDE_PHOTO_MAX_EDGE, settings.RIDE_PHOTO_MAX_EDGE))
            out = BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    except DomainError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise unreadable from exc
    finally:
        upload.seek(0)
    return ContentFile(out.getvalue(), name=f"{what}-{uuid.uuid4().hex}.jpg")
