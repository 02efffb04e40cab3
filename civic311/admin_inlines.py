"""A tabular inline whose inputs have names a screen reader reads.

Why: Django's tabular inline heads each column with the field's name but labels none of the
inputs under it, so a screen reader announced "edit text" for a question's code, "combo box"
for its datatype and "check box" for "delete" (axe-core: "Form elements must have labels",
WCAG 1.3.1 and 4.1.2). Each input is named after its column."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.text import capfirst


class LabelledTabularInline(admin.TabularInline):
    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)

        class LabelledFormSet(formset):  # type: ignore[valid-type, misc]
            def add_fields(self, form: forms.Form, index: int | None) -> None:
                super().add_fields(form, index)
                for name, field in form.fields.items():
                    label = "Delete" if name == "DELETE" else field.label
                    if label and not field.widget.is_hidden:
                        field.widget.attrs.setdefault("aria-label", capfirst(str(label)))

        return LabelledFormSet
