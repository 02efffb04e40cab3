"""Open311 representations. Read-only: writes go through reports.services.

Ids and codes are strings; datetimes carry the site's time zone offset; the reporter's
contact fields are never read here."""

from __future__ import annotations

from datetime import datetime

from rest_framework import serializers

from reports.models import RequestUpdate, ServiceAttribute, ServiceRequest


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


EXTENSION = "With extensions=true only."


class AnswerSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The question's code (services/{code}.json).")
    values = serializers.ListField(
        child=serializers.CharField(),
        help_text="The answer: one value, or the keys chosen in a multivaluelist.",
    )


class NoteSerializer(serializers.Serializer):
    datetime = W3CDateTimeField()
    kind = serializers.ChoiceField(choices=RequestUpdate.Kind.choices)
    status = serializers.CharField(help_text="open or closed after it, or empty.")
    state = serializers.CharField(help_text="The workflow state after it, or empty.")
    department = serializers.CharField(help_text="The department it was forwarded to, or empty.")
    text = serializers.CharField()


class PhotoSerializer(serializers.Serializer):
    url = serializers.URLField()
    thumbnail_url = serializers.URLField(allow_null=True)


class ServiceRequestSerializer(serializers.Serializer):
    """A report as GET requests answers it. The answers themselves are the stored documents
    (reports/api/documents.py); this describes them for the OpenAPI schema, extensions
    included, and is not used to build them."""

    service_request_id = serializers.CharField()
    status = serializers.ChoiceField(choices=ServiceRequest.Status.choices)
    status_notes = serializers.CharField()
    service_name = serializers.CharField()
    service_code = serializers.CharField()
    description = serializers.CharField()
    agency_responsible = serializers.CharField(help_text="The department it is routed to.")
    service_notice = serializers.CharField()
    requested_datetime = W3CDateTimeField()
    updated_datetime = W3CDateTimeField()
    expected_datetime = W3CDateTimeField(allow_null=True)
    address = serializers.CharField()
    address_id = serializers.CharField()
    zipcode = serializers.CharField()
    lat = serializers.FloatField(allow_null=True)
    long = serializers.FloatField(allow_null=True)
    media_url = serializers.URLField(
        allow_null=True,
        help_text="The first public photo, else the URL the client gave, else null (never "
        "an empty string).",
    )
    # extensions=true only (the README's "Open311 API" section).
    attributes = AnswerSerializer(
        many=True, required=False, help_text=f"{EXTENSION} The answers to the category's questions."
    )
    supporters = serializers.IntegerField(
        required=False,
        help_text=f'{EXTENSION} How many people said "this is my problem too".',
    )
    notes = NoteSerializer(
        many=True, required=False, help_text=f"{EXTENSION} The public timeline, oldest first."
    )
    photos = PhotoSerializer(
        many=True, required=False, help_text=f"{EXTENSION} The public photos, in order."
    )


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
