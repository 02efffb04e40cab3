"""Import a city's assets (bus shelters first) from CSV, GeoJSON points or a GTFS stops.txt.

Why: a city must be able to put every shelter on the map the day it launches the programme,
and re-import its file whenever it changes without losing adoptions: the import is an
upsert by external id, assets missing from the new file are deactivated (never deleted;
adopted ones are flagged for staff), and a bad row is reported, not fatal. A file that
cannot be read at all is refused whole, with a non-zero exit."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from adoptions.importer import FORMATS, Columns, FileRefused, detect_format, read_assets
from adoptions.models import AssetType
from adoptions.services.assets import assets_import

# Below this many rows the import is quick: no progress bar.
PROGRESS_FROM = 500
BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Import assets of one type from a CSV, GeoJSON or GTFS stops.txt file (upsert)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The file to import.")
        parser.add_argument(
            "--type", required=True, dest="type_slug", help="The asset type's slug (bus-shelter)."
        )
        parser.add_argument(
            "--format",
            choices=FORMATS,
            help="Default: from the name (.geojson/.json, stops.txt) or the content; else CSV.",
        )
        for kind, default in (
            ("id", "id, external_id, asset_id, stop_id, …"),
            ("name", "name, title, stop_name"),
            ("lat", "lat, latitude, y"),
            ("long", "long, lon, lng, longitude, x"),
            ("address", "address, street_address, location"),
        ):
            parser.add_argument(
                f"--{kind}-column",
                help=f"The column (or property) for the {kind}; default: the first of {default}.",
            )
        parser.add_argument(
            "--shelter-column",
            help="GTFS: the column saying a stop has a shelter (default: shelter, "
            "has_shelter, stop_shelter or bench_shelter if present).",
        )
        parser.add_argument(
            "--keep-missing",
            action="store_true",
            help="Do not deactivate assets missing from this file (a partial file).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would change; save nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        asset_type = AssetType.objects.filter(slug=options["type_slug"]).first()
        if asset_type is None:
            known = ", ".join(AssetType.objects.values_list("slug", flat=True)) or "none yet"
            raise CommandError(f"No asset type {options['type_slug']!r} (known: {known}).")
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
        fmt = options["format"] or detect_format(path.name, data)
        kinds = ("id", "name", "lat", "long", "address")
        columns = Columns(**{kind: options[f"{kind}_column"] for kind in kinds})
        try:
            parsed = read_assets(
                data, fmt=fmt, columns=columns, shelter_column=options["shelter_column"]
            )
        except FileRefused as exc:
            raise CommandError(f"{path.name} refused, nothing imported: {exc}") from exc
        show_bar = len(parsed.records) >= PROGRESS_FROM and (
            sys.stderr.isatty() or options["verbosity"] >= 2
        )
        summary = assets_import(
            asset_type=asset_type,
            parsed=parsed,
            dry_run=options["dry_run"],
            deactivate_missing=not options["keep_missing"],
            progress=self._bar if show_bar else None,
        )
        if options["verbosity"] >= 1:
            self.stdout.write(f"{path.name} ({fmt}) into {asset_type.name}:")
            for line in summary.lines():
                self.stdout.write(f"  {line}")

    def _bar(self, done: int, total: int) -> None:
        filled = BAR_WIDTH * done // total
        end = "\n" if done == total else ""
        self.stderr.write(
            f"\rImporting [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total}{end}",
            ending="",
        )
        self.stderr.flush()
