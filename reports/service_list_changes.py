"""When the categories last changed: the `modified` date of the services dataset in the
open-data catalogue (/data.json, /data/catalog.jsonld).

Why not the time of the request: harvesters (data.gov, data.europa.eu) harvest a dataset
again whenever its `modified` moves, and a date that is always "now" made them fetch the
categories on every visit. Why triggers rather than a field the services set: categories,
questions and values are written by the admin's forms and inlines, by `seed_demo`, by data
migrations and the shell; a trigger sees every one of them, in the same transaction, so a
change rolled back moves nothing and no change is missed.

The time only moves forward (a later change in a transaction that began earlier must not
take it back: a conditional GET would then be told nothing changed). On PostgreSQL an
UPDATE that leaves a row as it was is no change; SQLite counts every row written."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from reports.models import ServiceListChange

TABLES = ("reports_service", "reports_serviceattribute", "reports_attributevalue")
ROW = "reports_servicelistchange"

_PG_FUNCTION = f"""
    CREATE OR REPLACE FUNCTION reports_service_list_change() RETURNS trigger AS $$
    BEGIN
        INSERT INTO {ROW} (id, changed_at) VALUES (1, clock_timestamp())
        ON CONFLICT (id) DO UPDATE
        SET changed_at = GREATEST({ROW}.changed_at, EXCLUDED.changed_at);
        RETURN NULL;
    END $$ LANGUAGE plpgsql
"""
# SQLite keeps Django's text form of a UTC time; text of that form sorts as the time does.
_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
_SQLITE_SET = (
    f"INSERT OR REPLACE INTO {ROW} (id, changed_at) VALUES (1, "
    f"max(coalesce((SELECT changed_at FROM {ROW} WHERE id = 1), ''), {_SQLITE_NOW}));"
)


def trigger_statements(vendor: str) -> list[str]:
    """The statements that make a write to the categories' tables record its time."""
    if vendor == "postgresql":
        statements = [_PG_FUNCTION]
        for table in TABLES:
            statements += [
                f"CREATE TRIGGER {table}_listed_ins_del AFTER INSERT OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION reports_service_list_change()",
                f"CREATE TRIGGER {table}_listed_upd AFTER UPDATE ON {table} FOR EACH ROW "
                "WHEN (OLD.* IS DISTINCT FROM NEW.*) "
                "EXECUTE FUNCTION reports_service_list_change()",
                f"CREATE TRIGGER {table}_listed_truncate AFTER TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION reports_service_list_change()",
            ]
        return statements
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER {table}_listed_{event.lower()} AFTER {event} ON {table} "
            f"BEGIN {_SQLITE_SET} END"
            for table in TABLES
            for event in ("INSERT", "UPDATE", "DELETE")
        ]
    raise NotImplementedError(
        f"The categories' change time needs PostgreSQL or SQLite, not {vendor}."
    )


def drop_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_listed_{kind} ON {table}"
            for table in TABLES
            for kind in ("ins_del", "upd", "truncate")
        ] + ["DROP FUNCTION IF EXISTS reports_service_list_change()"]
    return [
        f"DROP TRIGGER IF EXISTS {table}_listed_{event}"
        for table in TABLES
        for event in ("insert", "update", "delete")
    ]


def services_changed_at() -> datetime:
    """When the categories last changed (one indexed read). With the row gone (a test
    database flushed), the time is unknown: it is taken as now and kept, so that it stays
    put until the next change."""
    changed = ServiceListChange.objects.filter(id=1).values_list("changed_at", flat=True).first()
    if changed is not None:
        return changed
    now = timezone.now()
    try:
        with transaction.atomic():
            ServiceListChange.objects.create(id=1, changed_at=now)
    except IntegrityError:  # another request made it meanwhile: theirs stands
        return ServiceListChange.objects.values_list("changed_at", flat=True).get(id=1)
    return now
