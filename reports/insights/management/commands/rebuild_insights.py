"""Recompute the dashboard's daily summary tables from the reports (PostgreSQL), or on
SQLite the public reports' hourly and weekly counts (reports/insights/hours.py).

Triggers keep them exact as reports change; rebuild after restoring the reports table from
elsewhere, after a change of TIME_ZONE (days are local), or to check them."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from reports.insights import hours, rollups


class Command(BaseCommand):
    help = "Recompute the insights summary tables (on SQLite: the hourly counts only)."

    def handle(self, *args: Any, **options: Any) -> None:
        began = time.perf_counter()
        if connection.vendor == "sqlite":
            with transaction.atomic(), connection.cursor() as cursor:
                hours.recount(cursor)
            self.stdout.write(
                "Counted the public reports by hour and week again in "
                f"{time.perf_counter() - began:.1f} s (the other summaries are PostgreSQL's)."
            )
            return
        if connection.vendor != "postgresql":
            self.stdout.write("Nothing to do: the summary tables are PostgreSQL's and SQLite's.")
            return
        rollups.rebuild()
        self.stdout.write(f"Rebuilt the insights summaries in {time.perf_counter() - began:.1f} s.")
