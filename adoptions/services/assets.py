"""Importing assets: an idempotent upsert by external id, in one transaction.

Assets the new file no longer lists are deactivated, never deleted; an adopted one keeps its
adoption and is flagged for staff, who decide what to tell the volunteer. An asset listed
again comes back. A row with an error but a readable id counts as listed (its asset is
left as it was, not deactivated because of a typo in another column).

Staff taking one asset out of service by hand (or putting it back) in the admin go through
`asset_active_set`, which does exactly what an import does to it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from adoptions.importer import Parsed, Record, RowError
from adoptions.models import Adoption, Asset, AssetType

BATCH = 500
UPDATED_FIELDS = [
    "name", "lat", "long", "address", "attributes", "active", "deactivated_at",
    "flagged_for_staff",
]  # fmt: skip


@dataclass
class ImportSummary:
    unit: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    flagged: int = 0  # of the deactivated: adopted ones, flagged for staff
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False

    def lines(self) -> list[str]:
        """The summary as a person reads it (the command and the admin show these)."""
        head = "Dry run, nothing saved: would have " if self.dry_run else ""
        out = [
            f"{head}created {self.created}, updated {self.updated}, unchanged "
            f"{self.unchanged}, deactivated {self.deactivated} "
            f"({self.flagged} adopted, flagged for staff), errors {len(self.errors)}."
        ]
        if self.skipped:
            out.append(f"Skipped {self.skipped} rows on purpose (see the import notes).")
        out += self.notes
        out += [f"{self.unit.capitalize()} {e.number}: {e.message}" for e in self.errors]
        return out


Progress = Callable[[int, int], None]


def assets_import(
    *,
    asset_type: AssetType,
    parsed: Parsed,
    dry_run: bool = False,
    deactivate_missing: bool = True,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Store what `parsed` (adoptions.importer.read_assets) holds for `asset_type`."""
    now = now or timezone.now()
    summary = ImportSummary(
        unit=parsed.unit,
        errors=list(parsed.errors),
        notes=list(parsed.notes),
        skipped=parsed.skipped,
        dry_run=dry_run,
    )
    total = len(parsed.records)
    with transaction.atomic():
        existing = {
            asset.external_id: asset
            for asset in Asset.objects.select_for_update().filter(asset_type=asset_type)
        }
        to_create: list[Asset] = []
        to_update: list[Asset] = []
        for done, record in enumerate(parsed.records, start=1):
            asset = existing.get(record.external_id)
            if asset is None:
                to_create.append(_new(asset_type, record))
            elif _apply(asset, record):
                to_update.append(asset)
            else:
                summary.unchanged += 1
            if progress and (done % 200 == 0 or done == total):
                progress(done, total)
        Asset.objects.bulk_create(to_create, batch_size=BATCH)
        _update(to_update)
        summary.created, summary.updated = len(to_create), len(to_update)
        if deactivate_missing:
            listed = {r.external_id for r in parsed.records} | {
                e.external_id for e in parsed.errors if e.external_id
            }
            gone = [a.pk for key, a in existing.items() if a.active and key not in listed]
            summary.deactivated, summary.flagged = _deactivate(gone, now)
        if dry_run:
            transaction.set_rollback(True)
    return summary


def _new(asset_type: AssetType, record: Record) -> Asset:
    # The importer has checked every field (ids, lengths, points within the city).
    return Asset(
        asset_type=asset_type,
        external_id=record.external_id,
        name=record.name,
        lat=record.lat,
        long=record.long,
        address=record.address,
        attributes=record.attributes,
    )


def _apply(asset: Asset, record: Record) -> bool:
    """Copy the record onto the asset; True if anything changed (a comeback included)."""
    wanted = {
        "name": record.name,
        "lat": record.lat,
        "long": record.long,
        "address": record.address,
        "attributes": record.attributes,
        "active": True,
        "deactivated_at": None,
        # Flagged when it left the list while adopted: back in it, nothing is left to do.
        "flagged_for_staff": False,
    }
    changed = False
    for name, value in wanted.items():
        if getattr(asset, name) != value:
            setattr(asset, name, value)
            changed = True
    return changed


def _update(assets: list[Asset]) -> None:
    """One parameterised UPDATE per changed asset, sent as a batch (executemany): Django's
    bulk_update builds a CASE per field and row, which takes seconds for a few thousand."""
    if not assets:
        return
    table = connection.ops.quote_name(Asset._meta.db_table)
    columns = ", ".join(f"{connection.ops.quote_name(name)} = %s" for name in UPDATED_FIELDS)
    now = timezone.now()
    rows = [
        (
            asset.name,
            asset.lat,
            asset.long,
            asset.address,
            json.dumps(asset.attributes),
            asset.active,
            asset.deactivated_at,
            asset.flagged_for_staff,
            now,
            asset.pk,
        )
        for asset in assets
    ]
    with connection.cursor() as cursor:
        cursor.executemany(f'UPDATE {table} SET {columns}, "updated" = %s WHERE "id" = %s', rows)


def asset_active_set(*, asset: Asset, active: bool, now: datetime | None = None) -> Asset:
    """Take one asset out of service (or put it back) as an import does: deactivated, it
    stays, and if adopted it keeps its adoption and is flagged for staff, who decide what to
    tell the volunteer; active again, its deactivation date and flag go (nothing is left to
    sort out). Unticking "active" in the admin once deactivated an adopted asset silently:
    no flag, no deactivation date, the volunteer never told. Under the asset's row lock, as
    the import takes it."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Asset.objects.select_for_update().get(pk=asset.pk)
        if active and not locked.active:
            Asset.objects.filter(pk=locked.pk).update(
                active=True, deactivated_at=None, flagged_for_staff=False, updated=now
            )
        elif not active and locked.active:
            _deactivate([locked.pk], now)
        locked.refresh_from_db()
    return locked


def _deactivate(asset_ids: list[int], now: datetime) -> tuple[int, int]:
    adopted = set(
        Adoption.objects.active().filter(asset_id__in=asset_ids).values_list("asset_id", flat=True)
    )
    Asset.objects.filter(pk__in=asset_ids).update(active=False, deactivated_at=now)
    Asset.objects.filter(pk__in=adopted).update(flagged_for_staff=True)
    return len(asset_ids), len(adopted)
