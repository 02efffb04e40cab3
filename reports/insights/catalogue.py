"""The open-data catalogue that portals harvest: DCAT-US 1.1 (`/data.json`, the Project
Open Data schema that Socrata, CKAN and data.gov read) and DCAT-AP as JSON-LD.

Both describe the same datasets, built once by `datasets()`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from reports.insights import exports
from reports.models import ServiceRequest
from reports.service_list_changes import services_changed_at

DCAT_US_SCHEMA = "https://project-open-data.cio.gov/v1.1/schema"
DCAT_US_CONTEXT = "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld"
DCAT_US_DESCRIBED_BY = "https://project-open-data.cio.gov/v1.1/schema/catalog.json"
MEDIA_TYPES = {"csv": "text/csv", "geojson": "application/geo+json"}
# DCAT-AP names a distribution's format by the EU's file-type vocabulary (the API's is JSON).
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
EU_FILE_TYPES = {"CSV": "CSV", "GEOJSON": "GEOJSON", "API": "JSON", "JSON": "JSON"}


def publisher() -> str:
    return getattr(settings, "OPEN_DATA_PUBLISHER", "") or f"City of {settings.CITY_NAME}"


def licence() -> tuple[str, str]:
    return settings.OPEN_DATA_LICENSE_NAME, settings.OPEN_DATA_LICENSE_URL


@dataclass
class Distribution:
    title: str
    url: str
    media_type: str
    fmt: str
    download: bool
    description: str = ""
    conforms_to: str = ""


@dataclass
class Dataset:
    identifier: str
    title: str
    description: str
    keywords: list[str]
    modified: datetime
    landing_page: str
    described_by: str
    distributions: list[Distribution]
    temporal: tuple[datetime, datetime] | None = None
    periodicity: str = "R/P1D"


def last_change() -> datetime | None:
    """When the published data last changed: the latest change to a report past its
    preview window, hidden ones included, or the latest deletion of a report (superusers
    delete in the admin, whose history records it). Why: hiding or deleting a report takes
    its row out of the data, and a portal that harvests again when `modified` moves must
    see that move; the public reports' own latest change stays where it was, or goes back.
    Two indexed single-row reads."""
    published = ServiceRequest.objects.filter(published_at__lte=timezone.now())
    changed = (
        published.order_by("-updated_datetime").values_list("updated_datetime", flat=True).first()
    )
    deleted = (
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(ServiceRequest),
            action_flag=DELETION,
        )
        .order_by("-action_time")
        .values_list("action_time", flat=True)
        .first()
    )
    return max((moment for moment in (changed, deleted) if moment is not None), default=None)


def _span() -> tuple[datetime | None, datetime | None, datetime | None]:
    """First and last report, and the last change: three indexed single-row reads."""
    public = ServiceRequest.objects.public()
    first = public.order_by("requested_datetime").values_list("requested_datetime", flat=True)
    last = public.order_by("-requested_datetime").values_list("requested_datetime", flat=True)
    return first.first(), last.first(), last_change()


def datasets(absolute: Callable[[str], str]) -> list[Dataset]:
    """Each dataset's `modified` is when its data last changed, never the time of asking:
    harvesters fetch a dataset again whenever it moves."""
    first, last, changed = _span()
    categories_changed = services_changed_at()
    data_page = absolute(reverse("insights:data"))
    dictionary = absolute(reverse("insights:data")) + "#dictionary"
    city = settings.CITY_NAME
    distributions = [
        Distribution(
            f"All public reports ({fmt.upper()}, live)",
            absolute(reverse("insights:export", args=[fmt])),
            MEDIA_TYPES[fmt],
            fmt.upper(),
            True,
            "Streamed from the live database; accepts the Open311 filters and area.",
        )
        for fmt in ("csv", "geojson")
    ]
    for fmt in ("csv", "geojson"):
        info = exports.dump_info(fmt)
        if info is not None:
            distributions.append(
                Distribution(
                    f"Nightly full dump ({fmt.upper()})",
                    absolute(reverse("insights:dump", args=[fmt])),
                    MEDIA_TYPES[fmt],
                    fmt.upper(),
                    True,
                    f"Written every night; {info.size} bytes, {info.modified:%Y-%m-%d %H:%M} UTC.",
                )
            )
    distributions.append(
        Distribution(
            "Open311 GeoReport v2 API",
            absolute("/open311/v2/requests.json"),
            "application/json",
            "API",
            False,
            "Reports of the last 90 days by default; see the API documentation.",
            "http://wiki.open311.org/GeoReport_v2",
        )
    )
    reports = Dataset(
        identifier=absolute(reverse("insights:data")) + "#reports",
        title=f"{city} 311 service requests",
        description=(
            f"Every non-emergency problem reported to {city} 311 (potholes, streetlights, "
            "graffiti, found syringes…) with its category, location, status, responsible "
            "department and dates. Reporters' names and contact details are never published; "
            "reports removed by moderators are left out."
        ),
        keywords=["311", "service requests", "open311", city.lower()],
        # No report yet: dated as the categories are (at the latest the portal's install),
        # so that it stays put until the first one.
        modified=changed or categories_changed,
        landing_page=data_page,
        described_by=dictionary,
        distributions=distributions,
        temporal=(first, last) if first and last else None,
    )
    services = Dataset(
        identifier=absolute(reverse("insights:data")) + "#services",
        title=f"{city} 311 service categories",
        description="The categories of problem citizens can report, with their questions.",
        keywords=["311", "open311", "service categories"],
        modified=categories_changed,
        landing_page=data_page,
        described_by=absolute("/api/docs/"),
        distributions=[
            Distribution(
                "Open311 services list",
                absolute("/open311/v2/services.json"),
                "application/json",
                "JSON",
                True,
                conforms_to="http://wiki.open311.org/GeoReport_v2",
            )
        ],
        periodicity="irregular",
    )
    return [reports, services]


def _iso(value: datetime) -> str:
    return value.astimezone(timezone.get_fixed_timezone(0)).replace(microsecond=0).isoformat()


def last_modified(found: list[Dataset]) -> datetime:
    """The catalogue's own last change, for its Last-Modified header: the latest of its
    datasets' `modified` and of the nightly dumps it lists (their size and date are in it)."""
    dumps = [info.modified for fmt in ("csv", "geojson") if (info := exports.dump_info(fmt))]
    return max([dataset.modified for dataset in found] + dumps)


def dcat_us(absolute: Callable[[str], str], found: list[Dataset] | None = None) -> dict[str, Any]:
    """`found`: the datasets, when the caller has read them already."""
    name, url = licence()
    catalogue: dict[str, Any] = {
        "@context": DCAT_US_CONTEXT,
        "@id": absolute(reverse("insights:data-json")),
        "@type": "dcat:Catalog",
        "conformsTo": DCAT_US_SCHEMA,
        "describedBy": DCAT_US_DESCRIBED_BY,
        "dataset": [],
    }
    for dataset in datasets(absolute) if found is None else found:
        entry: dict[str, Any] = {
            "@type": "dcat:Dataset",
            "title": dataset.title,
            "description": dataset.description,
            "keyword": dataset.keywords,
            "modified": _iso(dataset.modified),
            "publisher": {"@type": "org:Organization", "name": publisher()},
            "contactPoint": {
                "@type": "vcard:Contact",
                "fn": f"{settings.CITY_NAME} 311",
                "hasEmail": f"mailto:{settings.CITY_CONTACT_EMAIL}",
            },
            "identifier": dataset.identifier,
            "accessLevel": "public",
            "license": url,
            "rights": f"Published under {name}.",
            "landingPage": dataset.landing_page,
            "describedBy": dataset.described_by,
            "accrualPeriodicity": dataset.periodicity,
            "spatial": ",".join(str(v) for v in _west_south_east_north()),
            "language": [settings.LANGUAGE_CODE],
            "distribution": [_dcat_us_distribution(d) for d in dataset.distributions],
        }
        if dataset.temporal:
            entry["temporal"] = f"{_iso(dataset.temporal[0])}/{_iso(dataset.temporal[1])}"
        # Federal agencies must give OMB codes; a city leaves them unset.
        if settings.OPEN_DATA_BUREAU_CODE:
            entry["bureauCode"] = [settings.OPEN_DATA_BUREAU_CODE]
        if settings.OPEN_DATA_PROGRAM_CODE:
            entry["programCode"] = [settings.OPEN_DATA_PROGRAM_CODE]
        catalogue["dataset"].append(entry)
    return catalogue


def _dcat_us_distribution(d: Distribution) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "@type": "dcat:Distribution",
        "title": d.title,
        "mediaType": d.media_type,
        "format": d.fmt,
    }
    entry["downloadURL" if d.download else "accessURL"] = d.url
    if d.description:
        entry["description"] = d.description
    if d.conforms_to:
        entry["conformsTo"] = d.conforms_to
    return entry


def _west_south_east_north() -> tuple[float, float, float, float]:
    south, west, north, east = settings.MAP_BOUNDS
    return west, south, east, north


DCAT_AP_CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "locn": "http://www.w3.org/ns/locn#",
    "dct:modified": {"@type": "xsd:dateTime"},
    "dcat:startDate": {"@type": "xsd:dateTime"},
    "dcat:endDate": {"@type": "xsd:dateTime"},
    "dcat:accessURL": {"@type": "@id"},
    "dcat:downloadURL": {"@type": "@id"},
    "dcat:landingPage": {"@type": "@id"},
    # DCAT-AP: a media type and a format are resources (IANA's and the EU's file types).
    "dcat:mediaType": {"@type": "@id"},
    "dct:format": {"@type": "@id"},
    "dct:license": {"@type": "@id"},
    "dct:conformsTo": {"@type": "@id"},
    "vcard:hasEmail": {"@type": "@id"},
}


def dcat_ap(absolute: Callable[[str], str], found: list[Dataset] | None = None) -> dict[str, Any]:
    """DCAT-AP 2 as JSON-LD: a dcat:Catalog with its datasets and distributions."""
    name, url = licence()
    agent = {"@type": "foaf:Agent", "foaf:name": publisher()}
    items = []
    for dataset in datasets(absolute) if found is None else found:
        item: dict[str, Any] = {
            "@id": dataset.identifier,
            "@type": "dcat:Dataset",
            "dct:identifier": dataset.identifier,
            "dct:title": dataset.title,
            "dct:description": dataset.description,
            "dcat:keyword": dataset.keywords,
            "dct:modified": _iso(dataset.modified),
            "dct:publisher": agent,
            "dcat:contactPoint": {
                "@type": "vcard:Organization",
                "vcard:fn": f"{settings.CITY_NAME} 311",
                "vcard:hasEmail": f"mailto:{settings.CITY_CONTACT_EMAIL}",
            },
            "dcat:landingPage": dataset.landing_page,
            "dct:spatial": {
                "@type": "dct:Location",
                "dcat:bbox": "POLYGON(({w} {s},{e} {s},{e} {n},{w} {n},{w} {s}))".format(
                    **dict(zip("wsen", _west_south_east_north(), strict=True))
                ),
            },
            "dcat:distribution": [
                {
                    "@type": "dcat:Distribution",
                    "dct:title": d.title,
                    "dcat:accessURL": d.url,
                    **({"dcat:downloadURL": d.url} if d.download else {}),
                    "dcat:mediaType": f"http://www.iana.org/assignments/media-types/{d.media_type}",
                    "dct:format": EU_FILE_TYPE + EU_FILE_TYPES[d.fmt],
                    "dct:license": url,
                    **({"dct:description": d.description} if d.description else {}),
                    **({"dct:conformsTo": d.conforms_to} if d.conforms_to else {}),
                }
                for d in dataset.distributions
            ],
        }
        if dataset.temporal:
            item["dct:temporal"] = {
                "@type": "dct:PeriodOfTime",
                "dcat:startDate": _iso(dataset.temporal[0]),
                "dcat:endDate": _iso(dataset.temporal[1]),
            }
        items.append(item)
    return {
        "@context": DCAT_AP_CONTEXT,
        "@id": absolute(reverse("insights:dcat-ap")),
        "@type": "dcat:Catalog",
        "dct:title": f"{settings.CITY_NAME} 311 open data",
        "dct:description": f"Open data published by {settings.CITY_NAME} 311.",
        "dct:publisher": agent,
        "dct:license": {"@id": url, "dct:title": name},
        "dcat:dataset": items,
    }
