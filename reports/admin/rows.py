"""The queue's rows, each written in one pass.

Why: Django's changelist builds every cell on its own (lookup_field, display_for_value,
format_html, and a reverse() plus a resolve() of the preserved filters for each link): on a
page of 50 reports that was half of the queue's time. Here each column is looked at once per
page (its class, whether it links, how its value is read) and each row is one string. The
HTML is Django's (admin/change_list_results.html still writes the table around the rows);
what this does not know (editable lists, popups, a column that is neither a field nor a
callable of the admin) is left to Django's own `items_for_result`."""

from __future__ import annotations

import datetime
import html
from collections.abc import Callable
from typing import Any

from django.contrib.admin.templatetags.admin_list import ResultList, items_for_result
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import display_for_field, display_for_value, quote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.urls import reverse
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe

# A cell's HTML from a row's object.
Cell = Callable[[Any], str]
# A column's value as HTML, and whether it is a date or a time (Django's "nowrap").
Reader = Callable[[Any], tuple[str, bool]]
# Stands for the primary key in a change URL resolved once per page.
PK_MARK = "c311pk"


def queue_rows(cl: ChangeList) -> list[ResultList]:
    """The rows of the changelist's page, as Django's `results(cl)` gives them."""
    cells = _cells(cl)
    if cells is None:
        return [ResultList(None, items_for_result(cl, obj, None)) for obj in cl.result_list]
    return [
        ResultList(None, [mark_safe("".join([cell(obj) for cell in cells]))])
        for obj in cl.result_list
    ]


def _cells(cl: ChangeList) -> list[Cell] | None:
    """One writer per column, or None when a column needs Django's general path."""
    if cl.formset is not None or cl.is_popup or cl.list_display_links is None:
        return None
    links = cl.list_display_links or [cl.list_display[0]]
    change_url = _change_url(cl)
    cells: list[Cell] = []
    first_link = True
    for name in cl.list_display:
        if not isinstance(name, str):
            return None
        is_link = name in links
        value, classes = _reader(cl, name, is_link)
        if value is None:
            return None
        if is_link:
            cells.append(_link_cell(value, classes, change_url, "th" if first_link else "td"))
            first_link = False
        else:
            cells.append(_plain_cell(value, classes))
    return cells


def _reader(cl: ChangeList, name: str, is_link: bool) -> tuple[Reader | None, str]:
    """How to read a column's cell (its HTML, and whether it is a date or time, which
    Django marks "nowrap") and the cell's classes."""
    model_admin = cl.model_admin
    empty = model_admin.get_empty_value_display()
    try:
        field = cl.lookup_opts.get_field(name)
    except FieldDoesNotExist:
        field = None
    if field is not None and field.is_relation and getattr(field, "attname", None) == name:
        return None, ""  # a foreign key's column ("service_id"): Django reads it as is
    if isinstance(field, models.Field) and not field.auto_created:
        return _field_reader(field, empty, is_link), f"field-{name}"
    if field is None and name != "__str__" and hasattr(model_admin, name):
        attr = getattr(model_admin, name)
        empty = getattr(attr, "empty_value_display", empty)
        boolean = getattr(attr, "boolean", False)
        classes = "action-checkbox" if name == "action_checkbox" else f"field-{name}"
        return _callable_reader(attr, empty, boolean), classes
    return None, ""


def _callable_reader(attr: Callable[[Any], Any], empty: str, boolean: bool) -> Reader:
    def read(obj: Any) -> tuple[str, bool]:
        try:
            value = attr(obj)
        except ObjectDoesNotExist:
            return empty, False
        if type(value) in (str, SafeString) and not boolean and value.strip():
            # What display_for_value and conditional_escape make of text, without the
            # lazy-string checks around each of them.
            return (value if type(value) is SafeString else html.escape(value)), False
        if isinstance(value, str) and value.strip() == "":
            value = ""
        shown = conditional_escape(display_for_value(value, empty, boolean))
        return shown, isinstance(value, (datetime.date, datetime.time))

    return read


def _field_reader(field: models.Field, empty: str, avoid_link: bool) -> Reader:
    nowrap = isinstance(field, (models.DateField, models.TimeField, models.ForeignKey))
    if isinstance(field.remote_field, models.ManyToOneRel):

        def read_related(obj: Any) -> tuple[str, bool]:
            try:
                related = getattr(obj, field.name)
            except ObjectDoesNotExist:
                return empty, nowrap
            return (empty if related is None else conditional_escape(related)), nowrap

        return read_related

    def read(obj: Any) -> tuple[str, bool]:
        value = getattr(obj, field.attname)
        shown = display_for_field(value, field, empty, avoid_link=avoid_link)
        return conditional_escape(shown), nowrap

    return read


def _plain_cell(read: Reader, classes: str) -> Cell:
    plain, nowrap = f'<td class="{classes}">', f'<td class="{classes} nowrap">'

    def cell(obj: Any) -> str:
        html, wrap_off = read(obj)
        return f"{nowrap if wrap_off else plain}{html}</td>"

    return cell


def _link_cell(
    read: Reader,
    classes: str,
    change_url: tuple[str, str],
    tag: str,
) -> Cell:
    before, after = change_url
    plain, nowrap = f'<{tag} class="{classes}">', f'<{tag} class="{classes} nowrap">'

    def cell(obj: Any) -> str:
        html, wrap_off = read(obj)
        url = f"{before}{escape(quote(obj.pk))}{after}"
        return f'{nowrap if wrap_off else plain}<a href="{url}">{html}</a></{tag}>'

    return cell


def _change_url(cl: ChangeList) -> tuple[str, str]:
    """A row's change URL (with the queue's filters to come back to) around its key: the
    text before and after it, HTML-escaped."""
    url = reverse(
        f"admin:{cl.opts.app_label}_{cl.opts.model_name}_change",
        args=(PK_MARK,),
        current_app=cl.model_admin.admin_site.name,
    )
    url = add_preserved_filters({"preserved_filters": cl.preserved_filters, "opts": cl.opts}, url)
    before, _mark, after = url.partition(PK_MARK)
    return escape(before), escape(after)
