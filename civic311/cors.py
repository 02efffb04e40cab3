"""Which answers other web sites' scripts may read (CORS, with django-cors-headers).

Open data is meant to be used anywhere: the Open311 API's reads (discovery, services,
requests, tokens), the downloads under /data/ and the catalogues (/data.json,
/data/catalog.jsonld) answer GET from any origin. Nothing else is opened: no page, no
form, no admin, and no write. An Open311 POST carries an API key, and a key written into
a web page is public to every visitor, so keys are for servers and native apps; refusing
cross-site POST keeps a copied key from being driven from many visitors' browsers (and so
from many addresses, round the per-address limit)."""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest

READ_METHODS = ("GET", "HEAD", "OPTIONS")
OPEN_PATHS = re.compile(r"^/(?:open311/|data/(?:reports\.|dumps/|catalog\.jsonld$)|data\.json$)")


def open_data_reads(sender: Any, request: HttpRequest, **kwargs: Any) -> bool:
    """django-cors-headers' check_request_enabled receiver: CORS for reads of open data."""
    return request.method in READ_METHODS and bool(OPEN_PATHS.match(request.path_info))
