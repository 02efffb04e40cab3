"""The write layer of adoptions: every change to assets, adoptions and care visits goes
through a function here (validate, save in one transaction, queue work after the commit).

- `adoptions`: adopting, releasing, ending (by staff, by lapse, by account deletion),
  unsubscribing from reminders and subscribing again, new due dates after a cadence change,
  staff removing nicknames.
- `care`: logging a care visit (with its photo), hiding a care photo or note, staff
  deleting visits (the due dates follow).
- `assets`: importing assets from a city's file (upsert, deactivate the missing), staff
  deactivating or reactivating one asset by hand as an import would.
- `reminders`: the daily reminders and lapses.
"""

from adoptions.services.adoptions import (
    adoption_end,
    adoption_release,
    adoption_resubscribe,
    adoption_start,
    adoption_unsubscribe,
    adoptions_end_for_account,
    adoptions_nickname_remove,
    adoptions_reschedule,
)
from adoptions.services.assets import asset_active_set, assets_import
from adoptions.services.care import (
    care_log_add,
    care_logs_delete,
    care_note_hide,
    care_photo_hide,
)
from adoptions.services.reminders import reminders_send

__all__ = [
    "adoption_end",
    "adoption_release",
    "adoption_resubscribe",
    "adoption_start",
    "adoption_unsubscribe",
    "adoptions_end_for_account",
    "adoptions_nickname_remove",
    "adoptions_reschedule",
    "asset_active_set",
    "assets_import",
    "care_log_add",
    "care_logs_delete",
    "care_note_hide",
    "care_photo_hide",
    "reminders_send",
]
