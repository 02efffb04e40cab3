"""Writes the Open311 API makes: issuing API keys and filing a report with its token."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from reports.models import ApiKey, RequestToken, Service, ServiceRequest
from reports.services import service_request_create


def api_key_issue(*, key: ApiKey) -> str:
    """Give an unsaved ApiKey a fresh secret, save it, and return the secret.

    The secret is shown to its owner once; only its hash is stored."""
    raw = ApiKey.generate_key()
    key.prefix = raw[:8]
    key.key_hash = ApiKey.hash_key(raw)
    key.full_clean()
    key.save()
    return raw


def api_key_create(
    *, name: str, contact_email: str = "", active: bool = True
) -> tuple[ApiKey, str]:
    key = ApiKey(name=name.strip(), contact_email=contact_email.strip(), active=active)
    return key, api_key_issue(key=key)


def api_key_find(*, raw_key: str) -> ApiKey | None:
    """The active key for `raw_key`, or None."""
    if not raw_key:
        return None
    return ApiKey.objects.filter(key_hash=ApiKey.hash_key(raw_key), active=True).first()


def open311_request_create(
    *,
    service: Service,
    api_key: ApiKey,
    report: Mapping[str, Any],
    attributes: Mapping[str, Sequence[str]],
    photos: Sequence[Any] = (),
) -> tuple[ServiceRequest, RequestToken | None]:
    """File a report through the API: the report, a token for a batch service, and the
    key's last use, in one transaction. Raises ValidationError (nothing saved)."""
    with transaction.atomic():
        request = service_request_create(
            service=service,
            source=ServiceRequest.Source.API,
            api_key=api_key,
            attributes=attributes,
            photos=photos,
            **report,
        )
        token = None
        if service.type == Service.Type.BATCH:
            token = RequestToken.objects.create(request=request)
        # One UPDATE, no read-modify-write: concurrent posts with one key don't collide.
        ApiKey.objects.filter(pk=api_key.pk).update(last_used=timezone.now())
    return request, token
