"""Every write of the accounts app: profiles and leaving."""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from axes.utils import reset as axes_reset
from django.contrib.admin.models import LogEntry
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from accounts.models import DISPLAY_NAME_MAX, Profile
from accounts.signals import account_deleting
from civic311.input import BIDI_IN_NAME, bidi_controls_in, has_visible


def clean_display_name(value: str) -> str:
    """A display name is public, so it must not be an email address, nor blank to a reader
    (invisible characters only), nor hold the controls that show others a reordered or
    reversed name; spaces are squeezed."""
    name = " ".join(str(value).split())
    if not has_visible(name):
        raise ValidationError("Enter a display name.", code="required")
    if bidi_controls_in(name):
        raise ValidationError(BIDI_IN_NAME, code="bidi")
    if len(name) > DISPLAY_NAME_MAX:
        raise ValidationError(
            f"Keep your display name to {DISPLAY_NAME_MAX} characters.", code="max_length"
        )
    if "@" in name:
        raise ValidationError(
            "Your display name is public: please don't use your email address.", code="email"
        )
    return name


def profile_create(*, user: User, display_name: str) -> Profile:
    """A new account's profile (sign-up), with the name the person chose."""
    profile = Profile(user=user, display_name=clean_display_name(display_name))
    profile.full_clean()
    profile.save()
    return profile


def profile_save(*, user: User, display_name: str, show_on_leaderboard: bool) -> Profile:
    """Change a profile, or make one for an account that has none (staff created on the
    command line)."""
    name = clean_display_name(display_name)
    with transaction.atomic():
        profile = Profile.objects.select_for_update().filter(user=user).first()
        if profile is None:
            profile = Profile(user=user)
        profile.display_name = name
        profile.show_on_leaderboard = show_on_leaderboard
        profile.full_clean()
        profile.save()
    return profile


# The account a former staff member's work is credited to once theirs is deleted. The space
# makes it a name no form accepts (sign-up, the admin's user form), so nobody can sign up as
# it; it is inactive and has no usable password, so nobody signs in as it.
FORMER_STAFF_USERNAME = "Former staff"


def account_is_staff(user: User) -> bool:
    """Whether the account is a current staff account (staff or superuser). Deleting one
    would take the admin's log of their changes and their memberships with it, and could
    leave the city without a superuser, so an administrator closes it instead (deactivating
    it keeps the record). Someone whose staff flag was taken away is a citizen again."""
    return user.is_staff or user.is_superuser


def former_staff_account() -> User:
    """The account that stands, in the records, for staff whose own accounts are deleted:
    made the first time one is needed."""
    account, _ = User.objects.get_or_create(
        username=FORMER_STAFF_USERNAME,
        defaults={"is_active": False, "password": make_password(None)},
    )
    return account


def account_delete(*, user: User) -> None:
    """Delete an account and what hangs on it. Apps above clean up their own rows in
    `account_deleting` receivers, in this same transaction, before the user row goes (its
    profile, email addresses, groups, permissions and department memberships go with it by
    cascade). The work of a former staff member (the admin's log here; their replies and
    notes in reports) stays, credited to `former_staff_account()`. Current staff accounts
    are refused."""
    if account_is_staff(user):
        raise ValidationError(
            "A staff account can't be deleted here: ask an administrator.", code="staff"
        )
    if user.username == FORMER_STAFF_USERNAME:
        raise ValidationError("This account keeps former staff's record.", code="former_staff")
    with transaction.atomic():
        account_deleting.send(sender=type(user), user=user)
        history = LogEntry.objects.filter(user=user)
        if history.exists():
            history.update(user=former_staff_account())
        user.delete()


def email_added_notify(*, request: HttpRequest | None, user: User, added: EmailAddress) -> None:
    """Tell the owner, at each of the account's other verified addresses, that an address was
    added: allauth's own notices cover a removed address and a new primary, not this one, and
    an address added by someone else (a session left open) would soon receive the password
    resets. Sent the way allauth sends its notices, so it goes through the outbox too."""
    adapter = get_adapter(request)
    owners = EmailAddress.objects.filter(user=user, verified=True).exclude(pk=added.pk)
    for owner in owners.order_by("-primary", "email"):
        adapter.send_notification_mail(
            "account/email/email_added", user, {"added_email": added.email}, email=owner.email
        )


def sign_in_lockout_clear(*, user: User) -> None:
    """Lift the lockout on the account's sign-in names after its password was reset: the
    emailed link proved that the person owns the mailbox, and the lockout page tells them to
    reset, so the new password must work at once rather than after the cool-off. The names
    are those the lockout counts (civic311.security.login_username): every address of the
    account in lower case, and the staff login's username."""
    addresses = EmailAddress.objects.filter(user=user).values_list("email", flat=True)
    names = {email.strip().lower() for email in [*addresses, user.email] if email}
    names.add(user.get_username())
    for name in sorted(names):
        axes_reset(username=name)
