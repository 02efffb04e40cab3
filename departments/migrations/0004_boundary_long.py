from django.db import migrations, models


class Migration(migrations.Migration):
    """Longitude is `long` everywhere in the code (Open311's name), the bounding box too."""

    dependencies = [("departments", "0003_staff_group")]

    operations = [
        migrations.RemoveIndex("boundary", name="departments_min_lat_df12a7_idx"),
        migrations.RenameField("boundary", "min_lng", "min_long"),
        migrations.RenameField("boundary", "max_lng", "max_long"),
        migrations.AddIndex(
            "boundary",
            models.Index(fields=["min_lat", "max_lat", "min_long", "max_long"], name="boundary_bbox"),
        ),
    ]
