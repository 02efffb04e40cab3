"""A report names a master only while it is closed as a duplicate. Reopening one used to
leave the old master named, and a report later closed as a duplicate of it went to that
master instead: such links are dropped before the rule is set.

On SQLite, adding a CHECK rebuilds the table, and a rebuilt table loses the triggers of
reports/document_triggers.py: there the rule is kept by triggers instead (a table built
later from the models, as in a new database, has the CHECK itself)."""

from django.db import migrations, models

NAME = "sr_master_only_for_duplicate"
CONDITION = models.Q(state="duplicate") | models.Q(duplicate_of__isnull=True)
STALE = "state <> 'duplicate' AND duplicate_of_id IS NOT NULL"
SQLITE_TRIGGER = """
CREATE TRIGGER reports_{name}_{event} BEFORE {event} ON reports_servicerequest
WHEN NEW.state <> 'duplicate' AND NEW.duplicate_of_id IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {name}'); END
"""


def drop_stale_masters(apps, schema_editor) -> None:
    schema_editor.execute(f"UPDATE reports_servicerequest SET duplicate_of_id = NULL WHERE {STALE}")


def add_rule(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        for event in ("INSERT", "UPDATE"):
            schema_editor.execute(SQLITE_TRIGGER.format(name=NAME, event=event))
        return
    model = apps.get_model("reports", "ServiceRequest")
    schema_editor.add_constraint(model, models.CheckConstraint(condition=CONDITION, name=NAME))


def remove_rule(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        for event in ("INSERT", "UPDATE"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS reports_{NAME}_{event}")
        return
    model = apps.get_model("reports", "ServiceRequest")
    schema_editor.remove_constraint(model, models.CheckConstraint(condition=CONDITION, name=NAME))


class Migration(migrations.Migration):
    dependencies = [("reports", "0025_drop_sr_point")]

    operations = [
        migrations.RunPython(drop_stale_masters, migrations.RunPython.noop),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddConstraint(
                    model_name="servicerequest",
                    constraint=models.CheckConstraint(condition=CONDITION, name=NAME),
                )
            ],
            database_operations=[migrations.RunPython(add_rule, remove_rule)],
        ),
    ]
