"""The reports app's models, one module per part of the domain; import them from here."""

from reports.models.catalogue import (
    ApiKey,
    AreaChange,
    AttributeValue,
    Service,
    ServiceAttribute,
    ServiceListChange,
)
from reports.models.citizens import Comment, Submission, Subscription, Supporter
from reports.models.documents import Open311Document
from reports.models.outbox import OutboxMessage
from reports.models.requests import (
    PHOTO_EXTENSIONS,
    Photo,
    RequestToken,
    RequestUpdate,
    ResponseTemplate,
    ServiceRequest,
    photo_original_name,
)

__all__ = [
    "PHOTO_EXTENSIONS",
    "ApiKey",
    "AreaChange",
    "AttributeValue",
    "Comment",
    "Open311Document",
    "OutboxMessage",
    "Photo",
    "RequestToken",
    "RequestUpdate",
    "ResponseTemplate",
    "Service",
    "ServiceAttribute",
    "ServiceListChange",
    "ServiceRequest",
    "Submission",
    "Subscription",
    "Supporter",
    "photo_original_name",
]
