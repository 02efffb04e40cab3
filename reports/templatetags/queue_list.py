"""The queue's table: Django's `result_list` tag with the rows of reports/admin/rows.py."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.admin.templatetags.admin_list import result_headers, result_hidden_fields
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.contrib.admin.views.main import ChangeList
from django.template.base import Parser, Token

from reports.admin.rows import queue_rows

register = template.Library()


def queue_result_list(cl: ChangeList) -> dict[str, Any]:
    """The context Django's `result_list` gives its template."""
    headers = list(result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": queue_rows(cl),
    }


@register.tag(name="queue_result_list")
def queue_result_list_tag(parser: Parser, token: Token) -> InclusionAdminNode:
    # django-stubs describe an older signature of this class (with a name first).
    return InclusionAdminNode(  # type: ignore[call-arg]
        parser,  # type: ignore[arg-type]
        token,  # type: ignore[arg-type]
        func=queue_result_list,
        template_name="change_list_results.html",
        takes_context=False,
    )
