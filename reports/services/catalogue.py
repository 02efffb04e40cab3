"""Saving categories where the change reaches past them: moving them to another group (or
deleting them).

Routing rules may name a group (departments.RoutingRule.group), matched exactly. When the
last category of a group moved to another, the rules naming the old group routed nothing
from then on, and nothing said so. Now the move either takes the rules with it or is
refused, naming them: routing is never lost without a word."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from departments.models import RoutingRule, group_has_categories
from reports.models import Service


@dataclass(frozen=True)
class GroupMove:
    """Categories go to the group `new`, leaving groups that routing rules name with no
    category (`stranded`: each such group and its rules).

    `carried`: a rename, so the rules go with them. Every category of one old group, and no
    other, goes to a group no other category is in, where the rules mean what they meant.
    Into a group that holds others the rules would route those too, with no group at all
    they would name nothing, and two groups' rules together would route each other's
    categories: then the move is refused."""

    new: str
    stranded: list[tuple[str, list[RoutingRule]]]
    carried: bool

    @property
    def old(self) -> str:
        return self.stranded[0][0]

    @property
    def rules(self) -> list[RoutingRule]:
        return [rule for _, rules in self.stranded for rule in rules]

    def refusal(self) -> str:
        if not self.new:
            why = "a category without a group matches no group rule"
        elif len(self.stranded) > 1:
            why = "two groups' rules in one group would route each other's categories"
        else:
            why = (
                f"“{self.new}” would hold other categories, whose routing these rules would change"
            )
        then = f"{why}. Change those rules' group (or delete them) first, then move the categories."
        return " ".join(_stranded(group, rules, then) for group, rules in self.stranded)


def _stranded(group: str, rules: list[RoutingRule], then: str) -> str:
    listed = "; ".join(str(rule) for rule in rules)
    return (
        f"No category would be left in the group “{group}” (groups match exactly, capitals "
        f"included), and routing rules name it: {listed}. They would route nothing, and {then}"
    )


def _group_rules(group: str) -> list[RoutingRule]:
    found = RoutingRule.objects.filter(group=group, service__isnull=True)
    return list(found.select_related("boundary", "department"))


def group_move_of(*, service_ids: Collection[int], group: str) -> GroupMove | None:
    """What giving the saved categories `service_ids` the group `group` does to the routing
    rules of the groups they are in now; None when nothing (new categories, the same group,
    or groups that keep other categories or that no rule names)."""
    moving = set(
        Service.objects.filter(pk__in=service_ids).exclude(group=group).values_list("pk", "group")
    )
    ids = {pk for pk, _ in moving}
    olds = {old for _, old in moving}
    stranded = []
    for old in sorted(olds - {""}):
        if not group_has_categories(old, besides=ids):
            rules = _group_rules(old)
            if rules:
                stranded.append((old, rules))
    if not stranded:
        return None
    carried = (
        bool(group)
        and len(stranded) == 1
        and olds == {stranded[0][0]}
        and not group_has_categories(group, besides=ids)
    )
    return GroupMove(new=group, stranded=stranded, carried=carried)


def _carry_or_refuse(move: GroupMove | None) -> None:
    if move is None:
        return
    if not move.carried:
        raise ValidationError({"group": move.refusal()})
    RoutingRule.objects.filter(pk__in=[rule.pk for rule in move.rules]).update(group=move.new)
    for rule in move.rules:
        rule.group = move.new


def service_save(*, service: Service) -> GroupMove | None:
    """Validate and save a category. When it is the last of its group to leave it and
    routing rules name the group, they are carried over to the new group in the same
    transaction if that is a rename (GroupMove.carried), else nothing is saved and a
    ValidationError on `group` names them. Returns the carried move, if any."""
    with transaction.atomic():
        ids = [service.pk] if service.pk is not None else []
        move = group_move_of(service_ids=ids, group=service.group)
        _carry_or_refuse(move)
        service.full_clean()
        service.save()
    return move


def services_group_set(*, services: Collection[Service], group: str) -> GroupMove | None:
    """Move these categories to `group` together, as service_save does one: how a group of
    several categories is renamed with its rules (all of them, in one transaction)."""
    with transaction.atomic():
        move = group_move_of(service_ids=[s.pk for s in services], group=group)
        _carry_or_refuse(move)
        for service in services:
            service.group = group
            service.full_clean()
            service.save(update_fields=["group"])
    return move


def service_delete_refusals(*, service_ids: Collection[int]) -> list[str]:
    """Why these categories may not be deleted together: a group they would leave empty
    while routing rules name it (one message per group). Empty when they may."""
    groups = Service.objects.filter(pk__in=service_ids).exclude(group="")
    refusals = []
    for group in sorted(set(groups.values_list("group", flat=True))):
        if group_has_categories(group, besides=service_ids):
            continue
        rules = _group_rules(group)
        if rules:
            refusals.append(
                _stranded(group, rules, "change those rules' group (or delete them) first.")
            )
    return refusals
