"""Import named areas (neighbourhoods, districts, service areas) from a GeoJSON file.

Cities publish their neighbourhood and district boundaries as GeoJSON; routing rules and the
staff queue's area filter use them. Running the same file twice changes nothing, so it is
safe to re-run after the city updates its open data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from departments.models import Boundary
from departments.services import boundaries_import, geojson_features, geojson_load


class Command(BaseCommand):
    help = "Create or update boundaries from a GeoJSON FeatureCollection (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="A GeoJSON file (FeatureCollection).")
        parser.add_argument("--kind", required=True, choices=Boundary.Kind.values)
        parser.add_argument(
            "--name-field", default="name", help="The feature property that names each area."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and report, but save nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Can't read {path}: {exc.strerror}.") from exc
        try:
            result = boundaries_import(
                features=geojson_features(geojson_load(raw)),
                kind=options["kind"],
                name_field=options["name_field"],
                dry_run=options["dry_run"],
            )
        except ValidationError as exc:
            raise CommandError(f"{path}: nothing imported.\n" + "\n".join(exc.messages)) from exc
        verbosity = options["verbosity"]
        prefix = "Dry run, nothing saved: " if options["dry_run"] else ""
        self.stdout.write(
            f"{prefix}{len(result.created)} created, {len(result.updated)} updated, "
            f"{len(result.unchanged)} unchanged."
        )
        if verbosity >= 2:
            for label, names in (
                ("created", result.created),
                ("updated", result.updated),
                ("unchanged", result.unchanged),
            ):
                for name in names:
                    self.stdout.write(f"  {label}: {name}")
