"""Address points and the streets they are on, as imported by `import_addresses`."""

from __future__ import annotations

from django.db import models


class AddressPoint(models.Model):
    """One address: a number on a street, at a point. `source_id` is the id in the city's
    file (Open311's `address_id`); a re-import updates the point with the same id."""

    source_id = models.CharField(max_length=64, unique=True)
    number = models.CharField(max_length=16, blank=True)
    street = models.CharField(max_length=120)
    unit = models.CharField(max_length=32, blank=True)
    postcode = models.CharField(max_length=16, blank=True)
    lat = models.FloatField()
    long = models.FloatField()
    # Lower case, abbreviations spelt out ("12 oak street"): what searches compare with.
    search_text = models.CharField(max_length=200, editable=False)

    class Meta:
        ordering = ["street", "number"]
        indexes = [
            models.Index(fields=["lat", "long"], name="address_point"),
            models.Index(fields=["search_text"], name="address_search_text"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        text = f"{self.number} {self.street}".strip()
        return f"{text}, unit {self.unit}" if self.unit else text


class Street(models.Model):
    """A street name and where it is (the middle of its address points), so that a search
    for "Oak Street" finds it without a house number. Rebuilt after each import."""

    name = models.CharField(max_length=120, unique=True)
    search_text = models.CharField(max_length=200, editable=False)
    lat = models.FloatField()
    long = models.FloatField()
    address_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
