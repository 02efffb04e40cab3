"""Issue an Open311 API key for an outside app.

The key is printed once and never stored (only its hash is), so whoever runs this must pass
it on right away; a lost key is replaced by issuing a new one and deactivating the old."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from reports.services.api_keys import api_key_create


class Command(BaseCommand):
    help = "Create an Open311 API key and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help='Who uses the key, e.g. "Greenway app".')
        parser.add_argument("--email", default="", help="Contact address of the key's owner.")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"].strip()
        if not name:
            raise CommandError('Give the key a name, e.g. "Greenway app".')
        try:
            key, raw = api_key_create(name=name, contact_email=options["email"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        if options["verbosity"] >= 1:
            self.stderr.write(f"Created API key #{key.pk} for {key.name}. It is shown only now:")
        self.stdout.write(raw)
