"""The exports' columns: one list, read by both writers (PostgreSQL's and the portable one).

Only the sources named here are ever selected, so a reporter's contact fields cannot reach
an export; the field dictionary on /data/ is this list too."""

from __future__ import annotations

from dataclasses import dataclass

REDACTED = "[Description removed by moderator]"


@dataclass(frozen=True)
class Field:
    name: str
    source: str  # the values_list path; never a contact field
    kind: str
    description: str


FIELDS: tuple[Field, ...] = (
    Field("service_request_id", "pk", "integer", "The report's number (page /reports/<id>/)."),
    Field("service_code", "service__service_code", "string", "The category's Open311 code."),
    Field("service_name", "service__name", "string", "The category, as citizens see it."),
    Field("agency_responsible", "department__name", "string", "The department it is routed to."),
    Field("status", "status", "string", "open or closed (Open311)."),
    Field(
        "state",
        "state",
        "string",
        "Workflow state: new, acknowledged, in_progress, fixed, "
        "duplicate, not_actionable, referred.",
    ),  # fmt: skip
    Field("status_notes", "status_notes", "string", "The city's public note on the status."),
    Field(
        "description",
        "description",
        "string",
        f"The reporter's description, unless a moderator removed it (then “{REDACTED}”).",
    ),  # fmt: skip
    Field(
        "requested_datetime",
        "requested_datetime",
        "datetime",
        "When it was reported (UTC, ISO 8601).",
    ),  # fmt: skip
    Field("updated_datetime", "updated_datetime", "datetime", "Last change (UTC, ISO 8601)."),
    Field(
        "expected_datetime",
        "expected_datetime",
        "datetime",
        "The category's target time for closing it, when it has one (UTC).",
    ),  # fmt: skip
    Field(
        "closed_datetime",
        "closed_datetime",
        "datetime",
        "When it was closed (UTC); empty while open.",
    ),  # fmt: skip
    Field("address", "address", "string", "The address given, if any."),
    Field("zipcode", "zipcode", "string", "Postal code, if given."),
    Field("lat", "lat", "number", "Latitude, WGS84 decimal degrees; empty for address-only."),
    Field("long", "long", "number", "Longitude, WGS84 decimal degrees."),
    Field(
        "area",
        "area__name",
        "string",
        "The smallest named area (neighbourhood, district) the point lies in.",
    ),  # fmt: skip
    Field("source", "source", "string", "How it arrived: web, api, staff, adoption, generated."),
)
COLUMNS = [f.name for f in FIELDS]
# Texts from a fixed list the system sets, which never start a spreadsheet formula: the
# writers leave them as they are (spreadsheets.py; checking them cost a CSV export time).
FIXED_TEXTS = {"status", "state", "source"}
TYPED_TEXTS = [f.name for f in FIELDS if f.kind == "string" and f.name not in FIXED_TEXTS]
HEADER = (",".join(COLUMNS) + "\n").encode()  # no name needs quoting
