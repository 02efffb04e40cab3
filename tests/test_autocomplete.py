"""Fields that ask for the visitor's own name or email say so (WCAG 1.3.5), so a browser
can fill them and assistive technology can tell what they are for."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.factories import ServiceFactory, ServiceRequestFactory

pytestmark = pytest.mark.django_db


def autocomplete_of(html: str, name: str) -> str | None:
    tag = re.search(rf'<(?:input|textarea)\b[^>]*\bname="{re.escape(name)}"[^>]*>', html)
    assert tag, f"no field {name}"
    found = re.search(r'autocomplete="([^"]+)"', tag.group(0))
    return found.group(1) if found else None


def test_personal_fields_name_their_purpose(client):
    ServiceFactory()
    report = ServiceRequestFactory()
    pages = {
        reverse("reports:new"): {"reporter_name": "name", "reporter_email": "email"},
        report.get_absolute_url(): {
            "email": "email",
            "support-email": "email",
            "comment-author_name": "name",
            "comment-author_email": "email",
        },
        reverse("insights:alert-new"): {"email": "email"},
    }
    for url, fields in pages.items():
        html = client.get(url).content.decode()
        for name, purpose in fields.items():
            assert autocomplete_of(html, name) == purpose, (url, name)
