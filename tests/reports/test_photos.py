"""Photo files: only pixels survive re-encoding, decoding stays within its memory budget, and
the upload checks never decode a photo at full size."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageCms, ImageFile, PngImagePlugin

from reports import photos
from reports.photos import decode_cost, render_versions, validate_photo

SECRETS = (b"<script>", b"SecretCam", b"GPS", b"xmpmeta", b"Photoshop", b"MakerNote", b"ICC")


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x927C] = b"MakerNote secret"  # MakerNote
    exif.get_ifd(0x8825)[2] = (35.0, 46.0, 46.0)  # GPSLatitude
    return exif


XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><secret>GPS 35.77</secret></x:xmpmeta>'
ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def jpeg_with_everything() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(
        buffer,
        "JPEG",
        exif=_exif(),
        comment=b"<script>alert(1)</script>",
        xmp=XMP,
        icc_profile=ICC + b"ICC",
    )
    data = buffer.getvalue()
    # IPTC (APP13) and a vendor's maker segment (APP11), inserted after SOI.
    extra = _segment(0xED, b"Photoshop 3.0\x00IPTC secret") + _segment(0xEB, b"MakerNote x")
    return data[:2] + extra + data[2:]


def png_with_everything() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>")
    info.add_text("Software", "SecretCam", zip=True)
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    buffer = io.BytesIO()
    Image.new("RGBA", (64, 48), "orange").save(
        buffer, "PNG", pnginfo=info, exif=_exif(), icc_profile=ICC + b"ICC"
    )
    return buffer.getvalue()


def webp_with_everything() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(
        buffer, "WEBP", exif=_exif(), xmp=XMP, icc_profile=ICC + b"ICC"
    )
    return buffer.getvalue()


def jpeg_markers(data: bytes) -> list[int]:
    """The markers of a JPEG's header segments, up to the first scan."""
    markers, pos = [], 2
    while data[pos] == 0xFF and data[pos + 1] != 0xDA:
        markers.append(data[pos + 1])
        pos += 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]
    return markers


@pytest.mark.parametrize("make", [jpeg_with_everything, png_with_everything, webp_with_everything])
def test_reencoded_photos_keep_only_pixels(make):
    source = make()
    assert any(secret in source for secret in SECRETS)
    web, thumb, _ = render_versions(io.BytesIO(source))
    for output in (web.read(), thumb.read()):
        # JFIF header, tables, frame: no COM (0xFE) and no APP1..APP15 (EXIF, XMP, ICC,
        # IPTC, maker data).
        assert set(jpeg_markers(output)) <= {0xE0, 0xDB, 0xC4, 0xC0, 0xC2, 0xDD}
        for secret in SECRETS:
            assert secret not in output
        with Image.open(io.BytesIO(output)) as image:
            assert set(image.info) <= {
                "jfif",
                "jfif_version",
                "jfif_unit",
                "jfif_density",
                "progressive",
                "progression",
                "dpi",
            }


def _image(mode: str, size: tuple[int, int], color) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("mode", "color", "expected"),
    [
        ("RGBA", (0, 0, 255, 0), (255, 255, 255)),  # transparent: white
        ("RGBA", (0, 0, 255, 255), (0, 0, 255)),
        ("LA", (0, 0), (255, 255, 255)),
        ("L", 0, (0, 0, 0)),
        ("I;16", 65535, (255, 255, 255)),  # 16-bit grey scaled to 8 bits, not clipped
        ("I;16", 32768, (128, 128, 128)),
        ("1", 1, (255, 255, 255)),
    ],
)
def test_every_mode_is_flattened_to_rgb(mode, color, expected):
    web, _, _ = render_versions(io.BytesIO(_image(mode, (40, 30), color)))
    with Image.open(web) as image:
        assert image.mode == "RGB"
        assert all(abs(a - b) <= 2 for a, b in zip(image.getpixel((20, 15)), expected, strict=True))


def test_transparent_palette_png_gets_white_background():
    image = Image.new("P", (40, 30), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", transparency=1)
    web, _, _ = render_versions(io.BytesIO(buffer.getvalue()))
    with Image.open(web) as result:
        assert result.getpixel((5, 5)) == (255, 255, 255)


def test_large_image_is_reduced_band_by_band_without_seams(monkeypatch):
    """Reducing in bands (here 7 rows, not a multiple of the factor's blocks) gives the same
    image as reducing at once: each band starts on a block boundary."""
    monkeypatch.setattr(photos, "_BAND_ROWS", 7)
    source = Image.linear_gradient("L").resize((300, 203)).convert("RGB")
    buffer = io.BytesIO()
    source.save(buffer, "PNG")
    with Image.open(io.BytesIO(buffer.getvalue())) as opened:
        reduced = photos._decode_reduced(opened, 50)
    assert reduced.size == (50, 34)  # factor 6, rounded up
    assert reduced.tobytes() == source.reduce(6).tobytes()


def test_orientation_is_applied_after_reducing():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    image = Image.new("RGB", (80, 40), "red")
    image.paste((0, 0, 255), (0, 0, 40, 40))  # left half blue
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, quality=95)
    web, _, size = render_versions(io.BytesIO(buffer.getvalue()))
    assert size == (40, 80)
    with Image.open(web) as result:
        top = result.getpixel((20, 10))
        assert top[2] > 200 and top[0] < 60  # the left half is now on top


def _upload(data: bytes, name: str = "p.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def _jpeg(size: tuple[int, int], **params) -> bytes:
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize(size).convert("RGB").save(buffer, "JPEG", **params)
    return buffer.getvalue()


def test_decode_cost_of_sequential_jpeg_is_small_and_progressive_counts_coefficients():
    baseline = _jpeg((160, 120), subsampling=0)
    progressive = _jpeg((160, 120), subsampling=0, progressive=True)
    subsampled = _jpeg((160, 120), subsampling=2, progressive=True)
    with Image.open(io.BytesIO(baseline)) as image:
        assert decode_cost(image, io.BytesIO(baseline)) == 0
    with Image.open(io.BytesIO(progressive)) as image:
        # 3 full-resolution components, 64 coefficients of 2 bytes per 8x8 block
        assert (
            decode_cost(image, io.BytesIO(progressive)) == 3 * 20 * 15 * 128
        )  # 160x120 is 20x15 blocks
    with Image.open(io.BytesIO(subsampled)) as image:
        # 4:2:0: luma in full, the two chroma components at a quarter
        assert (
            decode_cost(image, io.BytesIO(subsampled)) == (20 * 16 + 2 * 10 * 8) * 128
        )  # 15 rows of blocks round up to 8 MCUs


def test_multi_scan_sequential_jpeg_counts_as_buffered():
    """A sequential JPEG whose components are in separate scans needs the coefficients as
    much as a progressive one: the scans are counted, not just the frame type."""
    data = _jpeg((64, 48), subsampling=0)
    with Image.open(io.BytesIO(data)) as image:
        assert photos._jpeg_scans(io.BytesIO(data)) == 1
        assert decode_cost(image, io.BytesIO(data)) == 0
    progressive = _jpeg((64, 48), progressive=True)
    assert photos._jpeg_scans(io.BytesIO(progressive)) > 1


def test_progressive_jpeg_over_the_budget_is_refused_with_advice(settings):
    settings.PHOTO_MAX_PIXELS = 200 * 150  # budget: 4 bytes per pixel = 120 kB
    validate_photo(_upload(_jpeg((200, 150), subsampling=0)))  # sequential: fine
    validate_photo(_upload(_jpeg((200, 150), subsampling=2, progressive=True)))  # 3 B/px
    with pytest.raises(ValidationError) as refused:
        validate_photo(_upload(_jpeg((200, 150), subsampling=0, progressive=True)))  # 6 B/px
    assert refused.value.code == "too_many_pixels"
    assert "progressive JPEG" in refused.value.messages[0]
    assert "standard JPEG" in refused.value.messages[0]


def test_webp_is_accepted_up_to_its_share_of_the_budget(settings):
    settings.PHOTO_MAX_PIXELS = 200 * 200
    small, large = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (100, 100), "red").save(small, "WEBP")
    Image.new("RGB", (101, 100), "red").save(large, "WEBP")
    validate_photo(_upload(small.getvalue(), "s.webp"))
    with pytest.raises(ValidationError) as refused:
        validate_photo(_upload(large.getvalue(), "l.webp"))
    assert refused.value.code == "too_many_pixels"


def test_worker_refuses_a_file_over_the_budget(settings):
    data = _jpeg((200, 150), subsampling=0, progressive=True)
    settings.PHOTO_MAX_PIXELS = 100 * 100
    with pytest.raises(ValueError, match="decoding budget"):
        render_versions(io.BytesIO(data))


@pytest.mark.parametrize(
    ("fmt", "params"),
    [("PNG", {}), ("WEBP", {}), ("JPEG", {}), ("JPEG", {"progressive": True})],
)
def test_truncated_files_are_refused_without_full_decoding(fmt, params):
    buffer = io.BytesIO()
    Image.effect_noise((300, 200), 64).convert("RGB").save(buffer, fmt, **params)
    data = buffer.getvalue()
    with pytest.raises(ValidationError) as refused:
        validate_photo(_upload(data[: len(data) * 2 // 3], f"cut.{fmt.lower()}"))
    assert refused.value.code == "invalid_image"


@pytest.mark.parametrize("progressive", [False, True])
def test_checking_a_jpeg_decodes_no_pixels(monkeypatch, progressive):
    """Decoding is the worker's: the web process checks the JPEG's structure only."""
    upload = _upload(_jpeg((800, 640), progressive=progressive))

    def no_decoding(self):
        pytest.fail("the pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    validate_photo(upload)


def test_a_jpeg_without_its_image_data_is_refused():
    """Its headers, then the end marker: no scan, nothing to decode."""
    data = _jpeg((400, 300))
    headers = data[: data.index(b"\xff\xda")]
    with pytest.raises(ValidationError) as refused:
        validate_photo(_upload(headers + b"\xff\xd9", "empty.jpg"))
    assert refused.value.code == "invalid_image"


@pytest.mark.django_db
def test_a_file_broken_inside_is_marked_failed_at_once_not_retried():
    """A PNG whose chunks are whole (so the upload check passes) but whose pixel data is
    not: the worker fails it at the first attempt instead of retrying it forever."""
    from reports.models import Photo
    from reports.photos import photo_process
    from tests.factories import PhotoFactory

    data = bytearray(_image("RGB", (200, 150), "red"))
    start = data.index(b"IDAT") + 4
    length = int.from_bytes(data[start - 8 : start - 4], "big")
    data[start + 2 : start + length] = b"\x55" * (length - 2)  # keep the zlib header
    crc = zlib.crc32(bytes(data[start - 4 : start + length]))
    data[start + length : start + length + 4] = crc.to_bytes(4, "big")
    validate_photo(_upload(bytes(data), "broken.png"))

    photo = PhotoFactory(original=SimpleUploadedFile("broken.png", bytes(data)))
    photo_process(photo=photo)
    assert photo.state == Photo.State.FAILED


def _one_component_scan(width: int, height: int, components: int) -> bytes:
    """A baseline JPEG whose frame names `components` components and whose only scan
    carries one of them (a grey image's scan under a rewritten frame header)."""
    import struct

    grey = io.BytesIO()
    Image.new("L", (width, height), 128).save(grey, "JPEG", quality=50)
    data, out, pos = grey.getvalue(), bytearray(b"\xff\xd8"), 2
    while True:
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        body = data[pos + 4 : pos + 2 + length]
        if marker == 0xC0:
            precision, h, w, _ = struct.unpack(">BHHB", body[:6])
            parts = b"".join(bytes([i + 1, 0x11, 0]) for i in range(components))
            body = struct.pack(">BHHB", precision, h, w, components) + parts
        out += bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body
        if marker == 0xDA:
            return bytes(out + data[pos + 2 + length :])
        pos += 2 + length


def test_a_single_scan_of_fewer_components_than_the_frame_counts_as_buffered(settings):
    """libjpeg keeps every coefficient of such a file, as for a progressive one."""
    data = _one_component_scan(640, 480, 4)
    with Image.open(io.BytesIO(data)) as image:
        assert decode_cost(image, io.BytesIO(data)) == 4 * 80 * 60 * 128
    settings.PHOTO_MAX_PIXELS = 400 * 300
    with pytest.raises(ValidationError) as refused:
        validate_photo(_upload(data, "cmyk.jpg"))
    assert refused.value.code == "too_many_pixels"


def test_a_jpeg_of_too_many_scans_is_refused():
    progressive = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(progressive, "JPEG", progressive=True)
    data = progressive.getvalue()
    scan = data.index(b"\xff\xda")
    end = data.index(b"\xff\xd9")
    last = data.rindex(b"\xff\xda")
    # The file's last scan, repeated: well formed, and far more scans than any encoder writes.
    repeated = data[:end] + data[last:end] * (photos.MAX_JPEG_SCANS + 1) + data[end:]
    assert photos._jpeg_scans(io.BytesIO(repeated)) > photos.MAX_JPEG_SCANS
    with pytest.raises(ValidationError) as refused:
        validate_photo(_upload(repeated, "scans.jpg"))
    assert refused.value.code == "too_many_scans"
    assert scan < last  # the original has several scans and is accepted
    validate_photo(_upload(data, "fine.jpg"))
