"""What a search or a reverse lookup answers."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Place:
    label: str
    lat: float
    long: float
    kind: str  # "address", "street" or "external"
    address_id: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)
