"""Photo checks and processing, shared by the web form, the Open311 API and the task.

Uploads are checked by decoding them with Pillow, never by their name or content type.
Processing re-encodes the image, which drops EXIF (and with it any GPS position), after
turning it upright by its EXIF orientation. The tasks call `photo_process` and
`photo_mark_failed`; moderation (hiding a photo) is a staff write in reports.services.photos."""

from __future__ import annotations

import io
import logging
import warnings
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, ImageOps, UnidentifiedImageError

from reports.models import Photo

logger = logging.getLogger(__name__)

# MPO is how Pillow names the JPEGs many phones write (a JPEG with extra frames appended);
# processing keeps the first frame, which is the photo.
ALLOWED_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
# The only upload folders the public may read. `originals/` keeps the uploads as received,
# EXIF and GPS included, and must never be served.
PUBLIC_FOLDERS = ("photos", "thumbnails")
WEB_SIZE = 1600
THUMBNAIL_SIZE = 400


def validate_photo(upload: IO[bytes]) -> None:
    """Raise a ValidationError with a message a citizen understands unless `upload` is a
    complete JPEG, PNG or WebP within the size and pixel limits."""
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, io.SEEK_END)
        size = upload.tell()
    max_mb = settings.PHOTO_MAX_BYTES / (1024 * 1024)
    if size > settings.PHOTO_MAX_BYTES:
        raise ValidationError(f"The photo is larger than {max_mb:g} MB.", code="too_large")
    if size == 0:
        raise ValidationError("The photo file is empty.", code="empty")
    try:
        upload.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                fmt = image.format
                width, height = image.size
                if fmt not in ALLOWED_FORMATS:
                    raise ValidationError(
                        "The photo must be a JPEG, PNG or WebP image.", code="format"
                    )
                if width * height > settings.PHOTO_MAX_PIXELS:
                    raise ValidationError(
                        f"The photo is {width}×{height} pixels; at most "
                        f"{settings.PHOTO_MAX_PIXELS / 1_000_000:g} megapixels are accepted.",
                        code="too_many_pixels",
                    )
                image.load()  # decodes every pixel: a truncated file fails here
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValidationError(
            "The photo has too many pixels to be accepted.", code="too_many_pixels"
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(
            "The file is not a readable image (JPEG, PNG or WebP).", code="invalid_image"
        ) from exc
    finally:
        upload.seek(0)


def render_versions(source: IO[bytes]) -> tuple[ContentFile, ContentFile, tuple[int, int]]:
    """Re-encode `source` upright and without metadata: a web-size JPEG and a thumbnail."""
    with Image.open(source) as opened:
        image = ImageOps.exif_transpose(opened)
        if image.mode not in ("RGB", "L"):
            background = Image.new("RGB", image.size, "white")
            rgba = image.convert("RGBA")
            background.paste(rgba, mask=rgba.getchannel("A"))
            image = background
        elif image.mode == "L":
            image = image.convert("RGB")
    web = image.copy()
    web.thumbnail((WEB_SIZE, WEB_SIZE), Image.Resampling.LANCZOS)
    thumb = image.copy()
    thumb.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
    return _jpeg(web, quality=85), _jpeg(thumb, quality=80), web.size


def _jpeg(image: Image.Image, *, quality: int) -> ContentFile:
    buffer = io.BytesIO()
    # No exif= argument: Pillow writes no metadata unless asked to.
    image.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True)
    return ContentFile(buffer.getvalue())


def photo_process(*, photo: Photo) -> Photo:
    """Make the public versions of a photo. Idempotent: a processed photo is left alone.

    A file that cannot be decoded, or whose original is gone, is marked failed (retrying
    would not help); any other OSError from storage propagates so that the task retries."""
    if photo.state == Photo.State.PROCESSED:
        return photo
    try:
        with photo.original.open("rb") as source:
            web, thumb, (width, height) = render_versions(source)
    except (ValueError, SyntaxError, FileNotFoundError) as exc:
        return photo_mark_failed(photo=photo, reason=str(exc))
    with transaction.atomic():
        photo.image.save(f"photo-{photo.pk}.jpg", web, save=False)
        photo.thumbnail.save(f"thumb-{photo.pk}.jpg", thumb, save=False)
        photo.width, photo.height = width, height
        photo.state = Photo.State.PROCESSED
        photo.save(update_fields=["image", "thumbnail", "width", "height", "state"])
    return photo


def photo_mark_failed(*, photo: Photo, reason: str) -> Photo:
    """Give up on a photo: it stays off public pages, and the sweeper stops trying it."""
    logger.warning("Photo %s could not be processed: %s", photo.pk, reason)
    photo.state = Photo.State.FAILED
    photo.save(update_fields=["state"])
    return photo
