"""Photo files under random names, and the files of hidden photos out of the public folders.

Until now the processed files were named photo-<id>.jpg and thumb-<id>.jpg in dated folders,
so anyone could count through them, and hiding a photo (or its report) left its files
served. This gives every existing file a random name and moves the processed files of hidden
photos, and of the photos of hidden reports, under hidden/. A file that is missing is
reported and its row left as it is; a name that is already random is left alone, so running
it again does nothing."""

import os
import re
import secrets
from pathlib import Path

from django.core.files.storage import default_storage
from django.db import migrations, models

import reports.models

FOLDERS = {"original": "originals", "image": "photos", "thumbnail": "thumbnails"}
RANDOM = re.compile(r"(hidden/)?(originals|photos|thumbnails)/[A-Za-z0-9_-]{22}\.[a-z]+")


def _move(source: str, target: str) -> None:
    try:
        source_path, target_path = default_storage.path(source), default_storage.path(target)
    except NotImplementedError:  # a storage without local paths: copy, then delete
        with default_storage.open(source, "rb") as content:
            default_storage.save(target, content)
        default_storage.delete(source)
        return
    Path(target_path).parent.mkdir(parents=True, exist_ok=True)
    os.replace(source_path, target_path)


def rename_files(apps, schema_editor) -> None:
    Photo = apps.get_model("reports", "Photo")
    missing = 0
    for photo in Photo.objects.select_related("request").iterator():
        public = not (photo.hidden or photo.request.hidden)
        changed = []
        for field, folder in FOLDERS.items():
            name = getattr(photo, field).name
            if not name or RANDOM.fullmatch(name):
                continue
            if not default_storage.exists(name):
                missing += 1
                continue
            ext = name.rsplit(".", 1)[-1].lower() if "." in name else "img"
            target = f"{folder}/{secrets.token_urlsafe(16)}.{ext}"
            if field != "original" and not public:
                target = f"hidden/{target}"
            _move(name, target)
            setattr(photo, field, target)
            changed.append(field)
        if changed:
            photo.save(update_fields=changed)
    if missing:
        print(f"\n  {missing} photo file(s) were missing and kept their old names.")


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0003_report_rules"),
    ]

    operations = [
        migrations.AlterField(
            model_name="photo",
            name="image",
            field=models.ImageField(blank=True, upload_to="photos/"),
        ),
        migrations.AlterField(
            model_name="photo",
            name="original",
            field=models.ImageField(upload_to=reports.models.photo_original_name),
        ),
        migrations.AlterField(
            model_name="photo",
            name="thumbnail",
            field=models.ImageField(blank=True, upload_to="thumbnails/"),
        ),
        migrations.RunPython(rename_files, migrations.RunPython.noop, elidable=True),
    ]
