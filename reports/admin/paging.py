"""Paging a list of a million reports without counting them.

Why: Django's admin counts the filtered queue on every page (COUNT(*) reads every matching
row) and reaches deep pages with OFFSET over whole rows. Here the count is PostgreSQL's
estimate when that is large (the planner's row estimate for a filtered list, the table's
`reltuples` for an unfiltered one) and exact only when small, and a deep page finds its ids
in an index first, then reads just those rows. A queue counted exactly as empty (a search
that finds nothing) is not read at all.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.admin.views.main import ChangeList
from django.core.paginator import EmptyPage, Paginator
from django.db import connections
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property

from reports.ids import MAX_ID

# Below this many (estimated) rows an exact count is cheap enough.
EXACT_BELOW = 20_000


def estimated_count(queryset: QuerySet) -> int | None:
    """PostgreSQL's estimate of how many rows `queryset` has; None elsewhere."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    query = queryset.query
    if not query.where and not query.distinct and query.low_mark == 0 and query.high_mark is None:
        table = queryset.model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table]
            )
            row = cursor.fetchone()
        if row and row[0] >= 0:
            return int(row[0])
    # The row estimate depends on the filters only: planning the page's joins and columns
    # as well cost twice as much for the same number.
    text = queryset.order_by().values("pk").explain(format="json")
    if not text:
        # Django found the filters can match nothing and sent no query (the "Mine" filter of
        # a staff member without a department, an id past the column's range in the URL), so
        # there is no plan: that queue is empty. It was a 500.
        return 0
    plan = json.loads(text)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """A paginator whose count is estimated when large (see the module's docstring)."""

    @cached_property
    def count(self) -> int:
        object_list: Any = self.object_list
        if isinstance(object_list, QuerySet):
            estimate = estimated_count(object_list)
            if estimate is not None and estimate >= EXACT_BELOW:
                return estimate
        return super().count

    def page(self, number: Any) -> Any:
        page = super().page(number)
        object_list: Any = self.object_list
        bottom = (page.number - 1) * self.per_page
        if bottom and isinstance(object_list, QuerySet):
            # The page's ids come from an index-only scan of the ordered list; the rows
            # (with their joins and prefetches) are read for those ids only.
            ids = object_list.values("pk")[bottom : bottom + self.per_page]
            page.object_list = object_list.filter(pk__in=ids)
        return page

    def validate_number(self, number: Any) -> int:
        # An estimate may fall short of the real count: pages past its end stay reachable
        # (and are empty past the real end), as far as the database can count rows (a
        # larger OFFSET is an error, not an empty page: it is a bigint, as the ids are).
        try:
            return super().validate_number(number)
        except EmptyPage:
            if self.count >= EXACT_BELOW and 1 < int(number) <= MAX_ID // self.per_page:
                return int(number)
            raise


class QueueChangeList(ChangeList):
    """Django's changelist, with the page's rows read as the model admin's `rows_queryset`
    makes them (only the columns shown, say), while `self.queryset` stays whole for the
    actions and the map. An empty queue is not read: a count of 0 is always exact here
    (estimates stand only for large queues), and on a search that finds nothing reading
    the rows cost as much as the count."""

    def get_results(self, request: HttpRequest) -> None:
        whole = self.queryset
        rows_queryset = getattr(self.model_admin, "rows_queryset", None)
        if rows_queryset is not None:
            self.queryset = rows_queryset(whole)
        try:
            super().get_results(request)
        finally:
            self.queryset = whole
        if self.result_count == 0:
            self.result_list = whole.none()
