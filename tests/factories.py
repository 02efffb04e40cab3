"""factory_boy factories: one per model, realistic values, nothing random at import time."""

from __future__ import annotations

import io
import struct
import zlib

import factory
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from departments.areasets import area_set_for
from departments.models import Boundary, Department, RoutingRule, StaffMembership
from reports import rules
from reports.models import (
    ApiKey,
    AttributeValue,
    Photo,
    RequestUpdate,
    Service,
    ServiceAttribute,
    ServiceRequest,
    Subscription,
)

CITY_CENTRE = (35.7796, -78.6382)


def image_bytes(
    fmt: str = "JPEG", size: tuple[int, int] = (64, 48), color: str = "orange", **save_kwargs
) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt, **save_kwargs)
    return buffer.getvalue()


def huge_png() -> bytes:
    """A complete, valid 20,000 × 20,000 one-bit PNG (400 megapixels, about 48 kB). Written
    chunk by chunk because having Pillow encode 400 megapixels takes seconds; decoding it as a
    photo would need gigabytes, which is what the upload checks must refuse to do."""
    width = height = 20_000

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\0" * (1 + (width + 7) // 8)  # filter byte + one bit per pixel
    compressor = zlib.compressobj()
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def image_upload(name: str = "photo.jpg", fmt: str = "JPEG", **kwargs) -> SimpleUploadedFile:
    content_type = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}[fmt]
    return SimpleUploadedFile(name, image_bytes(fmt, **kwargs), content_type=content_type)


def area_set_of(area: Boundary | None) -> int | None:
    """The set of areas of a report said to lie in `area`: it, and every area that holds
    it whole (a report in a neighbourhood lies in its district, as in the city)."""
    if area is None:
        return None
    holding = [b.pk for b in Boundary.objects.exclude(pk=area.pk) if covers(b, area)]
    return area_set_for([area.pk, *holding])


def covers(outer: Boundary, inner: Boundary) -> bool:
    return bool(outer.shape.buffer(1e-9).contains(inner.shape))


def square(south: float, west: float, north: float, east: float) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [
            [[west, south], [east, south], [east, north], [west, north], [west, south]]
        ],
    }


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"Department {n}")
    slug = factory.Sequence(lambda n: f"department-{n}")
    email = factory.LazyAttribute(lambda d: f"{d.slug}@city.example.org")


class StaffMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMembership

    user = factory.SubFactory(UserFactory, is_staff=True)
    department = factory.SubFactory(DepartmentFactory)
    role = StaffMembership.Role.AGENT


class BoundaryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Boundary

    name = factory.Sequence(lambda n: f"Area {n}")
    kind = Boundary.Kind.NEIGHBOURHOOD
    geometry = factory.LazyFunction(lambda: square(35.77, -78.65, 35.79, -78.63))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        boundary = model_class(*args, **kwargs)
        boundary.full_clean()  # computes the bounding box
        boundary.save()
        return boundary


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    service_code = factory.Sequence(lambda n: f"service-{n}")
    name = factory.Sequence(lambda n: f"Service {n}")
    description = "A problem in the street."
    group = "Streets"
    department = factory.SubFactory(DepartmentFactory)


class ServiceAttributeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceAttribute

    service = factory.SubFactory(ServiceFactory)
    code = factory.Sequence(lambda n: f"attr{n}")
    datatype = ServiceAttribute.Datatype.STRING
    description = "What else should we know?"


class AttributeValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AttributeValue

    attribute = factory.SubFactory(ServiceAttributeFactory)
    key = factory.Sequence(lambda n: f"key{n}")
    name = factory.Sequence(lambda n: f"Value {n}")


class ServiceRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceRequest

    service = factory.SubFactory(ServiceFactory)
    description = "Deep pothole in the right lane, about 40 cm wide."
    lat = CITY_CENTRE[0]
    long = CITY_CENTRE[1]
    address = "100 Main Street"
    department = factory.LazyAttribute(lambda r: r.service.department)
    requested_datetime = factory.LazyFunction(timezone.now)
    updated_datetime = factory.LazyAttribute(lambda r: r.requested_datetime)
    published_at = factory.LazyAttribute(lambda r: r.requested_datetime)
    # The fields the state implies (reports/rules.py), so a factory row obeys the constraints.
    state = ServiceRequest.State.NEW
    status = factory.LazyAttribute(lambda r: rules.status_for(r.state))
    closed_datetime = factory.LazyAttribute(
        lambda r: r.updated_datetime if rules.status_for(r.state) == "closed" else None
    )
    duplicate_of = factory.LazyAttribute(
        lambda r: (
            ServiceRequestFactory(service=r.service)
            if r.state == ServiceRequest.State.DUPLICATE
            else None
        )
    )
    reporter_name = "Private Person"
    reporter_email = "private.person@example.net"
    reporter_phone = "+1 555 0100"
    device_id = "device-secret-123"
    area = None
    area_set_id = factory.LazyAttribute(lambda r: area_set_of(r.area))


class PhotoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Photo

    request = factory.SubFactory(ServiceRequestFactory)
    original = factory.django.ImageField(filename="original.jpg", format="JPEG")


class RequestUpdateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RequestUpdate

    request = factory.SubFactory(ServiceRequestFactory)
    kind = RequestUpdate.Kind.NOTE
    text = "A crew is scheduled for Tuesday."
    created = factory.LazyFunction(timezone.now)


class SubscriptionFactory(factory.django.DjangoModelFactory):
    """A follower who has confirmed their address (`confirmed_at=None` for one who has not)."""

    class Meta:
        model = Subscription

    request = factory.SubFactory(ServiceRequestFactory)
    email = factory.Sequence(lambda n: f"follower{n}@example.net")
    confirmed_at = factory.LazyFunction(timezone.now)


class RoutingRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingRule

    service = factory.SubFactory(ServiceFactory)
    department = factory.SubFactory(DepartmentFactory)


def api_key_create(name: str = "Greenway app") -> tuple[ApiKey, str]:
    raw = ApiKey.generate_key()
    key = ApiKey.objects.create(name=name, prefix=raw[:8], key_hash=ApiKey.hash_key(raw))
    return key, raw


def put_in_state(
    report: ServiceRequest, state: str, *, master: ServiceRequest | None = None
) -> ServiceRequest:
    """Set a saved report's state directly, the way the rules say (for test set-ups that
    need a state without going through the workflow)."""
    now = timezone.now()
    if master is not None:
        rules.apply_duplicate(report, master.pk, now=now)
    else:
        rules.apply_state(report, state, now=now)
    report.save(update_fields=["state", "status", "closed_datetime", "duplicate_of"])
    return report
