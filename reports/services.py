"""Every write to reports goes through these functions: they validate, save in one
transaction, and queue background work only once the transaction has committed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import IO

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from civic311.geo import validate_point
from departments.routing import route
from reports.attributes import clean_attributes
from reports.models import ApiKey, Photo, RequestUpdate, Service, ServiceRequest, Subscription
from reports.photos import render_versions, validate_photo

logger = logging.getLogger(__name__)

MAX_DESCRIPTION = 4000
MIN_WEB_DESCRIPTION = 10


def queue_after_commit(task: Callable[..., object], *args: object) -> None:
    """Queue `task.delay(*args)` once the current transaction commits.

    A broker outage must not fail a citizen's submission: the report is already saved, so
    the failure is logged and the periodic sweeper picks the work up later."""

    def send() -> None:
        try:
            task.delay(*args)  # type: ignore[attr-defined]
        except BrokerError:
            logger.warning("Broker unreachable; %s%r left for the sweeper", task, args)

    transaction.on_commit(send)


def service_request_create(
    *,
    service: Service,
    description: str,
    lat: float | None = None,
    long: float | None = None,
    address: str = "",
    address_id: str = "",
    zipcode: str = "",
    attributes: Mapping[str, Sequence[str]] | None = None,
    photos: Sequence[UploadedFile | IO[bytes]] = (),
    media_url: str = "",
    source: str = ServiceRequest.Source.WEB,
    api_key: ApiKey | None = None,
    reporter_name: str = "",
    reporter_email: str = "",
    reporter_phone: str = "",
    device_id: str = "",
    account_id: str = "",
    require_description: bool = False,
    requested_datetime: timezone.datetime | None = None,
    notify: bool = True,
) -> ServiceRequest:
    """Validate and save a new report with its photos, route it, start its timeline, and
    (after the commit) tell the department and process the photos.

    `notify=False` is for reports that are history rather than news (demo data, imports).
    Raises ValidationError (nothing saved) on any bad input."""
    errors: dict[str, list[str]] = {}
    description = (description or "").strip()
    if not service.active:
        errors.setdefault("service", []).append("This category is not accepting reports.")
    if require_description and len(description) < MIN_WEB_DESCRIPTION:
        errors.setdefault("description", []).append(
            f"Please describe the problem in at least {MIN_WEB_DESCRIPTION} characters."
        )
    if len(description) > MAX_DESCRIPTION:
        errors.setdefault("description", []).append(
            f"The description is {len(description)} characters; at most {MAX_DESCRIPTION}."
        )
    if lat is None and long is None:
        if not (address.strip() or address_id.strip()):
            errors.setdefault("location", []).append(
                "A location is needed: a point on the map or an address."
            )
    else:
        try:
            validate_point(lat, long)
        except ValidationError as exc:
            errors.setdefault("location", []).extend(exc.messages)
    cleaned_attributes: dict[str, object] = {}
    try:
        cleaned_attributes = dict(clean_attributes(service, attributes or {}))
    except ValidationError as exc:
        errors.setdefault("attributes", []).extend(exc.messages)
    if len(photos) > 3:
        errors.setdefault("photos", []).append("At most 3 photos per report.")
    for upload in photos:
        try:
            validate_photo(upload)
        except ValidationError as exc:
            name = getattr(upload, "name", "photo")
            errors.setdefault("photos", []).extend(f"{name}: {m}" for m in exc.messages)
    if errors:
        raise ValidationError(errors)

    now = timezone.now()
    requested = requested_datetime or now
    with transaction.atomic():
        decision = route(
            service_id=service.pk,
            group=service.group,
            default_department_id=service.department_id,
            lat=lat,
            lng=long,
        )
        request = ServiceRequest(
            service=service,
            description=description,
            attributes=cleaned_attributes,
            lat=lat,
            long=long,
            address=address.strip(),
            address_id=address_id.strip(),
            zipcode=zipcode.strip(),
            media_url=media_url,
            department_id=decision.department_id,
            area_id=decision.area_id,
            requested_datetime=requested,
            updated_datetime=requested,
            expected_datetime=(
                requested + timedelta(hours=service.sla_hours) if service.sla_hours else None
            ),
            source=source,
            api_key=api_key,
            reporter_name=reporter_name.strip(),
            reporter_email=reporter_email.strip().lower(),
            reporter_phone=reporter_phone.strip(),
            device_id=device_id.strip(),
            account_id=account_id.strip(),
        )
        request.full_clean()
        request.save()
        RequestUpdate.objects.create(
            request=request,
            kind=RequestUpdate.Kind.CREATED,
            public=True,
            state_to=request.state,
            created=requested,
        )
        if request.department_id:
            how = "by routing rule" if decision.rule_id else "as the category's default"
            RequestUpdate.objects.create(
                request=request,
                kind=RequestUpdate.Kind.ROUTED,
                public=False,
                department_to_id=request.department_id,
                text=f"Routed to {request.department} {how}.",
                created=requested,
            )
        for order, upload in enumerate(photos, start=1):
            photo = Photo(request=request, order=order)
            photo.original.save(_upload_name(upload, order), upload, save=False)
            photo.save()
        if request.reporter_email:
            Subscription.objects.create(request=request, email=request.reporter_email)
        from reports.tasks import notify_new_request, process_request_photos

        if notify:
            queue_after_commit(notify_new_request, request.pk)
        if photos:
            queue_after_commit(process_request_photos, request.pk)
    return request


def _upload_name(upload: UploadedFile | IO[bytes], order: int) -> str:
    # The original's name is never shown; keep only a harmless extension.
    name = getattr(upload, "name", "") or ""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else "jpg"
    if ext not in {"jpg", "jpeg", "png", "webp"}:
        ext = "img"
    return f"upload-{order}.{ext}"


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


def subscription_create(*, request: ServiceRequest, email: str) -> Subscription:
    """Follow a report by email. Idempotent: following twice (or again after unsubscribing)
    leaves one active subscription, so the caller can answer the same either way and never
    reveal whether an address already followed the report."""
    if request.hidden:
        raise ValidationError({"request": ["This report is not public."]})
    email = email.strip().lower()
    # Validate the address before touching the table (the service is also called by code
    # that has no form in front of it).
    Subscription(request=request, email=email).full_clean(
        exclude=["request"], validate_unique=False, validate_constraints=False
    )
    with transaction.atomic():
        # get_or_create copes with two clicks racing on the unique (request, email) pair.
        subscription, created = Subscription.objects.get_or_create(request=request, email=email)
        if not created and not subscription.active:
            subscription.active = True
            subscription.save(update_fields=["active"])
    return subscription


def subscription_cancel(*, subscription: Subscription) -> Subscription:
    """Stop the emails of one subscription. Idempotent."""
    if subscription.active:
        subscription.active = False
        subscription.save(update_fields=["active"])
    return subscription
