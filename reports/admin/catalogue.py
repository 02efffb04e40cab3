"""The catalogue: categories (services), their questions, and response templates. Superusers
configure them; a department's managers set their categories' target time and keep their
response templates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from civic311.admin_inlines import LabelledTabularInline
from departments.models import Department
from departments.permissions import can_manage_department, is_superuser, managed_department_ids
from reports.attributes import answered_question_refusal
from reports.models import AttributeValue, ResponseTemplate, Service, ServiceAttribute
from reports.services.catalogue import (
    GroupMove,
    group_move_of,
    service_delete_refusals,
    service_save,
    services_group_set,
)

LIST_TYPES = {ServiceAttribute.Datatype.SINGLEVALUELIST, ServiceAttribute.Datatype.MULTIVALUELIST}
# Why: a required list question without values has no answer a form or an app may give, so
# every report of its category was refused ("not one of the allowed keys").
NO_VALUES = (
    "A required list question needs its values first: save it not required, add its values "
    "on its own page (the link beside it), then make it required there."
)


def _asks_a_list(data: dict[str, Any]) -> bool:
    return bool(
        data.get("required") and data.get("variable") and data.get("datatype") in LIST_TYPES
    )


class ServiceAttributeInlineForm(forms.ModelForm):
    """A category's question, in the category's page, where its values are not shown."""

    class Meta:
        model = ServiceAttribute
        fields = [
            "code", "variable", "datatype", "required", "datatype_description", "order",
            "description", "active",
        ]  # fmt: skip

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        if not _asks_a_list(cleaned) or cleaned.get("DELETE"):
            return cleaned
        if self.instance.pk is None or not self.instance.values.exists():
            self.add_error("required", NO_VALUES)
        return cleaned


class ServiceAttributeFormSet(forms.BaseInlineFormSet):
    """A category's questions: one with answers is not deleted (its answers would vanish from
    the reports' pages), but retired. (A deleted row's own errors are not shown, so here.)"""

    def clean(self) -> None:
        super().clean()
        refusals = [answered_question_refusal(form.instance) for form in self.deleted_forms]
        if any(refusals):
            raise ValidationError([r for r in refusals if r])


class ServiceAttributeInline(LabelledTabularInline):
    model = ServiceAttribute
    form = ServiceAttributeInlineForm
    formset = ServiceAttributeFormSet
    extra = 0
    show_change_link = True


class ServiceAdminForm(forms.ModelForm):
    class Meta:
        model = Service
        fields = [
            "service_code", "name", "description", "group", "keywords", "type", "department",
            "sla_hours", "active", "order",
        ]  # fmt: skip

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        if "group" in cleaned:  # a manager's form has no group to change
            ids = [self.instance.pk] if self.instance.pk is not None else []
            move = group_move_of(service_ids=ids, group=cleaned["group"])
            if move is not None and not move.carried:
                self.add_error("group", move.refusal())
        return cleaned


class GroupForm(forms.Form):
    group = forms.CharField(
        label="New group",
        max_length=Service._meta.get_field("group").max_length,
        required=False,
        help_text="Exactly as it should be spelled (groups match exactly, capitals included); "
        "empty for no group.",
    )


def _carried_message(move: GroupMove) -> str:
    rules = "; ".join(str(rule) for rule in move.rules)
    return (
        f"The last categories of the group “{move.old}” are now in “{move.new}”, so the "
        f"routing rules that named “{move.old}” now name “{move.new}”: {rules}."
    )


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    form = ServiceAdminForm
    actions = ["move_to_group"]
    list_display = ["name", "service_code", "group", "department", "sla_hours", "type", "active"]
    list_filter = ["active", "group", "department", "type"]
    search_fields = ["name", "service_code", "keywords", "group"]
    list_select_related = ["department"]
    inlines = [ServiceAttributeInline]

    def has_change_permission(self, request: HttpRequest, obj: Service | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        if obj is None:
            return allowed
        return allowed and can_manage_department(request.user, obj.department_id)

    def get_readonly_fields(self, request: HttpRequest, obj: Service | None = None) -> list[str]:
        if is_superuser(request.user):
            return []
        # Managers set their categories' target time; the rest is the city's configuration.
        return [f.name for f in Service._meta.fields if f.name not in {"id", "sla_hours"}]

    def get_inlines(self, request: HttpRequest, obj: Service | None) -> list[Any]:
        return self.inlines if is_superuser(request.user) else []

    def get_deleted_objects(
        self, objs: Sequence[Service] | QuerySet[Service], request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        """Deleting the last categories of a group that routing rules name is refused (the
        page lists why, and deletes nothing), as is moving them out of it."""
        deleted, counts, needed, protected = super().get_deleted_objects(objs, request)
        refusals = service_delete_refusals(service_ids=[service.pk for service in objs])
        return deleted, counts, needed, [*protected, *refusals]

    def save_model(self, request: HttpRequest, obj: Service, form: Any, change: bool) -> None:
        # The group's routing rules follow a rename (or the form refused the move).
        move = service_save(service=obj)
        if move is not None:
            self.message_user(request, _carried_message(move), messages.WARNING)

    def has_configure_permission(self, request: HttpRequest) -> bool:
        return is_superuser(request.user)  # groups are the city's configuration

    @admin.action(
        description="Move selected categories to another group…", permissions=["configure"]
    )
    def move_to_group(
        self, request: HttpRequest, queryset: QuerySet[Service]
    ) -> HttpResponse | None:
        """All of a group's categories at once, so its routing rules go with them (moved one
        by one, the last would join the others in a group that is no longer new)."""
        services = list(queryset.order_by("group", "name"))
        form = GroupForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            try:
                move = services_group_set(services=services, group=form.cleaned_data["group"])
            except ValidationError as exc:
                form.add_error("group", exc.messages)
            else:
                if move is not None:
                    self.message_user(request, _carried_message(move), messages.WARNING)
                count = len(services)
                self.message_user(
                    request,
                    f"Moved {count} categor{'y' if count == 1 else 'ies'}.",
                    messages.SUCCESS,
                )
                return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Move categories to another group",
            "form": form,
            "services": services,
            "action": "move_to_group",
            "selected": [service.pk for service in services],
            "submit_label": "Move",
        }
        return TemplateResponse(request, "admin/reports/service/group_form.html", context)


class AttributeValueFormSet(forms.BaseInlineFormSet):
    """The values of a question on its own page, checked against the question as saved with
    them: a required list question keeps at least one value."""

    def clean(self) -> None:
        super().clean()
        attribute = self.instance
        kept = [
            f for f in self.forms
            if f.has_changed() or f.instance.pk
            if not (self.can_delete and f.cleaned_data.get("DELETE"))
        ]  # fmt: skip
        asks = {"required": attribute.required, "variable": attribute.variable}
        if _asks_a_list({**asks, "datatype": attribute.datatype}) and not kept:
            raise ValidationError(
                "A required list question needs at least one value: add one, or untick required."
            )


class AttributeValueInline(LabelledTabularInline):
    model = AttributeValue
    formset = AttributeValueFormSet
    extra = 0


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(admin.ModelAdmin):
    list_display = ["__str__", "service", "datatype", "required", "order", "active"]
    list_filter = ["active", "datatype", "required"]
    search_fields = ["code", "description", "service__name"]
    list_select_related = ["service"]
    inlines = [AttributeValueInline]

    def get_deleted_objects(
        self, objs: Sequence[ServiceAttribute] | QuerySet[ServiceAttribute], request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        """A question with answers is listed as what stops the deletion (its page and the
        "Delete selected" action then delete nothing), with how to retire it instead."""
        deleted, counts, needed, protected = super().get_deleted_objects(objs, request)
        refusals = [answered_question_refusal(attribute) for attribute in objs]
        return deleted, counts, needed, [*protected, *filter(None, refusals)]


@admin.register(ResponseTemplate)
class ResponseTemplateAdmin(admin.ModelAdmin):
    list_display = ["title", "department", "service", "state", "active"]
    list_filter = ["active", "department", "state"]
    search_fields = ["title", "text", "service__name"]
    list_select_related = ["department", "service"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and (
            is_superuser(request.user) or bool(managed_department_ids(request.user))
        )

    def has_change_permission(
        self, request: HttpRequest, obj: ResponseTemplate | None = None
    ) -> bool:
        allowed = super().has_change_permission(request, obj)
        if obj is None:
            return allowed and (
                is_superuser(request.user) or bool(managed_department_ids(request.user))
            )
        return allowed and can_manage_department(request.user, obj.department_id)

    def has_delete_permission(
        self, request: HttpRequest, obj: ResponseTemplate | None = None
    ) -> bool:
        allowed = super().has_delete_permission(request, obj)
        if obj is None:
            return allowed and (
                is_superuser(request.user) or bool(managed_department_ids(request.user))
            )
        return allowed and can_manage_department(request.user, obj.department_id)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "department" and not is_superuser(request.user):
            kwargs["queryset"] = Department.objects.filter(
                pk__in=managed_department_ids(request.user)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
