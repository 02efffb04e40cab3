"""Sets of areas: every area a point lies in, as one row (see models.AreaSet)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('departments', '0005_catalogue_version'),
    ]

    operations = [
        migrations.CreateModel(
            name='AreaSet',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(editable=False, max_length=1000, unique=True)),
            ],
            options={
                'ordering': ['pk'],
            },
        ),
    ]
