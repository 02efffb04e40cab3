"""python manage.py import_addresses FILE: load the city's address points (CSV or GeoJSON)
into the gazetteer that the report form's search and the Open311 API use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from places.importer import BadFile, import_addresses

SHOW_BAD_ROWS = 20


class Command(BaseCommand):
    help = (
        "Import address points from a CSV (columns: id, number, street, unit, postcode, "
        "lat, long) or a GeoJSON FeatureCollection of Points. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, file: Path, **options: Any) -> None:
        if not file.is_file():
            raise CommandError(f"{file}: no such file.")
        try:
            result = import_addresses(file, progress=self._progress)
        except BadFile as exc:
            raise CommandError(f"{exc} Nothing was imported.") from exc
        for line in result.bad_rows[:SHOW_BAD_ROWS]:
            self.stderr.write(f"Skipped {line}")
        if len(result.bad_rows) > SHOW_BAD_ROWS:
            self.stderr.write(f"… and {len(result.bad_rows) - SHOW_BAD_ROWS} more bad rows.")
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.read:,} rows read: {result.created:,} new, {result.updated:,} "
                f"updated, {result.unchanged:,} unchanged, {len(result.bad_rows):,} skipped. "
                f"{result.streets:,} streets."
            )
        )

    def _progress(self, rows: int) -> None:
        self.stdout.write(f"… {rows:,} rows", ending="\n")
        self.stdout.flush()
