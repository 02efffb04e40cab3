"""Filing a report: from the web form, the Open311 API or a data generator. One path, so
every report is validated, routed and given its timeline the same way."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from civic311.geo import validate_point
from civic311.input import has_visible, invisible_only, visible_length
from civic311.queue import queue_after_commit
from reports import rules
from reports.attributes import clean_attributes
from reports.limits import MAX_TEXT, MIN_WEB_DESCRIPTION
from reports.locators import address_at, resolve_address_id, resolve_address_string
from reports.models import (
    ApiKey,
    Comment,
    Photo,
    RequestToken,
    RequestUpdate,
    Service,
    ServiceRequest,
    Submission,
    Subscription,
)
from reports.notifications import notify_new_report, outbox_report_received
from reports.photos import validate_photo
from reports.services.timeline import timeline_add_quietly
from reports.tasks import process_request_photos

# How precisely an API key's last use is kept.
LAST_USED_RESOLUTION = timedelta(minutes=1)
FOREIGN_KEYS = [
    "service", "department", "area", "area_set", "assigned_to", "duplicate_of", "api_key",
]  # fmt: skip


def report_create(
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
    requested_datetime: datetime | None = None,
    notify: bool = True,
    preview_minutes: int = 0,
    savepoint: bool = True,
    submission: uuid.UUID | None = None,
) -> ServiceRequest:
    """Validate and save a new report with its photos, route it, start its timeline, record
    the department's email and the reporter's acknowledgement in the outbox, and (after the
    commit) process the photos. The acknowledgement carries the link by which the reporter
    confirms they want updates (anyone can type any address into the form).

    `preview_minutes`: how long the reporter may review and edit the report before it is
    public (the web form's preview window); it is routed and the department told at once.
    `notify=False` is for reports that are history rather than news (demo data, imports).
    `savepoint=False` is for a caller whose own transaction fails as a whole on any error
    in here (two round trips fewer). Raises ValidationError (nothing saved) on any bad
    input."""
    description = (description or "").strip()
    if lat is None and long is None and address_id.strip():
        # A known address id (a bus shelter's stop id, …) stands for its place.
        located = resolve_address_id(address_id)
        if located is not None:
            lat, long, found_address = located
            address = address.strip() or found_address
    if lat is None and long is None and address.strip():
        # So does an address the city's gazetteer knows.
        located = resolve_address_string(address)
        if located is not None:
            lat, long, _ = located
    errors, cleaned_attributes = report_check(
        service=service,
        description=description,
        lat=lat,
        long=long,
        address=address,
        address_id=address_id,
        attributes=attributes,
        photos=photos,
        require_description=require_description,
    )
    if errors:
        raise ValidationError(errors)

    now = timezone.now()
    requested = requested_datetime or now
    published = rules.published_at(requested, preview_minutes)
    with transaction.atomic(savepoint=savepoint):
        decision = service.route(lat=lat, long=long)
        report = ServiceRequest(
            service=service,
            description=description,
            attributes=cleaned_attributes,
            lat=lat,
            long=long,
            address=address.strip(),
            address_id=address_id.strip(),
            zipcode=zipcode.strip(),
            media_url=media_url,
            requested_datetime=requested,
            # Not before it is public: see rules.updated_at.
            updated_datetime=published,
            published_at=published,
            source=source,
            api_key=api_key,
            reporter_name=reporter_name.strip(),
            reporter_email=reporter_email.strip().lower(),
            reporter_phone=reporter_phone.strip(),
            device_id=device_id.strip(),
            account_id=account_id.strip(),
        )
        rules.apply_routing(report, decision)
        # The fields' own checks (lengths, URL, coordinate ranges). Not the foreign keys
        # (set from rows just read) nor the constraints (the rules set those fields and the
        # database checks them on insert): each of those is a query, and they were most of
        # a submission's round trips.
        report.full_clean(exclude=FOREIGN_KEYS, validate_unique=False, validate_constraints=False)
        report.save()
        if submission is not None:
            # A second sending of the same form fails here (IntegrityError), rolling its
            # report back: the caller leads it to the first one's (see submission_of).
            Submission.objects.create(token=submission, request=report)
        # The first entries notify nobody (CREATED is the report itself, ROUTED internal):
        # one INSERT for both.
        entries = [
            RequestUpdate(
                request=report,
                kind=RequestUpdate.Kind.CREATED,
                public=True,
                state_to=report.state,
                created=requested,
            )
        ]
        if report.department is not None:
            entries.append(
                RequestUpdate(
                    request=report,
                    kind=RequestUpdate.Kind.ROUTED,
                    public=False,
                    department_to=report.department,
                    text=rules.routed_text(report.department.name, decision),
                    created=requested,
                )
            )
        timeline_add_quietly(entries)
        for order, upload in enumerate(photos, start=1):
            photo_save(report=report, upload=upload, order=order)
        if notify:
            notify_new_report(report=report)
        if report.reporter_email and notify:
            subscription = Subscription.objects.create(
                request=report, email=report.reporter_email, confirm_sent_at=now
            )
            outbox_report_received(report=report, subscription=subscription)
        if photos:
            queue_after_commit(process_request_photos, report.pk)
    return report


def submission_of(token: uuid.UUID | None) -> ServiceRequest | None:
    """The report a sending of the web form made, if that form was sent before."""
    if token is None:
        return None
    found = Submission.objects.filter(token=token).select_related("request").first()
    return found.request if found is not None else None


def photo_save(
    *,
    report: ServiceRequest,
    upload: UploadedFile | IO[bytes],
    order: int,
    comment: Comment | None = None,
) -> Photo:
    """Store one checked upload (`validate_photo`) as a pending photo of the report (of a
    comment on it, if given); the caller queues `process_request_photos` after commit,
    which makes the public versions without EXIF."""
    photo = Photo(request=report, comment=comment, order=order)
    content = upload if isinstance(upload, File) else File(upload)
    photo.original.save(_upload_name(upload, order), content, save=False)
    photo.save()
    return photo


def report_check(
    *,
    service: Service | None,
    description: str,
    lat: float | None = None,
    long: float | None = None,
    address: str = "",
    address_id: str = "",
    attributes: Mapping[str, Sequence[str]] | None = None,
    photos: Sequence[UploadedFile | IO[bytes]] = (),
    require_description: bool = False,
) -> tuple[dict[str, list[str]], dict[str, object]]:
    """Every problem with a report's input at once, keyed service/description/location/
    attributes/photos, and the cleaned answers. Saves nothing: the web form asks it so
    that a citizen sees all the errors after one submit, not one after another.

    `service=None` (not chosen or not found) skips the checks that need one."""
    errors: dict[str, list[str]] = {}
    description = (description or "").strip()
    if service is not None and not service.active:
        errors.setdefault("service", []).append("This category is not accepting reports.")
    # Counted as a reader sees it: ten zero-width spaces are not a description.
    if require_description and visible_length(description) < MIN_WEB_DESCRIPTION:
        errors.setdefault("description", []).append(
            f"Please describe the problem in at least {MIN_WEB_DESCRIPTION} characters."
        )
    elif description and not has_visible(description):
        errors.setdefault("description", []).append(
            invisible_only("The description") + " Describe the problem, or leave it out."
        )
    if len(description) > MAX_TEXT:
        errors.setdefault("description", []).append(
            f"The description is {len(description)} characters; at most {MAX_TEXT}."
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
    if service is not None:
        try:
            cleaned_attributes = dict(clean_attributes(service, attributes or {}))
        except ValidationError as exc:
            errors.setdefault("attributes", []).extend(exc.messages)
    most = settings.PHOTO_MAX_PER_REPORT
    if len(photos) > most:
        errors.setdefault("photos", []).append(
            f"At most {most} photo{'' if most == 1 else 's'} per report."
        )
    for upload in photos:
        try:
            validate_photo(upload)
        except ValidationError as exc:
            name = getattr(upload, "name", "photo")
            errors.setdefault("photos", []).extend(f"{name}: {m}" for m in exc.messages)
    return errors, cleaned_attributes


def _upload_name(upload: UploadedFile | IO[bytes], order: int) -> str:
    # The original's name is never shown; keep only a harmless extension.
    name = getattr(upload, "name", "") or ""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else "jpg"
    if ext not in {"jpg", "jpeg", "png", "webp"}:
        ext = "img"
    return f"upload-{order}.{ext}"


def report_create_via_api(
    *,
    service: Service,
    api_key: ApiKey,
    fields: Mapping[str, Any],
    attributes: Mapping[str, Sequence[str]],
    photos: Sequence[Any] = (),
    submission: uuid.UUID | None = None,
    fingerprint: str = "",
) -> tuple[ServiceRequest, RequestToken | None]:
    """File a report through the Open311 API: the report, a token for a batch service, and
    the key's last use, in one transaction. Raises ValidationError (nothing saved).

    `submission`: the sending's token from its Idempotency-Key, recorded with the request's
    `fingerprint`; sent again at the same time, the second sending fails on it
    (IntegrityError, nothing saved) and its caller answers with the first one's report."""
    fields = dict(fields)
    lat, long = fields.get("lat"), fields.get("long")
    given = str(fields.get("address", "")).strip() or str(fields.get("address_id", "")).strip()
    if lat is not None and long is not None and not given:
        # The point's address, as the web form's pin gets it (reports/locators.py); a bad
        # point is report_create's to refuse.
        with contextlib.suppress(ValidationError):
            validate_point(lat, long)
            found = address_at(lat, long)
            if found is not None:
                fields["address"], fields["address_id"] = found
    with transaction.atomic():
        report = report_create(
            service=service,
            source=ServiceRequest.Source.API,
            api_key=api_key,
            attributes=attributes,
            photos=photos,
            # Any error in there fails this whole transaction anyway.
            savepoint=False,
            **fields,
        )
        if submission is not None:
            Submission.objects.create(token=submission, request=report, fingerprint=fingerprint)
        token = None
        if service.type == Service.Type.BATCH:
            token = RequestToken.objects.create(request=report)
        # To the minute: a key posting all day writes its row once a minute, not with
        # every report (one UPDATE, no read-modify-write: concurrent posts don't collide).
        now = timezone.now()
        if api_key.last_used is None or now - api_key.last_used >= LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used=now)
    return report, token
