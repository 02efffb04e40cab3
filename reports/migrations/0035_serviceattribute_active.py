"""A question can be retired (untick "Active"): no longer asked, its answers still shown on
the reports that have them. Deleting a question with answers is refused in the admin.

On SQLite, adding a column that is not null rebuilds the table, and a rebuilt table loses
its triggers (the catalogue's version): they are read before the rebuild and made again
after it, as they were (as in 0030)."""

from django.db import migrations, models

TABLE = "reports_serviceattribute"
_kept: list[tuple[str, str]] = []


def keep_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [TABLE],
            )
            _kept[:] = cursor.fetchall()


def make_triggers_again(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for name, sql in _kept:
            schema_editor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
            schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0034_service_code_unique_ignoring_case"),
    ]

    operations = [
        migrations.RunPython(keep_triggers, make_triggers_again),
        migrations.AddField(
            model_name="serviceattribute",
            name="active",
            field=models.BooleanField(
                default=True,
                help_text="Untick to retire the question: it is no longer asked, and the "
                "answers already given stay on their reports. (A question with answers can't "
                "be deleted.)",
            ),
        ),
        migrations.RunPython(make_triggers_again, keep_triggers),
    ]
