"""Adopting an asset, giving it back, and ending an adoption for any other reason."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.services import former_staff_account
from adoptions import rules
from adoptions.emails import adoption_email
from adoptions.models import Adoption, Asset, AssetType, CareLog
from civic311.input import BIDI_IN_NAME, bidi_controls_in, has_visible, invisible_only
from reports.limits import MAX_REASON

NICKNAME_MAX = 60


def adoption_limit() -> int:
    return int(settings.ADOPTION_LIMIT_PER_VOLUNTEER)


def adoption_start(
    *,
    asset: Asset,
    volunteer: Any,
    accept_terms: bool,
    nickname: str = "",
    now: datetime | None = None,
    notify: bool = True,
) -> Adoption:
    """Adopt `asset` for `volunteer`, who accepts the care terms. The first visit is due
    one cadence (a calendar month for bus shelters) from today. Raises ValidationError
    (nothing saved) when the terms are not accepted, the asset is not adoptable or already
    adopted, or the volunteer is at the limit. Two people pressing "Adopt" at once: the
    database's partial unique constraint lets one win, the other gets the "already adopted"
    error."""
    now = now or timezone.now()
    nickname = " ".join(nickname.split())
    errors: dict[str, list[str]] = {}
    if not accept_terms:
        errors["accept_terms"] = ["Please accept the care terms to adopt."]
    if len(nickname) > NICKNAME_MAX:
        errors["nickname"] = [f"The nickname is {len(nickname)} characters; at most 60."]
    elif nickname and not has_visible(nickname):
        errors["nickname"] = [invisible_only("The nickname")]
    elif bidi_controls_in(nickname):
        errors["nickname"] = [BIDI_IN_NAME]
    if not (volunteer and volunteer.is_authenticated and volunteer.is_active):
        errors["volunteer"] = ["Please sign in to adopt."]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            # One volunteer's adoptions are counted under a lock on their user row, so two
            # tabs cannot both slip under the limit.
            get_user_model().objects.select_for_update().filter(pk=volunteer.pk).first()
            asset = Asset.objects.select_related("asset_type").get(pk=asset.pk)
            _check_adoptable(asset, volunteer)
            adoption = Adoption(
                asset=asset,
                volunteer=volunteer,
                nickname=nickname,
                started=now,
                terms_accepted_at=now,
                due_on=rules.next_due(
                    started=timezone.localdate(now),
                    last_cared_on=None,
                    cadence_months=asset.asset_type.cadence_months,
                ),
            )
            adoption.full_clean(validate_constraints=False)
            adoption.save()
            if notify:
                adoption_email(adoption, kind="adopted", now=now)
    except IntegrityError as exc:
        if Adoption.objects.active().filter(asset=asset).exists():
            raise ValidationError(
                {"asset": ["Someone adopted this a moment ago. Choose another one?"]}
            ) from exc
        raise
    return adoption


def _check_adoptable(asset: Asset, volunteer: Any) -> None:
    if not (asset.active and asset.asset_type.active):
        raise ValidationError({"asset": ["This is no longer offered for adoption."]})
    if Adoption.objects.active().filter(asset=asset).exists():
        raise ValidationError({"asset": ["This is already adopted. Choose another one?"]})
    limit = adoption_limit()
    if Adoption.objects.active().of_volunteer(volunteer).count() >= limit:
        raise ValidationError(
            {"volunteer": [f"You already look after {limit}; that is the most one person may."]}
        )


def adoption_end(
    *,
    adoption: Adoption,
    reason: str,
    by: Any = None,
    note: str = "",
    now: datetime | None = None,
    notify: bool = True,
) -> Adoption:
    """End an active adoption (the asset becomes available). Staff must say why; the
    volunteer is told when staff end it or it lapses (`notify=False`: history, as in the demo
    data). Ending an adoption that already ended is refused (it may have lapsed meanwhile)."""
    now = now or timezone.now()
    note = " ".join(note.split())
    if reason not in Adoption.EndReason.values:
        raise ValidationError({"reason": ["Unknown reason."]})
    if reason == Adoption.EndReason.STAFF and not note:
        raise ValidationError({"note": ["Say why the adoption is ended (the volunteer is told)."]})
    if len(note) > MAX_REASON:
        raise ValidationError({"note": [f"The reason is {len(note)} characters; at most 255."]})
    with transaction.atomic():
        locked = (
            Adoption.objects.select_for_update(of=("self",))
            .select_related("asset__asset_type", "volunteer")
            .filter(pk=adoption.pk)
            .first()
        )
        if locked is None or locked.ended is not None:
            raise ValidationError({"adoption": ["This adoption has already ended."]})
        locked.ended, locked.end_reason, locked.end_note = now, reason, note
        locked.ended_by = by if by is not None and by.is_authenticated else None
        locked.save(update_fields=["ended", "end_reason", "end_note", "ended_by"])
        asset = locked.asset
        if asset.flagged_for_staff and not asset.active:
            # The flag asked staff to sort out this adoption of a removed asset: done.
            Asset.objects.filter(pk=asset.pk).update(flagged_for_staff=False)
        if notify and reason in (Adoption.EndReason.STAFF, Adoption.EndReason.LAPSED):
            adoption_email(locked, kind=reason, now=now)
    return locked


def adoption_release(
    *, adoption: Adoption, volunteer: Any, now: datetime | None = None
) -> Adoption:
    """The volunteer gives their asset back. Only the adopter may."""
    if adoption.volunteer_id is None or adoption.volunteer_id != getattr(volunteer, "pk", None):
        raise ValidationError({"adoption": ["Only the volunteer who adopted it can release it."]})
    return adoption_end(adoption=adoption, reason=Adoption.EndReason.RELEASED, now=now)


def adoptions_nickname_remove(*, adoption_ids: list[int]) -> int:
    """Staff take down nicknames that should not be published (the asset's page shows them
    in its heading as soon as the volunteer adopts). Returns how many were removed."""
    return Adoption.objects.filter(pk__in=adoption_ids).exclude(nickname="").update(nickname="")


def adoption_unsubscribe(*, adoption: Adoption) -> Adoption:
    """Stop the reminders of one adoption (the one-click link in every reminder)."""
    if adoption.reminders:
        adoption.reminders = False
        adoption.save(update_fields=["reminders"])
    return adoption


def adoption_resubscribe(*, adoption: Adoption) -> Adoption:
    """Turn an active adoption's reminders back on (its volunteer, from the asset's page)."""
    if adoption.ended is not None:
        raise ValidationError({"adoption": ["This adoption has ended."]})
    if not adoption.reminders:
        adoption.reminders = True
        adoption.save(update_fields=["reminders"])
    return adoption


def adoptions_end_for_account(*, user: Any, now: datetime | None = None) -> int:
    """Before an account is deleted: end its active adoptions and anonymise its care visits
    (they stay, as the asset's history, without a name); adoptions it ended as staff are
    credited to former staff. Returns how many adoptions ended."""
    now = now or timezone.now()
    with transaction.atomic():
        active = Adoption.objects.active().of_volunteer(user)
        # As in adoption_end: a removed asset's flag asked staff to sort out this adoption.
        Asset.objects.filter(
            pk__in=active.values("asset_id"), active=False, flagged_for_staff=True
        ).update(flagged_for_staff=False)
        ended = active.update(
            ended=now, end_reason=Adoption.EndReason.ACCOUNT_DELETED, reminders=False
        )
        CareLog.objects.filter(volunteer=user).update(volunteer=None)
        Adoption.objects.of_volunteer(user).update(volunteer=None)
        # Adoptions a former staff member ended stay ended by "former staff", not by nobody.
        ended_by_them = Adoption.objects.filter(ended_by=user)
        if ended_by_them.exists():
            ended_by_them.update(ended_by=former_staff_account())
    return ended


def adoptions_reschedule(*, asset_type: AssetType, now: datetime | None = None) -> int:
    """After `asset_type`'s cadence changed: its current adoptions' periods count from today
    (`AssetType.cadence_since`, rules.anchor_of) or from their last visit if later, and the
    due date of each is worked out again, so that the lists and the overdue filters, which
    read the stored date, agree with the reminders. Returns how many moved."""
    changed = []
    with transaction.atomic():
        asset_type.cadence_since = timezone.localdate(now or timezone.now())
        asset_type.save(update_fields=["cadence_since"])
        adoptions = (
            Adoption.objects.active()
            .filter(asset__asset_type=asset_type)
            .select_for_update(of=("self",))
            .order_by("pk")
        )
        for adoption in adoptions:
            due_on = rules.next_due(
                started=timezone.localdate(adoption.started),
                last_cared_on=adoption.last_cared_on,
                cadence_months=asset_type.cadence_months,
                since=asset_type.cadence_since,
            )
            if due_on != adoption.due_on:
                adoption.due_on = due_on
                changed.append(adoption)
        Adoption.objects.bulk_update(changed, ["due_on"], batch_size=500)
    return len(changed)
