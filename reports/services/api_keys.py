"""Issuing API keys to Open311 clients. (Finding the key of a request is a read:
`ApiKey.objects.active().with_raw_key(raw)`.)"""

from __future__ import annotations

from reports.models import ApiKey


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
