"""Open311 representations. Read-only: writes go through reports.services.

Ids and codes are strings; datetimes carry the site's time zone offset; the reporter's
contact fields are never read here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rest_framework import serializers

from reports.models import ServiceAttribute, ServiceRequest


class W3CDateTimeField(serializers.DateTimeField):
    """Whole seconds with the offset (2026-11-24T22:42:31-05:00), as the spec's examples
    show: some clients' W3C parsers refuse fractional seconds."""

    def to_representation(self, value: datetime) -> str:
        # Serializers answer None for a missing value without calling this.
        return super().to_representation(value.replace(microsecond=0))


class ServiceSerializer(serializers.Serializer):
    service_code = serializers.CharField()
    service_name = serializers.CharField(source="name")
    description = serializers.CharField()
    metadata = serializers.BooleanField(help_text="True when the service has attributes.")
    type = serializers.CharField()
    keywords = serializers.CharField()
    group = serializers.CharField()


class AttributeValueSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()


class ServiceAttributeSerializer(serializers.Serializer):
    variable = serializers.BooleanField()
    code = serializers.CharField()
    datatype = serializers.ChoiceField(choices=ServiceAttribute.Datatype.choices)
    required = serializers.BooleanField()  # type: ignore[assignment]  # Field.required
    datatype_description = serializers.CharField()
    order = serializers.IntegerField()
    description = serializers.CharField()
    values = AttributeValueSerializer(many=True, source="values.all")


class ServiceDefinitionSerializer(serializers.Serializer):
    service_code = serializers.CharField()
    attributes = ServiceAttributeSerializer(many=True, source="attributes.all")


class ServiceRequestSerializer(serializers.Serializer):
    service_request_id = serializers.CharField(source="pk")
    status = serializers.ChoiceField(choices=ServiceRequest.Status.choices)
    status_notes = serializers.CharField()
    service_name = serializers.CharField(source="service.name")
    service_code = serializers.CharField(source="service.service_code")
    description = serializers.CharField(source="public_description")
    agency_responsible = serializers.SerializerMethodField()
    service_notice = serializers.SerializerMethodField()
    requested_datetime = W3CDateTimeField()
    updated_datetime = W3CDateTimeField()
    expected_datetime = W3CDateTimeField(allow_null=True)
    address = serializers.CharField()
    address_id = serializers.CharField()
    zipcode = serializers.CharField()
    lat = serializers.FloatField(allow_null=True)
    long = serializers.FloatField(allow_null=True)
    media_url = serializers.SerializerMethodField()

    def get_agency_responsible(self, obj: ServiceRequest) -> str:
        return obj.department.name if obj.department else ""

    def get_service_notice(self, obj: ServiceRequest) -> str:
        return ""

    def get_media_url(self, obj: ServiceRequest) -> str | None:
        """The first public processed photo, else the URL the client gave, else null (the
        spec's schema: a URI or null, never an empty string)."""
        photos = obj.public_photos  # prefetched by with_public_related()
        if photos:
            return self._absolute(photos[0].image.url)
        return obj.media_url or None

    def _absolute(self, url: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class NoteSerializer(serializers.Serializer):
    datetime = W3CDateTimeField(source="created")
    kind = serializers.CharField()
    status = serializers.SerializerMethodField()
    state = serializers.CharField(source="state_to")
    department = serializers.SerializerMethodField()
    text = serializers.CharField()

    def get_status(self, obj: Any) -> str:
        if obj.state_to in ServiceRequest.CLOSED_STATES:
            return ServiceRequest.Status.CLOSED
        return ServiceRequest.Status.OPEN if obj.state_to else ""

    def get_department(self, obj: Any) -> str:
        return obj.department_to.name if obj.department_to_id else ""


class ServiceRequestExtendedSerializer(ServiceRequestSerializer):
    """extensions=true: public timeline notes, attribute answers, photo URLs and how many
    people said "this is my problem too"."""

    attributes = serializers.SerializerMethodField()
    supporters = serializers.IntegerField()
    notes = NoteSerializer(many=True, source="public_updates")
    photos = serializers.SerializerMethodField()

    def get_attributes(self, obj: ServiceRequest) -> list[dict[str, Any]]:
        answers = obj.attributes or {}
        return [
            {"code": code, "values": value if isinstance(value, list) else [value]}
            for code, value in answers.items()
        ]

    def get_photos(self, obj: ServiceRequest) -> list[dict[str, str | None]]:
        return [
            {
                "url": self._absolute(photo.image.url),
                "thumbnail_url": self._absolute(photo.thumbnail.url) if photo.thumbnail else None,
            }
            for photo in obj.public_photos
        ]


class PostedRequestSerializer(serializers.Serializer):
    """The answer to a POST: an id for realtime services, a token for batch ones."""

    service_request_id = serializers.CharField(required=False)
    token = serializers.CharField(required=False)
    service_notice = serializers.CharField()


class TokenSerializer(serializers.Serializer):
    service_request_id = serializers.CharField(allow_null=True)
    token = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    code = serializers.IntegerField()
    description = serializers.CharField()
