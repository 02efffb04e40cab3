"""Photos kept while a report form is corrected. A browser cannot re-fill a file input, so
when the form comes back with an error, each good photo is stored here and the page carries
a signed token for it instead; the next submit takes the photo from here.

The files live in `drafts/`, which is not a public folder (the originals keep their EXIF),
under random names; a token is signed, so no one can name another file, and expires."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import IO

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from reports.orphans import delete_older
from reports.photos import validate_photo

DRAFT_FOLDER = "drafts"
SALT = "reports.photo-draft"
# Long enough to fix a form after a break; the sweep removes what is left after that.
MAX_AGE = timedelta(hours=6)
EXTENSIONS = {"jpg", "jpeg", "png", "webp"}


@dataclass(frozen=True)
class Draft:
    token: str
    name: str  # the file name the citizen chose, shown so they recognise it


def draft_keep(upload: IO[bytes]) -> Draft:
    """Store an upload that passed `validate_photo`; the token finds it again."""
    label = (getattr(upload, "name", "") or "photo").rsplit("/", 1)[-1][:100]
    ext = label.rsplit(".", 1)[-1].lower() if "." in label else "jpg"
    ext = ext if ext in EXTENSIONS else "img"
    upload.seek(0)
    stored = default_storage.save(f"{DRAFT_FOLDER}/{secrets.token_urlsafe(18)}.{ext}", upload)
    upload.seek(0)
    return Draft(signing.dumps({"path": stored, "name": label}, salt=SALT), label)


def draft_read(token: str) -> tuple[Draft, str]:
    """The draft and its storage path. Raises signing.BadSignature (a forged or expired
    token) or FileNotFoundError (swept)."""
    data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    path = str(data["path"])
    if not path.startswith(f"{DRAFT_FOLDER}/") or not default_storage.exists(path):
        raise FileNotFoundError(path)
    return Draft(token, str(data["name"])), path


def drafts_readable(tokens: list[str]) -> list[Draft]:
    """The drafts of these tokens that are still there, in order; a forged, expired or
    swept one is left out (its error is the form's to show), the others stay kept."""
    drafts = []
    for token in tokens:
        try:
            drafts.append(draft_read(token)[0])
        except (signing.BadSignature, FileNotFoundError, KeyError, TypeError):
            continue
    return drafts


def draft_open(path: str, name: str) -> File:
    """The stored photo as a file named like the citizen's (its extension names it)."""
    return File(default_storage.open(path, "rb"), name=name)


def draft_discard(path: str) -> None:
    default_storage.delete(path)


def drafts_keep_valid(uploads: list[UploadedFile], *, room: int) -> tuple[list[Draft], bool]:
    """Keep the uploads that are good photos, up to `room` of them. Answers the drafts and
    whether any upload could not be kept (the citizen is asked to attach it again)."""
    drafts: list[Draft] = []
    for upload in uploads:
        if len(drafts) >= room:
            break
        try:
            validate_photo(upload)
        except ValidationError:
            continue
        drafts.append(draft_keep(upload))
    return drafts, len(drafts) < len(uploads)


def drafts_sweep() -> int:
    """Delete drafts older than MAX_AGE: forms abandoned after an error."""
    cutoff = timezone.now() - MAX_AGE
    try:
        _, files = default_storage.listdir(DRAFT_FOLDER)
    except FileNotFoundError:
        return 0
    return delete_older((f"{DRAFT_FOLDER}/{name}" for name in files), cutoff, what="photo draft")
