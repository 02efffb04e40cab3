from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from reports.models import Photo, RequestUpdate, ServiceRequest, Subscription
from reports.photos import photo_process
from reports.services.requests import report_create
from reports.tasks import process_request_photos
from tests.factories import (
    CITY_CENTRE,
    AttributeValueFactory,
    BoundaryFactory,
    DepartmentFactory,
    RoutingRuleFactory,
    ServiceAttributeFactory,
    ServiceFactory,
    huge_png,
    image_bytes,
    image_upload,
    square,
)

pytestmark = pytest.mark.django_db

LAT, LNG = CITY_CENTRE


def jpeg_with_gps_and_rotation() -> SimpleUploadedFile:
    image = Image.new("RGB", (80, 40), "red")
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x010F] = "SecretCam"  # Make
    gps = exif.get_ifd(0x8825)
    gps[2] = (35.0, 46.0, 46.0)  # GPSLatitude
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return SimpleUploadedFile("gps.jpg", buffer.getvalue(), content_type="image/jpeg")


def test_create_saves_routes_and_starts_timeline(django_capture_on_commit_callbacks):
    service = ServiceFactory(sla_hours=48)
    with django_capture_on_commit_callbacks(execute=True):
        request = report_create(
            service=service,
            description="Syringe on the playground bench.",
            lat=LAT,
            long=LNG,
            photos=[image_upload()],
            reporter_email="Someone@Example.org",
        )
    request.refresh_from_db()
    assert request.status == "open" and request.state == "new"
    assert request.department == service.department
    assert (request.expected_datetime - request.requested_datetime).total_seconds() == 48 * 3600
    kinds = list(request.updates.values_list("kind", "public"))
    assert kinds == [(RequestUpdate.Kind.CREATED, True), (RequestUpdate.Kind.ROUTED, False)]
    assert Subscription.objects.get(request=request).email == "someone@example.org"
    photo = request.photos.get()
    assert photo.state == Photo.State.PROCESSED  # in-process task ran after commit
    assert photo.thumbnail.name and photo.image.name


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"lat": 10.0, "long": 10.0}, "location"),
        ({"lat": None, "long": None}, "location"),
        ({"lat": LAT, "long": None}, "location"),
        ({"description": "x" * 4001}, "description"),
    ],
)
def test_create_rejects_bad_input_and_stores_nothing(kwargs, field):
    args = {"service": ServiceFactory(), "description": "Broken light", "lat": LAT, "long": LNG}
    args.update(kwargs)
    with pytest.raises(ValidationError) as excinfo:
        report_create(**args)
    assert field in excinfo.value.message_dict
    assert ServiceRequest.objects.count() == 0


def test_create_rejects_inactive_service():
    with pytest.raises(ValidationError):
        report_create(service=ServiceFactory(active=False), description="x", lat=LAT, long=LNG)
    assert ServiceRequest.objects.count() == 0


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("report.jpg", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n"),
            "not a readable image",
        ),
        (SimpleUploadedFile("cut.jpg", image_bytes(size=(400, 300))[:600]), "not a readable"),
        (SimpleUploadedFile("anim.gif", image_bytes("GIF")), "JPEG, PNG or WebP"),
        (SimpleUploadedFile("empty.jpg", b""), "empty"),
    ],
)
def test_create_rejects_bad_photos_and_stores_nothing(upload, message):
    with pytest.raises(ValidationError) as excinfo:
        report_create(
            service=ServiceFactory(), description="Pothole", lat=LAT, long=LNG, photos=[upload]
        )
    assert message in " ".join(excinfo.value.message_dict["photos"])
    assert ServiceRequest.objects.count() == 0
    assert Photo.objects.count() == 0


def test_create_rejects_huge_png_by_pixels():
    # 20,000 × 20,000 pixels of one colour compresses to a small file: only the pixel
    # count gives it away, and it must be caught before it is decoded.
    upload = SimpleUploadedFile("huge.png", huge_png())
    with pytest.raises(ValidationError) as excinfo:
        report_create(
            service=ServiceFactory(), description="Pothole", lat=LAT, long=LNG, photos=[upload]
        )
    assert "pixels" in " ".join(excinfo.value.message_dict["photos"])
    assert ServiceRequest.objects.count() == 0


def test_create_rejects_photo_over_size_limit(settings):
    settings.PHOTO_MAX_BYTES = 100
    upload = SimpleUploadedFile("big.png", image_bytes("PNG", size=(300, 300)))
    with pytest.raises(ValidationError) as excinfo:
        report_create(
            service=ServiceFactory(), description="Pothole", lat=LAT, long=LNG, photos=[upload]
        )
    assert "larger than" in " ".join(excinfo.value.message_dict["photos"])


def test_photo_processing_strips_exif_and_applies_orientation(django_capture_on_commit_callbacks):
    request = report_create(
        service=ServiceFactory(),
        description="Graffiti",
        lat=LAT,
        long=LNG,
        photos=[jpeg_with_gps_and_rotation()],
    )
    photo = request.photos.get()
    assert photo.state == Photo.State.PENDING
    assert process_request_photos(request.pk) == 1
    photo.refresh_from_db()
    assert photo.state == Photo.State.PROCESSED
    for field in (photo.image, photo.thumbnail):
        with field.open("rb") as f, Image.open(f) as processed:
            assert not processed.getexif()
            assert "exif" not in processed.info
            assert processed.width < processed.height  # 80×40 turned upright: 40×80
    with photo.image.open("rb") as f:
        assert b"SecretCam" not in f.read()
    # Idempotent: a second run neither fails nor rewrites.
    name = photo.image.name
    assert process_request_photos(request.pk) == 0
    photo_process(photo=photo)
    photo.refresh_from_db()
    assert photo.image.name == name


def test_create_with_attributes_validates_them():
    service = ServiceFactory()
    size = ServiceAttributeFactory(
        service=service, code="size", datatype="singlevaluelist", required=True
    )
    AttributeValueFactory(attribute=size, key="small")
    AttributeValueFactory(attribute=size, key="large")
    with pytest.raises(ValidationError) as excinfo:
        report_create(
            service=service, description="Hole", lat=LAT, long=LNG, attributes={"size": ["huge"]}
        )
    assert "not one of the allowed keys" in str(excinfo.value)
    with pytest.raises(ValidationError):
        report_create(service=service, description="Hole", lat=LAT, long=LNG)
    with pytest.raises(ValidationError) as excinfo:
        report_create(
            service=service,
            description="Hole",
            lat=LAT,
            long=LNG,
            attributes={"size": ["small"], "colour": ["red"]},
        )
    assert "Unknown attribute colour" in str(excinfo.value)
    request = report_create(
        service=service, description="Hole", lat=LAT, long=LNG, attributes={"size": ["large"]}
    )
    assert request.attributes == {"size": "large"}


def test_datetime_attribute_must_carry_a_time_zone():
    service = ServiceFactory()
    ServiceAttributeFactory(service=service, code="seen", datatype="datetime", required=True)
    report = {"service": service, "description": "Hole", "lat": LAT, "long": LNG}

    for bad in ("2026-05-01T14:30:00", "yesterday"):
        with pytest.raises(ValidationError) as excinfo:
            report_create(**report, attributes={"seen": [bad]})
        assert "Attribute seen" in str(excinfo.value)
    # An unescaped "+" in a form body arrives as a space, as in the query string's dates.
    request = report_create(**report, attributes={"seen": ["2026-05-01T14:30:00 05:00"]})

    assert request.attributes == {"seen": "2026-05-01T14:30:00+05:00"}
    assert ServiceRequest.objects.count() == 1


def test_create_routes_by_area_rule():
    service = ServiceFactory()
    health = DepartmentFactory(name="Health")
    downtown = BoundaryFactory(geometry=square(LAT - 0.01, LNG - 0.01, LAT + 0.01, LNG + 0.01))
    RoutingRuleFactory(service=service, boundary=downtown, department=health)
    inside = report_create(service=service, description="Needle", lat=LAT, long=LNG)
    outside = report_create(service=service, description="Needle", lat=LAT + 0.05, long=LNG)
    assert inside.department == health and inside.area == downtown
    assert outside.department == service.department and outside.area is None


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_are_accepted_and_reencoded_as_jpeg(fmt):
    upload = SimpleUploadedFile(f"photo.{fmt.lower()}", image_bytes(fmt, size=(120, 90)))
    request = report_create(
        service=ServiceFactory(), description="Sidewalk", lat=LAT, long=LNG, photos=[upload]
    )
    process_request_photos(request.pk)
    photo = request.photos.get()
    with photo.image.open("rb") as f, Image.open(f) as processed:
        assert processed.format == "JPEG" and processed.size == (120, 90)


def test_transparent_png_gets_a_white_background():
    buffer = io.BytesIO()
    Image.new("RGBA", (50, 50), (255, 0, 0, 0)).save(buffer, "PNG")
    request = report_create(
        service=ServiceFactory(),
        description="Sign",
        lat=LAT,
        long=LNG,
        photos=[SimpleUploadedFile("clear.png", buffer.getvalue())],
    )
    process_request_photos(request.pk)
    with request.photos.get().thumbnail.open("rb") as f, Image.open(f) as thumb:
        assert thumb.getpixel((25, 25))[0] > 240 and thumb.getpixel((25, 25))[1] > 240


def test_pixel_limit_is_a_setting(settings):
    settings.PHOTO_MAX_PIXELS = 1000
    with pytest.raises(ValidationError) as excinfo:
        report_create(
            service=ServiceFactory(),
            description="Pothole",
            lat=LAT,
            long=LNG,
            photos=[image_upload(size=(64, 48))],
        )
    assert "64×48 pixels" in " ".join(excinfo.value.message_dict["photos"])


def test_large_photo_is_scaled_to_web_size_and_thumbnail():
    request = report_create(
        service=ServiceFactory(),
        description="Tree",
        lat=LAT,
        long=LNG,
        photos=[image_upload(size=(3000, 2000))],
    )
    process_request_photos(request.pk)
    photo = request.photos.get()
    assert (photo.width, photo.height) == (1600, 1067)
    with photo.thumbnail.open("rb") as f, Image.open(f) as thumb:
        assert max(thumb.size) == 400


def test_more_than_three_photos_are_refused():
    with pytest.raises(ValidationError) as excinfo:
        report_create(
            service=ServiceFactory(),
            description="Pothole",
            lat=LAT,
            long=LNG,
            photos=[image_upload() for _ in range(4)],
        )
    assert "At most 3 photos" in " ".join(excinfo.value.message_dict["photos"])
    assert ServiceRequest.objects.count() == 0


def test_photo_limit_is_the_setting_for_every_channel(settings):
    settings.PHOTO_MAX_PER_REPORT = 1
    with pytest.raises(ValidationError) as excinfo:
        report_create(
            service=ServiceFactory(),
            description="Pothole",
            lat=LAT,
            long=LNG,
            photos=[image_upload() for _ in range(2)],
        )
    assert "At most 1 photo per report" in " ".join(excinfo.value.message_dict["photos"])


def test_create_tells_the_department_unless_told_not_to(
    mailoutbox, django_capture_on_commit_callbacks
):
    service = ServiceFactory()
    with django_capture_on_commit_callbacks(execute=True):
        report_create(service=service, description="Light out", lat=LAT, long=LNG)
    assert [m.to for m in mailoutbox] == [[service.department.email]]
    with django_capture_on_commit_callbacks(execute=True):
        report_create(service=service, description="Old report", lat=LAT, long=LNG, notify=False)
    assert len(mailoutbox) == 1


def test_phone_jpeg_in_mpo_format_is_accepted():
    # Many phones write JPEGs with extra frames appended (Pillow calls them MPO).
    first, second = Image.new("RGB", (60, 40), "blue"), Image.new("RGB", (30, 20), "red")
    buffer = io.BytesIO()
    first.save(buffer, "MPO", save_all=True, append_images=[second])
    with Image.open(io.BytesIO(buffer.getvalue())) as check:
        assert check.format == "MPO"
    request = report_create(
        service=ServiceFactory(),
        description="Pothole",
        lat=LAT,
        long=LNG,
        photos=[SimpleUploadedFile("IMG_0001.JPG", buffer.getvalue(), "image/jpeg")],
    )
    process_request_photos(request.pk)
    photo = request.photos.get()
    assert photo.state == Photo.State.PROCESSED and (photo.width, photo.height) == (60, 40)
