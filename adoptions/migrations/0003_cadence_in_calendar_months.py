"""The care cadence is counted in calendar months instead of days.

"Once a month" was a fixed 30 days, so a volunteer who cleans on the 1st of every month was
told they were overdue the day after every 31-day month. An asset type's `cadence_days`
becomes `cadence_months` (30 days: 1 month; other values to the nearest month, 1 to 12),
and every active adoption's due date is worked out again by the new rule: the same day of
the month as the last visit (or the day of adopting), a cadence later, clamped to the
month's last day. The reminders already recorded for the current care periods move with
their periods, so nobody is sent a "due soon" or "overdue" email twice for the same
visit because its due date moved.

Going back restores `cadence_days` (30 days a month) and leaves the due dates as they are."""

import calendar
from datetime import date

import django.core.validators
from django.db import migrations, models
from django.utils import timezone

REMINDER_KINDS = ("due_soon", "overdue")  # the ones recorded per care period


def add_months(day: date, months: int) -> date:
    """As adoptions.rules.add_months when this migration was written."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def cadence_to_months(apps, schema_editor):
    AssetType = apps.get_model("adoptions", "AssetType")
    old_days = {}
    for asset_type in AssetType.objects.all():
        old_days[asset_type.pk] = asset_type.cadence_days
        asset_type.cadence_months = min(12, max(1, round(asset_type.cadence_days / 30)))
        asset_type.save(update_fields=["cadence_months"])
    reschedule(apps, old_days)


def reschedule(apps, old_days: dict[int, int]) -> int:
    """Due dates of active adoptions by calendar months, and their current periods'
    reminders moved along; `old_days` is each asset type's cadence in days before. Returns
    how many adoptions changed. Tests call this with the real models."""
    Adoption = apps.get_model("adoptions", "Adoption")
    ReminderSent = apps.get_model("adoptions", "ReminderSent")
    changed = []
    for adoption in (
        Adoption.objects.filter(ended__isnull=True)
        .select_related("asset__asset_type")
        .order_by("pk")
        .iterator(chunk_size=500)
    ):
        asset_type = adoption.asset.asset_type
        months, days = asset_type.cadence_months, old_days.get(asset_type.pk, 30)
        anchor = adoption.last_cared_on or timezone.localdate(adoption.started)
        due_on = add_months(anchor, months)
        reminders = list(
            ReminderSent.objects.filter(
                adoption=adoption, kind__in=REMINDER_KINDS, period__gte=adoption.due_on
            )
        )
        moved = {}
        for r in reminders:
            # The n-th care period after the anchor, by the old count and by the new one.
            # Later periods move even when the first due date stays (April 1st: May 1st
            # either way, but May 31st becomes June 1st).
            n = (r.period - adoption.due_on).days // days + 1
            moved[(r.kind, add_months(anchor, n * months))] = r
        if set(moved) != {(r.kind, r.period) for r in reminders}:
            ReminderSent.objects.filter(pk__in=[r.pk for r in reminders]).delete()
            ReminderSent.objects.bulk_create(
                ReminderSent(adoption=adoption, kind=kind, period=period, sent_at=r.sent_at)
                for (kind, period), r in moved.items()
            )
        elif due_on == adoption.due_on:
            continue
        adoption.due_on = due_on
        changed.append(adoption)
    Adoption.objects.bulk_update(changed, ["due_on"], batch_size=500)
    return len(changed)


def months_to_days(apps, schema_editor):
    AssetType = apps.get_model("adoptions", "AssetType")
    for asset_type in AssetType.objects.all():
        asset_type.cadence_days = min(365, 30 * asset_type.cadence_months)
        asset_type.save(update_fields=["cadence_days"])


class Migration(migrations.Migration):
    dependencies = [
        ("adoptions", "0002_bus_shelters_and_staff"),
    ]

    operations = [
        migrations.AddField(
            model_name="assettype",
            name="cadence_months",
            field=models.PositiveSmallIntegerField(
                default=1,
                help_text=(
                    "A volunteer promises one care visit in each period of this many calendar "
                    "months: the next visit is due on the same day of the month as the last "
                    "one (or the month's last day)."
                ),
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(12),
                ],
                verbose_name="care cadence (months)",
            ),
        ),
        migrations.RunPython(cadence_to_months, months_to_days),
        migrations.RemoveField(model_name="assettype", name="cadence_days"),
    ]
