"""Each public report's Open311 documents, stored ready to send.

Why: the Open311 list is the API's busiest answer, and building a report's document from
its row, its photos and its timeline costs more than everything else the answer does. A
document is built the first time a report is read (reports/api/documents.py) and stored
here with the report's `doc_version`; it is sent as it is while that version stands.
Triggers in the database (migration 0013) raise the version whenever the report's row, a
public photo or a public timeline entry of it, or the name of its service or department
changes, whichever code path made the change, so a stored document is never sent stale.

`key` names what else a document depends on (the site's time zone, the media URL and the
format itself): a document built under other settings is built again.
"""

from __future__ import annotations

from django.db import models

from reports.models.requests import ServiceRequest


class Open311Document(models.Model):
    request = models.OneToOneField(
        ServiceRequest, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    version = models.BigIntegerField(help_text="The report's doc_version when it was built.")
    key = models.CharField(max_length=32)
    # The GeoReport fields as a JSON object, and the extensions' members (",…" to insert
    # before its closing brace); the same as XML elements, for inside <request>.
    json = models.TextField()
    json_extensions = models.TextField()
    xml = models.TextField()
    xml_extensions = models.TextField()

    class Meta:
        verbose_name = "Open311 document"

    def __str__(self) -> str:
        return f"Open311 document of #{self.request_id}"
