"""Open311 GeoReport v2 views. Thin: read parameters, call a queryset or a service,
answer in the format the URL asks for (.json or .xml)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, NoReturn, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, Throttled
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from civic311.cors import from_another_site
from reports.api import circles, documents, idempotency, listing, params
from reports.api.errors import (
    Open311Error,
    bad_request,
    messages_by_parameter,
    not_found,
    open311_exception_handler,
    validation_error_messages,
)
from reports.api.filters import (
    MAX_PAGE_SIZE,
    PARAMETERS,
    SIMPLE,
    ServiceRequestFilter,
    parse_extensions,
)
from reports.api.renderers import (
    Open311JSONRenderer,
    Open311XMLRenderer,
    SuffixContentNegotiation,
)
from reports.api.serializers import (
    ErrorSerializer,
    PostedRequestSerializer,
    ServiceDefinitionSerializer,
    ServiceRequestSerializer,
    ServiceSerializer,
    TokenSerializer,
)
from reports.api.throttles import AddressPostThrottle, ApiKeyPostThrottle
from reports.ids import parse_id
from reports.limits import MAX_TEXT
from reports.models import (
    ApiKey,
    AttributeValue,
    RequestToken,
    Service,
    ServiceAttribute,
    ServiceRequest,
    Submission,
)
from reports.service_catalogue import active_service
from reports.services.requests import report_create_via_api

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# Service Discovery's changeset tells clients to refresh cached service lists; the list
# has no modification time of its own, so the time this process started stands in.
STARTED = datetime.now(UTC).replace(microsecond=0)

JURISDICTION = OpenApiParameter(
    "jurisdiction_id", str, description="Optional; a jurisdiction other than ours is a 404."
)
EXTENSIONS = OpenApiParameter(
    "extensions", bool, description="Extension: notes, attributes, photos, supporters."
)
# Error answers are lists (ENABLE_LIST_MECHANICS_ON_NON_2XX makes the schema say so).
ERRORS = {
    400: OpenApiResponse(ErrorSerializer(many=True), description="Bad parameter"),
    404: OpenApiResponse(ErrorSerializer(many=True), description="Not found"),
}


def _post_form(*, with_media: bool) -> dict[str, Any]:
    """The POST body's fields, as raw OpenAPI (attribute[CODE] is not a serializer field)."""
    text = {"type": "string"}
    properties: dict[str, Any] = {
        "service_code": {**text, "description": "From GET services."},
        "lat": {"type": "number", "description": "WGS84 latitude, with long."},
        "long": {"type": "number", "description": "WGS84 longitude, with lat."},
        "address_string": {**text, "description": "Instead of lat/long."},
        "address_id": {**text, "description": "Instead of lat/long."},
        "email": {**text, "format": "email", "description": "Private: never published."},
        "device_id": {**text, "description": "Private: never published."},
        "account_id": {**text, "description": "Private: never published."},
        "first_name": {**text, "description": "Private: never published."},
        "last_name": {**text, "description": "Private: never published."},
        "phone": {**text, "description": "Private: never published."},
        "description": {**text, "maxLength": MAX_TEXT},
        "media_url": {**text, "format": "uri", "description": "A photo hosted elsewhere."},
        "api_key": {
            **text,
            "description": "Or the X-Api-Key header (best: kept out of access logs), "
            "or the query string.",
        },
        "attribute[CODE]": {
            **text,
            "description": (
                "One field per attribute of the service definition, CODE being its code; "
                "multivaluelist answers repeat attribute[CODE][]."
            ),
        },
    }
    if with_media:
        properties["media"] = {"type": "string", "format": "binary"}
    return {"type": "object", "properties": properties, "required": ["service_code"]}


class Open311Api(APIView):
    """Common ground: both formats, form posts, no sessions, spec-shaped errors."""

    renderer_classes = [Open311JSONRenderer, Open311XMLRenderer]
    content_negotiation_class = SuffixContentNegotiation
    parser_classes = [FormParser, MultiPartParser]
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    xml_root = "response"
    xml_item = "item"

    def get_format_suffix(self, **kwargs: Any) -> str | None:
        # The URL group is "fmt", not DRF's "format": schema generators skip paths that end
        # in ".{format}" as duplicates, and these are the only paths there are.
        return kwargs.get("fmt")

    def get_exception_handler(self):
        return open311_exception_handler

    def throttled(self, request: Request, wait: float | None) -> NoReturn:
        raise Throttled(wait, detail="Too many requests from this client or API key.")

    def check_throttles(self, request: Request) -> None:
        # DRF's initial() runs this after choosing the format (so errors come in the asked
        # format) and before anything reads the body: the place to refuse unusable input.
        params.check_input(request, self.kwargs)
        super().check_throttles(request)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        jurisdiction = params.one_value(request.query_params, "jurisdiction_id")
        if not jurisdiction and request.method == "POST":
            jurisdiction = params.one_value(form_data(request), "jurisdiction_id")
        if jurisdiction and jurisdiction != settings.OPEN311_JURISDICTION_ID:
            raise not_found(f"jurisdiction_id {jurisdiction} is not served here.")


class ServiceListApi(Open311Api):
    xml_root, xml_item = "services", "service"

    @extend_schema(
        summary="List services",
        parameters=[JURISDICTION],
        responses={200: ServiceSerializer(many=True), 404: ERRORS[404]},
    )
    def get(self, request: Request, fmt: str | None = None) -> Response:
        """The active service types (categories) a report can be filed under;
        `metadata` says whether the service has attributes to answer."""
        services = Service.objects.active().annotate(
            metadata=Exists(ServiceAttribute.objects.filter(service=OuterRef("pk"), active=True))
        )
        return Response(ServiceSerializer(services, many=True).data)


class ServiceDefinitionApi(Open311Api):
    xml_root = "service_definition"

    @extend_schema(
        summary="Get a service definition",
        parameters=[JURISDICTION],
        responses={200: ServiceDefinitionSerializer, **ERRORS},
    )
    def get(self, request: Request, service_code: str, fmt: str | None = None) -> Response:
        """A service's attributes (the questions a report answers), in order, with the
        allowed values of list attributes (retired questions are not asked). An unknown or
        inactive service is a 404."""
        service = (
            Service.objects.active()
            .filter(service_code=service_code)
            .prefetch_related(
                Prefetch(
                    "attributes",
                    queryset=ServiceAttribute.objects.filter(active=True).prefetch_related(
                        Prefetch("values", queryset=AttributeValue.objects.order_by("order", "pk"))
                    ),
                )
            )
            .first()
        )
        if service is None:
            raise not_found(f"service_code {service_code} not found.")
        return Response(ServiceDefinitionSerializer(service).data)


def only(query: QueryDict, *names: str) -> QueryDict:
    """`query` with just these parameters."""
    kept = QueryDict(mutable=True)
    for name in names:
        if name in query:
            kept.setlist(name, query.getlist(name))
    return kept


def form_data(request: Request) -> QueryDict:
    """The POSTed form (Open311 posts forms, never JSON: the parsers accept nothing else)."""
    return cast(QueryDict, request.data)


def extensions_requested(query: QueryDict) -> bool:
    try:
        return parse_extensions(params.one_value(query, "extensions"))
    except ValidationError as exc:
        raise bad_request(exc.messages) from exc


class ServiceRequestListApi(Open311Api):
    xml_root, xml_item = "service_requests", "request"
    throttle_classes = [ApiKeyPostThrottle, AddressPostThrottle]

    @extend_schema(
        summary="List service requests",
        parameters=[
            JURISDICTION,
            OpenApiParameter("service_request_id", str, description="Comma list; overrides all."),
            OpenApiParameter("service_code", str, description="Comma list."),
            OpenApiParameter("status", str, description="Comma list of open, closed."),
            OpenApiParameter("start_date", OpenApiTypes.DATETIME, description="W3C, with zone."),
            OpenApiParameter("end_date", OpenApiTypes.DATETIME, description="At most 90 days on."),
            OpenApiParameter(
                "updated_after",
                OpenApiTypes.DATETIME,
                description="Extension. Without start/end dates the 90-day window is on updates.",
            ),
            OpenApiParameter("updated_before", OpenApiTypes.DATETIME, description="Extension."),
            OpenApiParameter("bbox", str, description="Extension: west,south,east,north."),
            OpenApiParameter("page", int, description="Extension, from 1."),
            OpenApiParameter("page_size", int, description="Extension, 1–1000 (default 1000)."),
            OpenApiParameter(
                "cursor",
                str,
                description="Extension: where the next page starts, from the Link header "
                '(rel="next") of a full page; faster than page for deep paging.',
            ),
            OpenApiParameter("lat", float, description="Extension: radius search centre."),
            OpenApiParameter("long", float, description="Extension: radius search centre."),
            OpenApiParameter(
                "radius", float, description="Extension: metres around lat/long, 1–50000."
            ),
            OpenApiParameter(
                "sort",
                str,
                enum=["requested", "distance"],
                description="Extension: requested (newest first, the default) or distance "
                "(nearest first; needs lat, long and radius).",
            ),
            EXTENSIONS,
        ],
        responses={200: ServiceRequestSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, fmt: str | None = None) -> Response:
        """Public reports, newest first: by default those requested in the last 90 days
        (with only updated_after/updated_before, updated in the window). Hidden reports
        never appear; contact details of reporters never do."""
        query = params.merged_query(request.query_params, PARAMETERS)
        if query.get("service_request_id"):
            # The spec: service_request_id "overrides all other arguments" (a bad status
            # or page beside it is not read either). The cursor stays: it is where the
            # Link header of a full page of ids leads, the next of those ids.
            query = only(query, "service_request_id", "jurisdiction_id", "extensions", "cursor")
        extended = extensions_requested(query)
        now = timezone.now()
        filterset = ServiceRequestFilter(query, queryset=ServiceRequest.objects.public(now))
        if not filterset.is_valid():
            raise bad_request(messages_by_parameter(filterset.errors))
        options = filterset.form.cleaned_data
        window, narrowed = filterset.requested_window("cursor"), None
        if window is None and ((options.get("page") or 1) == 1 or options.get("cursor")):
            # Also narrowed by category, status or box: its first page and the pages after
            # a cursor are the same statement with those conditions (documents.read_page).
            window = filterset.requested_window("cursor", *SIMPLE)
            narrowed = filterset.narrowing() if window else None
        circle, cells, plain_circle = options.get("radius") is not None, None, None
        if circle:
            centre = options["lat"], options["long"], options["radius"]
            cells = circles.circle_cells(*centre)
            bounds = filterset.requested_window("radius", "cursor")
            if bounds:
                plain_circle = circles.Circle(*centre, cells, *bounds, now)

        def filtered() -> QuerySet[ServiceRequest]:
            # Built only when the ORM reads the page: the SQL statements of the plain list
            # and the radius function don't need it (0.08 ms, with a radius 0.24).
            return listing.around(filterset.qs, *centre)[0] if circle else filterset.qs

        size = options.get("page_size") or MAX_PAGE_SIZE
        page = documents.read_page(
            filtered,
            size=size,
            page=options.get("page") or 1,
            cursor=options.get("cursor"),
            by_distance=options.get("sort") == "distance",
            in_circle=circle,
            in_cells=cells is not None,
            plain=(*window, now) if window else None,
            narrowed=narrowed,
            circle=plain_circle,
            extended=extended,
            xml=fmt == "xml",
            origin=documents.origin_of(request),
        )
        response = Response(page.answer)
        following = query.copy()
        if page.next_cursor:
            following.pop("page", None)
            following["cursor"] = page.next_cursor
        elif options.get("sort") == "distance" and len(page.answer.items) >= size:
            # Nearest first pages go by number (a cursor pages the newest-first order): a
            # full page links to the next number, or a client that follows Link headers
            # stopped after the first page.
            following["page"] = str((options.get("page") or 1) + 1)
        else:
            return response
        url = request.build_absolute_uri(f"{request.path}?{following.urlencode()}")
        response["Link"] = f'<{url}>; rel="next"'
        return response

    @extend_schema(
        summary="Create a service request",
        parameters=[
            JURISDICTION,
            OpenApiParameter(
                "X-Api-Key",
                str,
                location=OpenApiParameter.HEADER,
                description="The API key (instead of the api_key field or query parameter).",
            ),
            OpenApiParameter(
                "Idempotency-Key",
                str,
                location=OpenApiParameter.HEADER,
                description="Optional: a key of the client's own, new for each report. Sent "
                "again with the same request, the answer is the report already made (header "
                "Idempotent-Replayed: true); with another request, a 422.",
            ),
        ],
        request={
            "application/x-www-form-urlencoded": _post_form(with_media=False),
            "multipart/form-data": _post_form(with_media=True),
        },
        responses={
            200: PostedRequestSerializer(many=True),
            403: OpenApiResponse(ErrorSerializer(many=True), description="Bad api_key"),
            **ERRORS,
            422: OpenApiResponse(
                ErrorSerializer(many=True),
                description="Idempotency-Key sent before with another request",
            ),
            413: OpenApiResponse(
                ErrorSerializer(many=True),
                description="Body over the limits (5 MB of form data, 35 MB in all)",
            ),
            429: OpenApiResponse(
                ErrorSerializer(many=True),
                description="Too many posts from this API key or address; see Retry-After",
            ),
        },
    )
    def post(self, request: Request, fmt: str | None = None) -> Response:
        """File a report (needs an api_key, best sent as the X-Api-Key header). A location
        is lat+long, address_string or address_id; attributes are checked against the service
        definition; a photo is the multipart part `media`. Realtime services answer the new
        service_request_id, batch services a token. Nothing is stored when the answer is an
        error."""
        if from_another_site(request._request):
            raise Open311Error(
                status.HTTP_403_FORBIDDEN,
                "Reports are not accepted from another site's web page: post them from your "
                "own server or app.",
            )
        data = form_data(request)
        raw_key = params.api_key_from(request)
        api_key = ApiKey.objects.active().with_raw_key(raw_key).first() if raw_key else None
        if api_key is None:
            message = "api_key is not valid." if raw_key else "api_key is missing."
            raise Open311Error(status.HTTP_403_FORBIDDEN, message)
        if conflicts := params.conflicting(data):
            raise bad_request(conflicts)
        media = request.FILES.getlist("media")
        submission = idempotency.token_of(request, api_key)
        fingerprint = ""
        if submission is not None:
            fingerprint = idempotency.fingerprint(data, media)
            earlier = idempotency.sent_before(submission, fingerprint)
            if earlier is not None:
                return replayed(earlier)
        service_code = params.field(data, "service_code")
        if not service_code:
            raise bad_request("service_code is required.")
        # An inactive service is as absent as in GET services/<code>: the same 404. With
        # its department (routing's default, named in the new report's email) and questions.
        service = active_service(service_code)
        if service is None:
            raise not_found(f"service_code {service_code} not found.")
        try:
            report, token = report_create_via_api(
                service=service,
                api_key=api_key,
                fields=params.report_fields(data),
                attributes=params.attributes_from(data),
                photos=media,
                submission=submission,
                fingerprint=fingerprint,
            )
        except ValidationError as exc:
            raise bad_request(validation_error_messages(exc)) from exc
        except IntegrityError:
            # Sent twice at once with one Idempotency-Key: the other sending made the report.
            earlier = idempotency.sent_before(submission, fingerprint) if submission else None
            if earlier is None:
                raise
            return replayed(earlier)
        return posted(report, token)


def posted(report: ServiceRequest, token: RequestToken | None) -> Response:
    """POST's answer: the new service_request_id, or a batch service's token."""
    answer = {"token": str(token.token)} if token else {"service_request_id": str(report.pk)}
    return Response([{**answer, "service_notice": ""}])


def replayed(earlier: Submission) -> Response:
    """The answer an earlier sending with the same Idempotency-Key got, said in a header."""
    token = RequestToken.objects.filter(request=earlier.request_id).first()
    response = posted(earlier.request, token)
    response["Idempotent-Replayed"] = "true"
    return response


class ServiceRequestDetailApi(Open311Api):
    xml_root, xml_item = "service_requests", "request"

    @extend_schema(
        summary="Get a service request",
        parameters=[JURISDICTION, EXTENSIONS],
        responses={200: ServiceRequestSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, service_request_id: str, fmt: str | None = None) -> Response:
        """One public report, as a list of one (as the spec says). Hidden or unknown is
        a 404."""
        extended = extensions_requested(request.query_params)
        found = None
        pk = parse_id(service_request_id)
        if pk is not None:
            one = ServiceRequest.objects.public().filter(pk=pk)
            origin = documents.origin_of(request)
            found = documents.read_page(
                lambda: one, size=1, extended=extended, xml=fmt == "xml", origin=origin
            ).answer
        if found is None or not found.items:
            raise not_found(f"service_request_id {service_request_id} not found.")
        return Response(found)


class TokenApi(Open311Api):
    xml_root, xml_item = "service_requests", "request"

    @extend_schema(
        summary="Get a service request id from a token",
        parameters=[JURISDICTION],
        responses={200: TokenSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, token: str, fmt: str | None = None) -> Response:
        """The id of the report a batch service's token stands for (null until the report
        exists)."""
        try:
            value = uuid.UUID(token)
        except ValueError:
            value = None
        found = RequestToken.objects.filter(token=value).first() if value else None
        if found is None:
            raise not_found(f"token {token} not found.")
        request_id = str(found.request_id) if found.request_id else None
        return Response([{"service_request_id": request_id, "token": str(found.token)}])


class DiscoveryApi(Open311Api):
    xml_root = "discovery"

    # Tagged by hand: the automatic tag is the path's first segment, "discovery." here.
    @extend_schema(
        summary="Service discovery", tags=["discovery"], responses={200: OpenApiTypes.OBJECT}
    )
    def get(self, request: Request, fmt: str | None = None) -> Response:
        """Where this Open311 endpoint is, its formats, contact and how to get a key;
        `changeset` changes when the service list may have changed."""
        changeset = STARTED.isoformat().replace("+00:00", "Z")
        return Response(
            {
                "changeset": changeset,
                "contact": f"{settings.CITY_NAME} 311, {settings.CITY_CONTACT_EMAIL}",
                "key_service": f"Ask {settings.CITY_CONTACT_EMAIL} for an API key.",
                "endpoints": [
                    {
                        "specification": SPECIFICATION,
                        "url": request.build_absolute_uri(reverse("open311:root")).rstrip("/"),
                        "changeset": changeset,
                        "type": "production",
                        "formats": ["text/xml", "application/json"],
                    }
                ],
            }
        )


class NotFoundApi(Open311Api):
    """Any other path under /open311/: the spec's 404 error list, in the asked format."""

    schema = None  # not part of the documented API

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Skip the jurisdiction check: a wrong path is a 404 whatever else was sent.
        APIView.initial(self, request, *args, **kwargs)

    def dispatch_404(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise NotFound(f"No Open311 resource at {request.path}.")

    get = post = put = patch = delete = dispatch_404
