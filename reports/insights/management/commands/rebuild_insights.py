"""Recompute the dashboard's daily summary tables from the reports (PostgreSQL).

Triggers keep them exact as reports change; rebuild after restoring the reports table from
elsewhere, after a change of TIME_ZONE (days are local), or to check them."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection

from reports.insights import rollups


class Command(BaseCommand):
    help = "Recompute the insights dashboard's daily summary tables (PostgreSQL only)."

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            self.stdout.write("Nothing to do: the summary tables are PostgreSQL only.")
            return
        began = time.perf_counter()
        rollups.rebuild()
        self.stdout.write(f"Rebuilt the insights summaries in {time.perf_counter() - began:.1f} s.")
