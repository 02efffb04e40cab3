"""Photo checks, processing and file placement, shared by the web form, the Open311 API
and the tasks.

Uploads are checked with Pillow, never by their name or content type, and never decoded at
full size in the web process. Processing re-encodes the image upright and with nothing but
its pixels, within a memory budget, and writes the versions under random names: in the
public folders, or under hidden/ while the photo or its report is hidden
(`photo_files_sync` moves them when that changes). The tasks call `photo_process` and
`photo_mark_failed`; moderation (hiding a photo) is a staff write in reports.services.photos."""

from __future__ import annotations

import io
import logging
import os
import re
import secrets
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import IO, NamedTuple, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from reports.models import Comment, Photo, ServiceRequest
from reports.services.timeline import report_touch

logger = logging.getLogger(__name__)

# MPO is how Pillow names the JPEGs many phones write (a JPEG with extra frames appended);
# processing keeps the first frame, which is the photo.
ALLOWED_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
# The only upload folders the public may read. `originals/` keeps the uploads as received,
# EXIF and GPS included, and `hidden/` the processed files of hidden photos and of the
# photos of hidden reports: neither is ever served.
IMAGE_FOLDER, THUMBNAIL_FOLDER = "photos", "thumbnails"
PUBLIC_FOLDERS = (IMAGE_FOLDER, THUMBNAIL_FOLDER)
HIDDEN_FOLDER = "hidden"
WEB_SIZE = 1600
THUMBNAIL_SIZE = 400


# Decoding may take as much memory as one full-size copy at the pixel limit (4 bytes a
# pixel: Pillow keeps RGB, RGBA and LA pixels in 32 bits); a file that would need more is
# refused at upload. What each kind of file needs, beyond the small web-size result, is in
# `decode_cost`; bench/photo_memory.py measures it.
BYTES_PER_PIXEL = 4
# Pillow decodes WebP through libwebp's animation decoder, which keeps two full canvases,
# then copies the frame out: about four full-size copies, and libwebp cannot scale as it
# decodes. So a WebP is accepted up to a quarter of the pixels of a PNG.
WEBP_COPIES = 4
# The rows handled at once when a full-size image is flattened and reduced.
_BAND_ROWS = 64
_ORIENTATION = 0x0112
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# In a JPEG's entropy-coded data 0xFF is always followed by 0x00 or a restart marker, so the
# next other 0xFF pair is the next marker.
_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7]")
# Encoders write about ten scans for a progressive JPEG (libjpeg's default progression has
# 10, mozjpeg's rarely over 20). The worker's decoding time grows with each one: a file of
# thousands of tiny scans would hold it for minutes.
MAX_JPEG_SCANS = 100


class JpegStructure(NamedTuple):
    """What _jpeg_structure read of a JPEG's first image."""

    scans: int  # SOS segments
    ends: bool  # an end marker (EOI) closes it
    first_scan_components: int  # components the first scan carries (0: no scan)


def decode_budget() -> int:
    """The most memory (bytes) decoding one photo may take."""
    return int(settings.PHOTO_MAX_PIXELS) * BYTES_PER_PIXEL


def validate_photo(upload: IO[bytes]) -> None:
    """Raise a ValidationError with a message a citizen understands unless `upload` is a
    complete JPEG, PNG or WebP within the size, pixel and decoding-memory limits.

    Runs in the web process, so it decodes no pixels (that is the worker's work, and it
    was most of a photo submission's time: 3 MB of JPEG take longer to decode, even at an
    eighth of the size, than the rest of the request): it checks a JPEG's structure (its
    segments and scans, up to the end marker), a PNG's chunks (lengths, checksums, the end
    marker) and a WebP's container length, which is what a cut-off upload breaks. A file
    broken beyond that fails in the worker, which marks the photo failed."""
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
                # A JPEG's markers are read once for both checks (3 MB of regex scanning).
                jpeg = _jpeg_structure(upload) if image.format in ("JPEG", "MPO") else None
                if jpeg is not None and jpeg.scans > MAX_JPEG_SCANS:
                    raise ValidationError(
                        f"The photo is a JPEG of {jpeg.scans} scans; at most {MAX_JPEG_SCANS} "
                        "are accepted. Save it again as a standard JPEG.",
                        code="too_many_scans",
                    )
                _check_decode_cost(image, upload, jpeg)
                _check_complete(image, upload, size, jpeg)
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValidationError(
            "The photo has too many pixels to be accepted.", code="too_many_pixels"
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ValidationError(
            "The file is not a readable image (JPEG, PNG or WebP).", code="invalid_image"
        ) from exc
    finally:
        upload.seek(0)


def _check_decode_cost(image: Image.Image, upload: IO[bytes], jpeg: JpegStructure | None) -> None:
    cost = decode_cost(image, upload, jpeg=jpeg)
    if cost <= decode_budget():
        return
    width, height = image.size
    accepted = width * height * decode_budget() / cost / 1_000_000
    fmt = image.format or ""
    kind = "progressive JPEG" if fmt in ("JPEG", "MPO") else ALLOWED_FORMATS.get(fmt, fmt)
    raise ValidationError(
        f"The photo is {width}×{height} pixels, too large to process as a {kind}; such files "
        f"are accepted up to about {accepted:.0f} megapixels. Save it as a standard JPEG, or "
        "make it smaller.",
        code="too_many_pixels",
    )


def decode_cost(image: Image.Image, source: IO[bytes], *, jpeg: JpegStructure | None = None) -> int:
    """The memory (bytes) that decoding `image`, opened from `source`, takes at its peak,
    not counting the small web-size result.

    A sequential JPEG is decoded at reduced size (libjpeg scales while it decodes), which
    costs little; a progressive or multi-scan JPEG needs all its DCT coefficients in memory
    first (2 bytes per coefficient, per component at its own resolution), and so does one
    whose only scan carries fewer components than the frame (libjpeg buffers it as if more
    scans were to come). A PNG is decoded in full once; a WebP about WEBP_COPIES times.
    `jpeg`: the JPEG's structure when the caller has read it already."""
    width, height = image.size
    if image.format in ("JPEG", "MPO"):
        if jpeg is None:
            jpeg = _jpeg_structure(source)
        layers = getattr(image, "layer", [])
        whole_scan = jpeg.first_scan_components >= len(layers)
        if not (image.info.get("progressive") or jpeg.scans > 1 or not whole_scan):
            return 0
        # libjpeg keeps 64 coefficients of 2 bytes per 8x8 block of each component, with the
        # blocks rounded up to whole MCUs (minimum coded units).
        h_max = max((layer[1] for layer in layers), default=1)
        v_max = max((layer[2] for layer in layers), default=1)
        mcus_across, mcus_down = -(-width // (8 * h_max)), -(-height // (8 * v_max))
        return sum(128 * mcus_across * h * mcus_down * v for _, h, v, _ in layers)
    copies = WEBP_COPIES if image.format == "WEBP" else 1
    return copies * width * height * BYTES_PER_PIXEL


def _jpeg_scans(source: IO[bytes]) -> int:
    """How many scans (SOS segments) the first image of a JPEG file has."""
    return _jpeg_structure(source).scans


def _jpeg_structure(source: IO[bytes]) -> JpegStructure:
    """The scans of the first image of a JPEG file, whether it ends (EOI), and how many
    components its first scan carries."""
    source.seek(0)
    data = source.read(settings.PHOTO_MAX_BYTES)
    source.seek(0)
    scans, first, pos = 0, 0, 2
    while (match := _JPEG_MARKER.search(data, pos)) is not None:
        marker, pos = data[match.start() + 1], match.start() + 2
        if marker == 0xFF:  # fill byte before a marker
            pos -= 1
            continue
        if marker == 0xD9:  # end of image: what follows (an MPO's other frames) is not it
            return JpegStructure(scans, True, first)
        if marker == 0xDA:
            scans += 1
            if scans == 1 and pos + 2 < len(data):
                first = data[pos + 2]  # after the segment's length: its component count
        if marker not in (0xD8, 0x01) and pos + 2 <= len(data):
            pos += int.from_bytes(data[pos : pos + 2], "big")  # skip the segment
    return JpegStructure(scans, False, first)


def _check_complete(
    image: Image.Image, upload: IO[bytes], size: int, jpeg: JpegStructure | None
) -> None:
    """Fail unless the file is whole, without decoding its pixels. `jpeg`: a JPEG's
    structure from _jpeg_structure."""
    if jpeg is not None:
        # Every segment and at least one scan present, up to the end marker.
        if not (jpeg.scans and jpeg.ends):
            raise ValueError("The JPEG file is truncated.")
    elif image.format == "PNG":
        image.verify()  # every chunk's length and checksum, up to IEND
    else:
        upload.seek(4)
        riff_size = int.from_bytes(upload.read(4), "little")
        if riff_size + 8 > size:
            raise ValueError("The WebP file is truncated.")


def render_versions(source: IO[bytes]) -> tuple[ContentFile, ContentFile, tuple[int, int]]:
    """Re-encode `source` upright and with nothing but its pixels (no EXIF, GPS, comment,
    XMP, IPTC, ICC profile or maker data): a web-size JPEG and a thumbnail.

    Memory stays near one full-size decode (see `decode_cost`): a JPEG is decoded already
    reduced; any other image is flattened onto white and reduced band by band into a copy
    about the web size, and only that copy is resized, turned upright and thumbnailed. A
    file over the decoding budget is refused with ValueError (the limits may have been
    lowered since its upload)."""
    with Image.open(source) as opened:
        if decode_cost(opened, source) > decode_budget():
            raise ValueError(f"{opened.size[0]}x{opened.size[1]} is over the decoding budget.")
        web = _decode_reduced(opened, WEB_SIZE)
        orientation = opened.getexif().get(_ORIENTATION)
        if web is not opened:
            opened.close()  # let go of the full-size pixels before resizing
        web.thumbnail((WEB_SIZE, WEB_SIZE), Image.Resampling.LANCZOS)
        if orientation in _UPRIGHT:
            web = web.transpose(_UPRIGHT[orientation])
        thumb = web.copy()
        thumb.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
        return _jpeg(web, quality=85), _jpeg(thumb, quality=80), web.size


def _decode_reduced(image: Image.Image, target: int) -> Image.Image:
    """Decode `image` into RGB (pixels only, on white where it was transparent) with its
    longest side at least about `target` (or its full size if that is smaller): a JPEG is
    scaled by libjpeg while it decodes, anything else is reduced band by band. An RGB image
    that needs no reducing is returned itself rather than copied."""
    width, height = image.size
    if image.format in ("JPEG", "MPO"):
        # libjpeg scales by 1/2, 1/4 or 1/8. Allow a result a little under the target (a
        # 6324-pixel side gives 1581, not 3162) rather than decode four times the pixels.
        scale = next(s for s in (8, 4, 2, 1) if max(width, height) / s >= 0.98 * target or s == 1)
        image.draft("RGB", (max(1, width // scale), max(1, height // scale)))
    image.load()
    width, height = image.size
    factor = max(1, max(width, height) // target)
    if factor == 1 and image.mode == "RGB" and "transparency" not in image.info:
        return image
    reduced = Image.new("RGB", (-(-width // factor), -(-height // factor)), "white")
    rows = max(1, _BAND_ROWS // factor) * factor
    for top in range(0, height, rows):
        band = _flattened(image.crop((0, top, width, min(height, top + rows))))
        reduced.paste(band.reduce(factor) if factor > 1 else band, (0, top // factor))
    return reduced


def _flattened(band: Image.Image) -> Image.Image:
    """One band as RGB: transparency onto white, 16-bit and float grey scaled to 8 bits."""
    if band.mode == "RGB" and "transparency" not in band.info:
        return band
    if band.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        return band.convert("I").point(lambda value: value * (1 / 256)).convert("RGB")
    if "A" in band.mode or "a" in band.mode or "transparency" in band.info:
        rgba = band.convert("RGBA")
        white = Image.new("RGB", rgba.size, "white")
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return band.convert("RGB")


def _jpeg(image: Image.Image, *, quality: int) -> ContentFile:
    buffer = io.BytesIO()
    # Only pixels: Pillow would write a comment (and more) kept in `info` from the source.
    image.info.clear()
    image.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True)
    return ContentFile(buffer.getvalue())


def photo_process(*, photo: Photo) -> Photo:
    """Make the processed versions of a photo, under random names, in the public folders if
    the photo and its report are public, else under hidden/. Idempotent: a processed photo
    is left alone.

    A file that cannot be decoded, or whose original is gone, is marked failed (retrying
    would not help); any other OSError from storage propagates so that the task retries."""
    if photo.state == Photo.State.PROCESSED:
        return photo
    try:
        # Read first (at most PHOTO_MAX_BYTES), so that an OSError while decoding can only
        # mean a broken file, never a storage hiccup worth retrying.
        with photo.original.open("rb") as source:
            data = source.read()
    except FileNotFoundError as exc:
        return photo_mark_failed(photo=photo, reason=str(exc))
    try:
        web, thumb, (width, height) = render_versions(io.BytesIO(data))
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        return photo_mark_failed(photo=photo, reason=str(exc))
    del data
    with transaction.atomic():
        # Photo, then report: the order moderation locks them in. A report hidden before
        # this commits is seen here; one hidden after finds the photo processed and moves
        # its files itself.
        photo.refresh_from_db(from_queryset=Photo.objects.select_for_update())
        if photo.state != Photo.State.PENDING:
            return photo  # processed meanwhile by another run
        report = (
            ServiceRequest.objects.select_for_update()
            .only("hidden", "published_at")
            .get(pk=photo.request_id)
        )
        public = not (photo.hidden or report.hidden) and not (
            photo.comment_id and Comment.objects.filter(pk=photo.comment_id, hidden=True).exists()
        )
        storage = photo.image.storage
        photo.image.name = storage.save(_placed(_random_name(IMAGE_FOLDER), public=public), web)
        photo.thumbnail.name = storage.save(
            _placed(_random_name(THUMBNAIL_FOLDER), public=public), thumb
        )
        photo.width, photo.height = width, height
        photo.state = Photo.State.PROCESSED
        photo.save(update_fields=["image", "thumbnail", "width", "height", "state"])
        # The report's media_url and photos change: a client syncing by updated_after
        # must see it again.
        report_touch(report, timezone.now())
    return photo


def photo_files_sync(*, photo_id: int) -> Photo | None:
    """Put a processed photo's files where its visibility says: in the public folders while
    the photo, its report and its comment (if any) are public, under hidden/ otherwise,
    where no web server looks.

    Idempotent, and it finishes a move that was interrupted (the file already moved, the
    row not yet). Moderation calls it after each commit that hides or shows a photo or a
    report; the sweeper calls it for photos whose move failed. The stored names change only
    once the file has moved, so a failed move stays visible to `Photo.objects.misplaced()`."""
    with transaction.atomic():
        photo = (
            Photo.objects.select_for_update(of=("self",))
            .select_related("request", "comment")
            .filter(pk=photo_id)
            .first()
        )
        if photo is None or photo.state != Photo.State.PROCESSED:
            return photo
        public = not (
            photo.hidden or photo.request.hidden or (photo.comment and photo.comment.hidden)
        )
        moved = [
            field.field.name
            for field in (photo.image, photo.thumbnail)
            if field.name and _place(field, public=public)
        ]
        if moved:
            photo.save(update_fields=moved)
    return photo


def photo_files_sync_on_commit(
    *, photo_id: int | None = None, report_id: int | None = None
) -> None:
    """Once the current transaction commits, sync the files of one photo, or of every photo
    of a report. It runs in the request, not as a task: a photo must stop being served at
    once, broker or not. A failed move is logged and left to the sweeper (robust), never
    a failed request."""

    def sync_photo_files() -> None:
        if photo_id is not None:
            photo_files_sync(photo_id=photo_id)
        if report_id is not None:
            report_photo_files_sync(report_id=report_id)

    transaction.on_commit(sync_photo_files, robust=True)


class PhotoFiles(Protocol):
    """A row with the pipeline's three files: a report's photo, or a care visit's."""

    @property
    def original(self) -> FieldFile: ...
    @property
    def image(self) -> FieldFile: ...
    @property
    def thumbnail(self) -> FieldFile: ...


def photo_files_delete_on_commit(photos: Iterable[PhotoFiles]) -> None:
    """Once the current transaction (which deletes these photos' rows) commits, delete their
    files: the original, and the image and thumbnail in the public folders and under
    hidden/ alike (an interrupted move may have left a copy in either). A file that cannot
    be deleted is logged; the others go all the same."""
    names: set[tuple[Storage, str]] = set()
    for photo in photos:
        if photo.original.name:
            names.add((photo.original.storage, photo.original.name))
        for field in (photo.image, photo.thumbnail):
            if field.name:
                names.update(
                    (field.storage, _placed(field.name, public=public)) for public in (True, False)
                )

    def delete_files() -> None:
        for storage, name in sorted(names, key=lambda pair: pair[1]):
            try:
                storage.delete(name)
            except OSError:
                logger.warning("Photo file %s could not be deleted", name, exc_info=True)

    transaction.on_commit(delete_files, robust=True)


def report_photo_files_sync(*, report_id: int) -> None:
    """`photo_files_sync` for every processed photo of a report (hidden or shown again)."""
    photo_ids = Photo.objects.filter(request_id=report_id, state=Photo.State.PROCESSED)
    for photo_id in photo_ids.values_list("pk", flat=True):
        photo_files_sync(photo_id=photo_id)


def photos_files_sync_misplaced() -> int:
    """Move the files of every photo a failed move left in the wrong place; returns how many
    photos are now in place. One that fails again is logged and tried on the next sweep."""
    done = 0
    for photo_id in Photo.objects.misplaced().values_list("pk", flat=True):
        try:
            photo_files_sync(photo_id=photo_id)
        except OSError:
            logger.warning("Photo %s: its files could not be moved", photo_id, exc_info=True)
        else:
            done += 1
    return done


def processed_name(folder: str, *, public: bool) -> str:
    """A new random name for a processed file in `folder` (IMAGE_FOLDER or
    THUMBNAIL_FOLDER), under hidden/ unless `public`. Other apps' photos (care visits) are
    named the same way."""
    return _placed(_random_name(folder), public=public)


def file_place(field: FieldFile, *, public: bool) -> bool:
    """Move one processed file into the public folders or under hidden/; True if its stored
    name changed (the caller saves the row)."""
    return _place(field, public=public)


def _random_name(folder: str) -> str:
    return f"{folder}/{secrets.token_urlsafe(16)}.jpg"


def _placed(name: str, *, public: bool) -> str:
    """`name` in the public folders, or under hidden/."""
    bare = name.removeprefix(f"{HIDDEN_FOLDER}/")
    return bare if public else f"{HIDDEN_FOLDER}/{bare}"


def _place(field: FieldFile, *, public: bool) -> bool:
    """Move one file where it belongs; True if its stored name must change."""
    name = field.name or ""
    storage, target = field.storage, _placed(name, public=public)
    other = _placed(name, public=not public)
    if storage.exists(other):
        if storage.exists(target):
            storage.delete(other)  # a copy left by an interrupted move
        else:
            _move(storage, other, target)
    elif not storage.exists(target):
        logger.warning("Photo file %s is missing", name)
    if name == target:
        return False
    field.name = target
    return True


def _move(storage: Storage, source: str, target: str) -> None:
    try:
        source_path, target_path = Path(storage.path(source)), Path(storage.path(target))
    except NotImplementedError:  # a storage without local paths: copy, then delete
        with storage.open(source, "rb") as content:
            storage.save(target, content)
        storage.delete(source)
        return
    target_path.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source_path, target_path)


def photo_mark_failed(*, photo: Photo, reason: str) -> Photo:
    """Give up on a photo: it stays off public pages, and the sweeper stops trying it."""
    logger.warning("Photo %s could not be processed: %s", photo.pk, reason)
    photo.state = Photo.State.FAILED
    photo.save(update_fields=["state"])
    return photo
