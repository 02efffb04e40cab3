"""The queue's date drill-down (years, months, days), without reading the queue.

Why: Django's date_hierarchy lists only the dates that have reports, with a DISTINCT over
every filtered row (a scan of the queue at each page view). This one offers the calendar
between the first and the last report (the two ends of an index); a date without reports just
shows an empty queue."""

from __future__ import annotations

import calendar
import datetime
from typing import Any

from django import template
from django.contrib.admin.views.main import ChangeList
from django.db import connections
from django.db.models import Max, Min
from django.utils import formats, timezone
from django.utils.text import capfirst

register = template.Library()


@register.inclusion_tag("admin/date_hierarchy.html")
def queue_date_hierarchy(cl: ChangeList) -> dict[str, Any]:
    field = cl.date_hierarchy
    if not field:
        return {"show": False}
    year_field, month_field, day_field = f"{field}__year", f"{field}__month", f"{field}__day"
    year, month, day = (_int(cl.params.get(name)) for name in (year_field, month_field, day_field))

    def link(filters: dict[str, Any]) -> str:
        return cl.get_query_string(filters, [f"{field}__"])

    if year and month and day:
        when = datetime.date(year, month, day)
        return {
            "show": True,
            "back": {
                "link": link({year_field: year, month_field: month}),
                "title": capfirst(formats.date_format(when, "YEAR_MONTH_FORMAT")),
            },
            "choices": [{"title": capfirst(formats.date_format(when, "MONTH_DAY_FORMAT"))}],
        }
    if year and month:
        days = calendar.monthrange(year, month)[1]
        return {
            "show": True,
            "back": {"link": link({year_field: year}), "title": str(year)},
            "choices": [
                {
                    "link": link({year_field: year, month_field: month, day_field: d}),
                    "title": capfirst(
                        formats.date_format(datetime.date(year, month, d), "MONTH_DAY_FORMAT")
                    ),
                }
                for d in range(1, days + 1)
            ],
        }
    first, last = _span(cl)
    if year:
        months = [
            m
            for m in range(1, 13)
            if first is None or (year, m) >= (first.year, first.month)
            if last is None or (year, m) <= (last.year, last.month)
        ]
        return {
            "show": True,
            "back": {"link": link({}), "title": "All dates"},
            "choices": [
                {
                    "link": link({year_field: year, month_field: m}),
                    "title": capfirst(
                        formats.date_format(datetime.date(year, m, 1), "YEAR_MONTH_FORMAT")
                    ),
                }
                for m in months
            ],
        }
    if first is None or last is None:
        return {"show": False}
    return {
        "show": True,
        "back": None,
        "choices": [
            {"link": link({year_field: y}), "title": str(y)}
            for y in range(first.year, last.year + 1)
        ],
    }


def _span(cl: ChangeList) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    """The first and last report of the whole table (not of the filtered queue)."""
    field = cl.date_hierarchy
    manager = cl.model._default_manager
    if connections[manager.db].vendor == "postgresql":
        # One query: PostgreSQL reads both ends of the index for a MIN and a MAX together.
        span = manager.aggregate(first=Min(field), last=Max(field))
        first, last = span["first"], span["last"]
    else:
        # Two ordered lookups: SQLite reads an index's ends only for a lone MIN or MAX.
        rows = manager.values_list(field, flat=True)
        first, last = rows.order_by(field).first(), rows.order_by(f"-{field}").first()
    return (
        timezone.localtime(first) if first else None,
        timezone.localtime(last) if last else None,
    )


def _int(value: Any) -> int | None:
    if isinstance(value, list):
        value = value[-1] if value else None
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
