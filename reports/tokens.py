"""Signed links for a report's reporter: the preview window and the "Is it fixed?" answer.

A link carries the report's number (and, for the question, which closing it asks about),
signed with SECRET_KEY so it can't be made up or changed, and it expires. Nothing is
stored: the report's own fields say whether a link may still act (`rules.fixed_answer`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from reports import rules
from reports.models import ServiceRequest

PREVIEW_SALT = "reports.preview"
FIXED_SALT = "reports.fixed-question"
# A preview link outlives the window a little, so a page opened at its end still answers
# "published" instead of "link expired".
PREVIEW_SLACK = timedelta(hours=1)


class LinkInvalid(Exception):
    """The link was altered, is for something else, or has expired."""


def preview_token(report: ServiceRequest) -> str:
    return signing.dumps({"r": report.pk}, salt=PREVIEW_SALT, compress=True)


def preview_url(report: ServiceRequest) -> str:
    """The reporter's page for the report in its preview window."""
    return reverse("reports:preview", args=[report.pk, preview_token(report)])


def preview_token_read(token: str) -> int:
    """The report a preview link is for."""
    # The window may be extended by its reporter, up to rules.preview_latest.
    windows = 1 + rules.PREVIEW_EXTENSIONS
    max_age = timedelta(minutes=settings.REPORT_PREVIEW_MINUTES * windows) + PREVIEW_SLACK
    try:
        data = signing.loads(token, salt=PREVIEW_SALT, max_age=max_age)
        return int(data["r"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise LinkInvalid from exc


@dataclass(frozen=True)
class FixedQuestion:
    report_id: int
    closed_at: datetime  # the closing the question is about


def fixed_token(report: ServiceRequest) -> str:
    assert report.closed_datetime is not None
    return signing.dumps(
        {"r": report.pk, "c": report.closed_datetime.isoformat()}, salt=FIXED_SALT, compress=True
    )


def fixed_token_read(token: str) -> FixedQuestion:
    max_age = timedelta(days=settings.FIXED_QUESTION_MAX_AGE_DAYS)
    try:
        data = signing.loads(token, salt=FIXED_SALT, max_age=max_age)
        closed_at = parse_datetime(data["c"])
        report_id = int(data["r"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise LinkInvalid from exc
    if closed_at is None:
        raise LinkInvalid
    return FixedQuestion(report_id=report_id, closed_at=closed_at)
