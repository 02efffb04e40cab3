"""Which answers other web sites' scripts may read (CORS, with django-cors-headers).

Open data is meant to be used anywhere: the Open311 API's reads (discovery, services,
requests, tokens), the downloads under /data/ and the catalogues (/data.json,
/data/catalog.jsonld) answer GET from any origin. Nothing else is opened: no page, no
form, no admin, and no write. An Open311 POST carries an API key, and a key written into
a web page is public to every visitor, so keys are for servers and native apps. Sending no
CORS headers only keeps another site's script from reading the answer: a form post is sent
without asking first. So a POST that a browser says comes from another site's page is
refused outright (`from_another_site`), which keeps a copied key from being driven from
many visitors' browsers (and so from many addresses, round the per-address limit)."""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest

READ_METHODS = ("GET", "HEAD", "OPTIONS")
OPEN_PATHS = re.compile(r"^/(?:open311/|data/(?:reports\.|dumps/|catalog\.jsonld$)|data\.json$)")


def open_data_reads(sender: Any, request: HttpRequest, **kwargs: Any) -> bool:
    """django-cors-headers' check_request_enabled receiver: CORS for reads of open data."""
    return request.method in READ_METHODS and bool(OPEN_PATHS.match(request.path_info))


def from_another_site(request: HttpRequest) -> bool:
    """Whether a browser sent this request from another site's page: its Fetch Metadata
    says so, or (browsers without it) its Origin is not this site's. Servers and native
    apps send neither."""
    fetched_from = request.headers.get("Sec-Fetch-Site")
    if fetched_from is not None:
        return fetched_from == "cross-site"
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return bool(origin)  # "null": a sandboxed or file page
    return origin != f"{request.scheme}://{request.get_host()}"
