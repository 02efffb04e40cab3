"""The database triggers that keep stored Open311 documents honest (reports.models.documents).

Why triggers and not the write services: a document must never outlive a change to what it
shows, and changes come from many places (the services, the admin's bulk actions, queryset
updates, the photo worker, data migrations). The database sees all of them. Each trigger
raises the report's `doc_version`; a stored document built from an older version is not
sent. No library writes triggers for both PostgreSQL and SQLite, so they are written here,
once per database, and installed by migration 0013.

What a document shows: the report's own row; its public photos (not hidden, processed, not
a comment's); its public timeline entries; its service's name and code; the names of its
department and of the departments its timeline forwards to.
"""

from __future__ import annotations

from typing import Any

PHOTO_PUBLIC = "NOT {row}.hidden AND {row}.state = 'processed' AND {row}.comment_id IS NULL"
UPDATE_PUBLIC = "{row}.public"
# A report's CREATED entry is written with the report, in the transaction that inserts it
# (report_create is the only writer), so no document of the report can exist yet, and none
# can be built before that transaction commits: inserting it retires nothing. Touching the
# new report would be an UPDATE of a row of ~30 indexes and the summary triggers, about a
# millisecond of every submission.
UPDATE_INSERTED = "{row}.public AND {row}.kind <> 'created'"
# The rows a report's document shows: (table, when a row is shown, when inserting one
# retires the document).
WATCHED = (
    ("reports_photo", PHOTO_PUBLIC, PHOTO_PUBLIC),
    ("reports_requestupdate", UPDATE_PUBLIC, UPDATE_INSERTED),
)

# PostgreSQL: a BEFORE UPDATE trigger on the report sets the version from the stored row (so
# a save() that writes an old in-memory value still moves it on); the others touch the
# report, which runs that trigger.
POSTGRESQL = [
    """
    CREATE FUNCTION reports_doc_version() RETURNS trigger AS $$
    BEGIN
        NEW.doc_version := OLD.doc_version + 1;
        RETURN NEW;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER reports_doc_version BEFORE UPDATE ON reports_servicerequest
    FOR EACH ROW EXECUTE FUNCTION reports_doc_version()
    """,
    # TG_ARGV[0]: the column naming the report.
    """
    CREATE FUNCTION reports_doc_touch() RETURNS trigger AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE reports_servicerequest SET doc_version = doc_version + 1
            WHERE id = OLD.request_id;
        END IF;
        IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.request_id <> OLD.request_id) THEN
            UPDATE reports_servicerequest SET doc_version = doc_version + 1
            WHERE id = NEW.request_id;
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    *[
        statement
        for table, public, inserted in WATCHED
        for statement in (
            f"""
            CREATE TRIGGER {table}_doc_insert AFTER INSERT ON {table} FOR EACH ROW
            WHEN ({inserted.format(row="NEW")}) EXECUTE FUNCTION reports_doc_touch()
            """,
            f"""
            CREATE TRIGGER {table}_doc_update AFTER UPDATE ON {table} FOR EACH ROW
            EXECUTE FUNCTION reports_doc_touch()
            """,
            f"""
            CREATE TRIGGER {table}_doc_delete AFTER DELETE ON {table} FOR EACH ROW
            WHEN ({public.format(row="OLD")}) EXECUTE FUNCTION reports_doc_touch()
            """,
        )
    ],
    """
    CREATE FUNCTION reports_doc_service() RETURNS trigger AS $$
    BEGIN
        UPDATE reports_servicerequest SET doc_version = doc_version + 1
        WHERE service_id = NEW.id;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER reports_service_doc AFTER UPDATE OF name, service_code ON reports_service
    FOR EACH ROW WHEN (NEW.name <> OLD.name OR NEW.service_code <> OLD.service_code)
    EXECUTE FUNCTION reports_doc_service()
    """,
    """
    CREATE FUNCTION reports_doc_department() RETURNS trigger AS $$
    BEGIN
        UPDATE reports_servicerequest SET doc_version = doc_version + 1
        WHERE department_id = NEW.id OR id IN (
            SELECT request_id FROM reports_requestupdate
            WHERE department_to_id = NEW.id AND public
        );
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER departments_department_doc AFTER UPDATE OF name ON departments_department
    FOR EACH ROW WHEN (NEW.name <> OLD.name) EXECUTE FUNCTION reports_doc_department()
    """,
]

POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS departments_department_doc ON departments_department",
    "DROP FUNCTION IF EXISTS reports_doc_department()",
    "DROP TRIGGER IF EXISTS reports_service_doc ON reports_service",
    "DROP FUNCTION IF EXISTS reports_doc_service()",
    *[
        f"DROP TRIGGER IF EXISTS {table}_doc_{when} ON {table}"
        for table in ("reports_photo", "reports_requestupdate")
        for when in ("insert", "update", "delete")
    ],
    "DROP FUNCTION IF EXISTS reports_doc_touch()",
    "DROP TRIGGER IF EXISTS reports_doc_version ON reports_servicerequest",
    "DROP FUNCTION IF EXISTS reports_doc_version()",
]

# SQLite: no BEFORE trigger may change NEW, so the report's own trigger runs after the
# update and moves the version on from the old row's, unless the update already raised it
# (the other triggers do; SQLite does not run a trigger from within itself).
BUMP = (
    "UPDATE reports_servicerequest SET doc_version = doc_version + 1 WHERE id = {row}.request_id;"
)
SQLITE = [
    """
    CREATE TRIGGER reports_doc_version AFTER UPDATE ON reports_servicerequest FOR EACH ROW
    WHEN NEW.doc_version <= OLD.doc_version
    BEGIN
        UPDATE reports_servicerequest SET doc_version = OLD.doc_version + 1 WHERE id = NEW.id;
    END
    """,
    *[
        statement
        for table, public, inserted in WATCHED
        for statement in (
            f"""
            CREATE TRIGGER {table}_doc_insert AFTER INSERT ON {table} FOR EACH ROW
            WHEN {inserted.format(row="NEW")}
            BEGIN {BUMP.format(row="NEW")} END
            """,
            f"""
            CREATE TRIGGER {table}_doc_update AFTER UPDATE ON {table} FOR EACH ROW
            BEGIN {BUMP.format(row="OLD")} {BUMP.format(row="NEW")} END
            """,
            f"""
            CREATE TRIGGER {table}_doc_delete AFTER DELETE ON {table} FOR EACH ROW
            WHEN {public.format(row="OLD")}
            BEGIN {BUMP.format(row="OLD")} END
            """,
        )
    ],
    """
    CREATE TRIGGER reports_service_doc AFTER UPDATE OF name, service_code ON reports_service
    FOR EACH ROW WHEN NEW.name <> OLD.name OR NEW.service_code <> OLD.service_code
    BEGIN
        UPDATE reports_servicerequest SET doc_version = doc_version + 1
        WHERE service_id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER departments_department_doc AFTER UPDATE OF name ON departments_department
    FOR EACH ROW WHEN NEW.name <> OLD.name
    BEGIN
        UPDATE reports_servicerequest SET doc_version = doc_version + 1
        WHERE department_id = NEW.id OR id IN (
            SELECT request_id FROM reports_requestupdate
            WHERE department_to_id = NEW.id AND public
        );
    END
    """,
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS departments_department_doc",
    "DROP TRIGGER IF EXISTS reports_service_doc",
    *[
        f"DROP TRIGGER IF EXISTS {table}_doc_{when}"
        for table in ("reports_photo", "reports_requestupdate")
        for when in ("insert", "update", "delete")
    ],
    "DROP TRIGGER IF EXISTS reports_doc_version",
]


def _run(schema_editor: Any, statements: dict[str, list[str]]) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in statements:
        raise NotImplementedError(f"Open311 documents need PostgreSQL or SQLite, not {vendor}.")
    for statement in statements[vendor]:
        schema_editor.execute(statement)


def install(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, {"postgresql": POSTGRESQL, "sqlite": SQLITE})


def remove(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP})


def _replace_entry_insert(schema_editor: Any, condition: str) -> None:
    vendor = schema_editor.connection.vendor
    statements = POSTGRESQL if vendor == "postgresql" else SQLITE
    create = next(s for s in statements if "reports_requestupdate_doc_insert" in s)
    on = " ON reports_requestupdate" if vendor == "postgresql" else ""
    schema_editor.execute(f"DROP TRIGGER IF EXISTS reports_requestupdate_doc_insert{on}")
    schema_editor.execute(
        create.replace(UPDATE_INSERTED.format(row="NEW"), condition.format(row="NEW"))
    )


def exempt_created(apps: Any, schema_editor: Any) -> None:
    """Migration 0015: a CREATED entry's insert no longer touches its (new) report."""
    _replace_entry_insert(schema_editor, UPDATE_INSERTED)


def unexempt_created(apps: Any, schema_editor: Any) -> None:
    """Back to 0013's trigger: every public entry's insert touches its report."""
    _replace_entry_insert(schema_editor, UPDATE_PUBLIC)
