"""Followers confirm their address before they get updates.

Subscriptions made before confirmation existed count as confirmed when they were made: their
followers have been getting updates (and an unsubscribe link in each) all along, and stopping
those updates silently would break what they asked for."""

from django.db import migrations, models


def confirm_existing(apps, schema_editor):
    Subscription = apps.get_model("reports", "Subscription")
    Subscription.objects.filter(confirmed_at__isnull=True).update(confirmed_at=models.F("created"))


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0007_supporters"),
    ]

    operations = [
        migrations.AddField(
            model_name="subscription",
            name="confirmed_at",
            field=models.DateTimeField(
                blank=True,
                help_text="Empty until the follower clicks the emailed link.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="subscription",
            name="confirm_sent_at",
            field=models.DateTimeField(
                blank=True,
                help_text="When the last confirmation link was sent; unconfirmed, the "
                "subscription expires SUBSCRIPTION_CONFIRM_DAYS later.",
                null=True,
            ),
        ),
        migrations.RunPython(confirm_existing, migrations.RunPython.noop),
    ]
