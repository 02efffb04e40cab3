"""What adoptions plugs into the apps it builds on (registered in AdoptionsConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from adoptions.models import Adoption, Asset


def _asset_by_address_id(address_id: str) -> Asset | None:
    """The active asset whose external id is `address_id`, or "<type slug>:<external id>"
    when two asset types share an id. An ambiguous bare id resolves to nothing."""
    assets = Asset.objects.active().select_related("asset_type")
    slug, _, external_id = address_id.partition(":")
    if external_id:
        found = assets.filter(asset_type__slug=slug, external_id=external_id).first()
        if found is not None:
            return found
    matches = list(assets.filter(external_id=address_id)[:2])
    return matches[0] if len(matches) == 1 else None


def address_ids(asset: Asset) -> list[str]:
    """What `_asset_by_address_id` reads as `asset`, the id to file a report with first:
    the bare external id, unless another active asset has that id too, then
    "<type slug>:<id>" (the form every report may use)."""
    qualified = f"{asset.asset_type.slug}:{asset.external_id}"
    others = Asset.objects.active().filter(external_id=asset.external_id).exclude(pk=asset.pk)
    return [qualified] if others.exists() else [asset.external_id, qualified]


def asset_location(address_id: str) -> tuple[float, float, str] | None:
    asset = _asset_by_address_id(address_id)
    if asset is None:
        return None
    return asset.lat, asset.long, asset.address or asset.name


def asset_page(address_id: str) -> tuple[str, str] | None:
    asset = _asset_by_address_id(address_id)
    if asset is None:
        return None
    return f"{asset.asset_type.name}: {asset.name}", asset.get_absolute_url()


def my_adoptions_context(request: HttpRequest) -> dict[str, Any]:
    """The "My adoptions" section of the account page."""
    adoptions = (
        Adoption.objects.active()
        .of_volunteer(request.user)
        .select_related("asset__asset_type")
        .order_by("due_on")
    )
    return {"adoptions": list(adoptions), "today": timezone.localdate()}


def on_account_deleting(sender: Any, user: Any, **kwargs: Any) -> None:
    from adoptions.services.adoptions import adoptions_end_for_account

    adoptions_end_for_account(user=user)


def connect_accounts() -> None:
    from accounts import sections
    from accounts.signals import account_deleting

    account_deleting.connect(on_account_deleting, dispatch_uid="adoptions-account-deleting")
    sections.register(
        key="adoptions",
        template_name="adoptions/_my_adoptions.html",
        context=my_adoptions_context,
        order=20,
    )
