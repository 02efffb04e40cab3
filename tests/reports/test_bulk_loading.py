"""reports/bulk.py's loading(): which indexes a load keeps, how it loads an empty table,
and in what order the indexes are built again."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from reports import bulk
from reports.bulk import build_indexes, loading
from reports.models import RequestUpdate, ServiceRequest
from tests.factories import ServiceFactory, ServiceRequestFactory

pytestmark = pytest.mark.django_db


def indexes(table: str) -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {name for name, c in constraints.items() if c["index"] and not c["primary_key"]}


def test_kept_indexes_stay_through_the_load_and_the_others_come_back():
    before = indexes("reports_servicerequest"), indexes("reports_requestupdate")
    assert {"sr_api_key", "sr_queue"} <= before[0] and "update_author" in before[1]

    with (
        transaction.atomic(),
        loading(ServiceRequest, RequestUpdate, keep=["sr_api_key", "update_author"]),
    ):
        during = indexes("reports_servicerequest"), indexes("reports_requestupdate")

    assert during == ({"sr_api_key"}, {"update_author"})
    assert (indexes("reports_servicerequest"), indexes("reports_requestupdate")) == before


def test_a_kept_name_that_is_no_index_of_the_tables_is_refused_before_anything_changes():
    before = indexes("reports_servicerequest")

    keep = ["sr_queue", "sr_no_such_index"]
    with (
        pytest.raises(ValueError, match="sr_no_such_index"),
        transaction.atomic(),
        loading(ServiceRequest, keep=keep),
    ):
        pytest.fail("the load went ahead")

    assert indexes("reports_servicerequest") == before


def test_a_load_with_a_repeated_id_fails_whole_and_the_primary_key_is_back():
    """The primary key is dropped for the load (PostgreSQL) and made again before the
    commit: a repeated id fails the load and leaves nothing of it."""
    service = ServiceFactory()
    ServiceRequestFactory(service=service)

    with pytest.raises(IntegrityError), transaction.atomic(), loading(ServiceRequest):
        report = ServiceRequestFactory(service=service)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO reports_servicerequest SELECT * FROM reports_servicerequest "
                "WHERE id = %s",
                [report.pk],
            )

    assert ServiceRequest.objects.count() == 1
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "reports_servicerequest")
    assert [c["columns"] for c in constraints.values() if c["primary_key"]] == [["id"]]


def visible_pages(table: str) -> tuple[int, int]:
    """(pages marked all-visible, pages), as the last ANALYZE counted them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relallvisible, relpages FROM pg_class WHERE oid = %s::regclass", [table]
        )
        return cursor.fetchone()


def test_an_empty_table_is_loaded_frozen_and_one_with_rows_as_before():
    """Loaded into empty tables, the rows arrive frozen (COPY FREEZE marks every page
    visible to all); a second load appends to tables that have rows and leaves its new
    pages for VACUUM, as any insert does."""
    if connection.vendor != "postgresql":
        pytest.skip("COPY FREEZE is PostgreSQL's")
    ServiceFactory()
    call_command("generate_reports", "--count", "3000", "--batch", "1000", stdout=io.StringIO())

    for table in ("reports_servicerequest", "reports_requestupdate"):
        all_visible, pages = visible_pages(table)
        assert pages > 10 and all_visible == pages, table
    assert bulk._FREEZABLE == {}

    call_command("generate_reports", "--count", "3000", "--seed", "2", stdout=io.StringIO())

    all_visible, pages = visible_pages("reports_servicerequest")
    assert 0 < all_visible < pages
    assert ServiceRequest.objects.count() == 6000
    assert RequestUpdate.objects.filter(kind=RequestUpdate.Kind.CREATED).count() == 6000


def test_index_builds_take_the_slow_kinds_first_then_each_table_longest_first(monkeypatch):
    """On one connection the builds run in the order they are taken: trigram and GiST
    indexes first, then the table with fewer indexes, the longest definitions first, each
    table's `after` statements right behind its last build."""
    ran: list[str] = []
    monkeypatch.setattr(bulk, "_run_job", lambda job: ran.append(job))
    few = [
        "CREATE INDEX f1 ON public.few USING btree (a)",
        "CREATE INDEX f2 ON public.few USING btree (a, b, c)",
    ]
    many = [
        "CREATE INDEX m1 ON public.many USING btree (a)",
        "CREATE INDEX m2 ON public.many USING btree (a, b) INCLUDE (c, d)",
        "CREATE INDEX m3 ON public.many USING btree (b, c)",
    ]
    trigram = "CREATE INDEX m4 ON public.many USING gin (upper(a) gin_trgm_ops)"

    build_indexes([*many, trigram, *few], connections_=1, after={"few": ["ANALYZE few"]})

    assert ran == [trigram, few[1], few[0], "ANALYZE few", many[1], many[2], many[0]]
