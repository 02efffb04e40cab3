"""The Idempotency-Key header on POST requests: an app that sends a report again (a retry
after a timeout or a dropped connection, when it cannot know whether the first one
arrived) gets the answer of the report it already made, not a second report.

The header is the IETF's (draft-ietf-httpapi-idempotency-key-header): a string the client
chooses, unique for each report it means to file, quoted as a structured field or bare.
Keys belong to the API key that sends them: two apps' equal keys are two reports. A key is
stored as the web form's sendings are (a Submission: a unique token, so two sendings at
once make one report), with a fingerprint of the request: the same key sent with another
request is refused (422), as the draft asks, rather than answered with a report that is
not the one sent. A request that failed stored nothing, key included: sent again, it is
tried again.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from typing import Any

from django.http import QueryDict
from rest_framework import status

from reports.api.errors import Open311Error, bad_request
from reports.models import ApiKey, Submission

HEADER = "Idempotency-Key"
# Names the tokens of API keys' sendings apart from the web form's random ones (uuid5).
NAMESPACE = uuid.UUID("6f1c1b4e-311a-4c5d-9e1f-2f0d8a7c3b11")
# Visible ASCII and spaces, at most 255 characters: what the draft's examples and clients send.
_VALUE = re.compile(r"[\x20-\x7e]{1,255}")
# Not part of the request a key stands for: where the API key was given.
_NOT_FINGERPRINTED = {"api_key"}


def token_of(request: Any, api_key: ApiKey) -> uuid.UUID | None:
    """The sending's token from the request's Idempotency-Key (None without one); a 400
    for a key that is empty, too long or not visible ASCII."""
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if not _VALUE.fullmatch(value) or not value.strip():
        raise bad_request(f"{HEADER} must be 1 to 255 visible ASCII characters.")
    return uuid.uuid5(NAMESPACE, f"{api_key.pk}:{value}")


def fingerprint(data: QueryDict, photos: Sequence[Any]) -> str:
    """What the request asks, as a digest: its fields (in any order) and its photos' bytes."""
    digest = hashlib.sha256()
    for name in sorted(data):
        if name in _NOT_FINGERPRINTED:
            continue
        for value in data.getlist(name):
            if isinstance(value, str):
                digest.update(f"{len(name)}:{name}={len(value)}:{value};".encode())
    for photo in photos:
        digest.update(f"media {photo.size};".encode())
        for chunk in photo.chunks():
            digest.update(chunk)
        photo.seek(0)
    return digest.hexdigest()


def sent_before(token: uuid.UUID, request_fingerprint: str) -> Submission | None:
    """The earlier sending with this token, if any (its report selected); a 422 when it
    was another request."""
    earlier = Submission.objects.filter(token=token).select_related("request").first()
    if earlier is not None and earlier.fingerprint != request_fingerprint:
        raise Open311Error(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            f"This {HEADER} was sent before with another request (report "
            f"{earlier.request_id}): use a new key for each report.",
        )
    return earlier
